"""Stripe Connect onboarding: account.updated through the signed webhook, Express accounts and links."""

import pytest

from bookings.models import StripeEvent
from cacaotours.core.models import PayoutMethod
from cooperatives import services
from cooperatives.services import LedgerError
from tests.bookings.helpers import post_event
from tests.factories import CommunityFundFactory, CooperativeFactory, FarmFactory

pytestmark = pytest.mark.django_db

ACCOUNT = "acct_1Onboarding"


@pytest.fixture(params=["cooperative", "fund", "farm"])
def recipient(request):
    factory = {"cooperative": CooperativeFactory, "fund": CommunityFundFactory, "farm": FarmFactory}[request.param]
    return factory(payout_method=PayoutMethod.STRIPE_CONNECT, stripe_account_id=ACCOUNT)


def deliver(client, event, capture):
    with capture(execute=True):
        response = post_event(client, event)
    assert response.status_code == 200
    return StripeEvent.objects.get(event_id=event["id"])


def test_account_updated_enables_and_disables_transfers_for_the_matching_recipient(
    client, stripe_server, recipient, django_capture_on_commit_callbacks
):
    stripe_server.add_account(ACCOUNT, transfers="inactive")
    other = CooperativeFactory(payout_method=PayoutMethod.STRIPE_CONNECT, stripe_account_id="acct_1SomeoneElse")
    assert recipient.stripe_transfers_enabled is False

    event = deliver(client, stripe_server.account_updated_event(ACCOUNT, "active"), django_capture_on_commit_callbacks)

    assert (event.type, event.status) == ("account.updated", StripeEvent.Status.PROCESSED)
    recipient.refresh_from_db()
    other.refresh_from_db()
    assert (recipient.stripe_transfers_enabled, other.stripe_transfers_enabled) == (True, False)
    assert recipient.can_receive_stripe_transfers is True

    deliver(client, stripe_server.account_updated_event(ACCOUNT, "inactive"), django_capture_on_commit_callbacks)

    recipient.refresh_from_db()
    assert recipient.stripe_transfers_enabled is False


def test_transfers_active_but_payouts_disabled_is_not_enabled(
    client, stripe_server, recipient, django_capture_on_commit_callbacks
):
    stripe_server.add_account(ACCOUNT, transfers="inactive")
    event = stripe_server.account_updated_event(ACCOUNT, "active", payouts_enabled=False)

    deliver(client, event, django_capture_on_commit_callbacks)

    recipient.refresh_from_db()
    assert recipient.stripe_transfers_enabled is False


def test_an_unsigned_account_updated_event_changes_nothing(
    client, stripe_server, recipient, django_capture_on_commit_callbacks
):
    stripe_server.add_account(ACCOUNT, transfers="inactive")
    event = stripe_server.account_updated_event(ACCOUNT, "active")

    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, event, secret="whsec_wrong")

    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0
    recipient.refresh_from_db()
    assert recipient.stripe_transfers_enabled is False


def test_onboarding_creates_one_express_account_and_a_link(stripe_server):
    fund = CommunityFundFactory(payout_method=PayoutMethod.NONE)
    urls = {"refresh_url": "https://kallpa.example/portal/stripe/refresh", "return_url": "https://kallpa.example/ok"}

    first = services.connected_account_onboarding_link(recipient=fund, **urls)
    second = services.connected_account_onboarding_link(recipient=fund, **urls)

    [create] = stripe_server.requests_to("POST", "/v1/accounts")
    assert create.idempotency_key == f"express-account-fund-{fund.pk}"
    assert create.params == {
        "type": "express",
        "country": "PE",
        "email": "",
        "metadata": {"recipient": f"fund:{fund.pk}"},
        "capabilities": {"transfers": {"requested": "true"}},
    }
    [account_id] = stripe_server.accounts
    fund.refresh_from_db()
    assert fund.stripe_account_id == account_id
    assert stripe_server.accounts[account_id]["capabilities"] == {"transfers": "inactive"}
    links = stripe_server.requests_to("POST", "/v1/account_links")
    assert [r.params for r in links] == [{"account": account_id, "type": "account_onboarding", **urls}] * 2
    assert first.startswith(f"https://connect.stripe.com/setup/e/{account_id}/")
    assert second.startswith(f"https://connect.stripe.com/setup/e/{account_id}/") and second != first


def test_onboarding_needs_stripe():
    fund = CommunityFundFactory(payout_method=PayoutMethod.NONE)

    with pytest.raises(LedgerError, match="onboarding needs STRIPE_SECRET_KEY"):
        services.connected_account_onboarding_link(
            recipient=fund, refresh_url="https://a.example", return_url="https://b.example"
        )

    fund.refresh_from_db()
    assert fund.stripe_account_id == ""
