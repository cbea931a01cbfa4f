"""Payout details: leaders ask for a change in the portal, staff approve or reject it in the admin."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from cacaotours.core.models import PayoutMethod
from cooperatives import portal_services as services
from cooperatives.models import Cooperative, PayoutChangeRequest

from . import test_portal_fixtures as shared
from .conftest import COOP_ACCOUNT
from .test_portal_fixtures import LEADER_EMAIL, es

pytestmark = pytest.mark.django_db

# fixtures shared by the portal tests
leader = shared.leader
leader_client = shared.leader_client
NEW_CCI = "00219300998877665544"
BANK = {
    "payout_method": "bank_transfer",
    "bank_name": "Caja Cusco",
    "bank_account_holder": "Cooperativa Agraria Cacaotera de Quillabamba",
    "bank_cci": "002-193-00998877665544",  # dashes and spaces are ignored
    "note": "Nueva cuenta aprobada en asamblea",
}
PAYOUT_FIELDS = (
    "payout_method",
    "stripe_account_id",
    "stripe_transfers_enabled",
    "bank_name",
    "bank_account_holder",
    "bank_cci",
)


@pytest.fixture
def staff_client(staff_user):
    """Staff in their own browser (the ``client`` fixture is the leader's)."""
    browser = Client()
    browser.force_login(staff_user)
    return browser


def _details(coop) -> tuple:
    return tuple(Cooperative.objects.filter(pk=coop.pk).values_list(*PAYOUT_FIELDS).get())


def _send(leader_client, coop, data, capture):
    with capture(execute=True):
        return leader_client.post(es("payout_settings", kind="c", pk=coop.pk), data)


def _decide(staff_client, request, action, capture, note=""):
    with capture(execute=True):
        if note:
            url = reverse("admin:cooperatives_payoutchangerequest_change", args=[request.pk])
            return staff_client.post(url, {"decision_note": note, f"_{action}": "1"})
        url = reverse("admin:cooperatives_payoutchangerequest_changelist")
        return staff_client.post(url, {"action": action, "_selected_action": [request.pk]})


def test_the_settings_page_masks_the_account_and_the_cci(leader_client, coop, fund):
    html = leader_client.get(es("payout_settings", kind="c", pk=coop.pk)).content.decode()

    assert COOP_ACCOUNT not in html
    assert f"acct_••••{COOP_ACCOUNT[-4:]}" in html
    assert "Stripe" in html and "STRIPE_SECRET_KEY" not in html
    Cooperative.objects.filter(pk=coop.pk).update(
        payout_method=PayoutMethod.BANK_TRANSFER, bank_account_holder="Coop", bank_cci="00219300123456781234"
    )
    html = leader_client.get(es("payout_settings", kind="c", pk=coop.pk)).content.decode()
    assert "00219300123456781234" not in html
    assert "•••• •••• •••• 1234" in html


def test_a_request_is_created_and_staff_are_told(leader_client, coop, staff_user, django_capture_on_commit_callbacks):
    before = _details(coop)

    response = _send(leader_client, coop, BANK, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    request = PayoutChangeRequest.objects.get()
    assert (request.status, request.payout_method, request.bank_cci, request.requested_by.email) == (
        "pending",
        "bank_transfer",
        NEW_CCI,
        LEADER_EMAIL,
    )
    assert _details(coop) == before  # nothing applies before staff approve
    [message] = mail.outbox
    assert set(message.to) == {"reservas@kallpa.example", staff_user.email}
    assert NEW_CCI not in message.body and "5544" in message.body  # masked in e-mail
    assert f"/cooperatives/payoutchangerequest/{request.pk}/change/" in message.body


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({**BANK, "bank_cci": "0021930099887766554"}, "bank_cci"),  # 19 digits
        ({**BANK, "bank_cci": "0021930099887766554X"}, "bank_cci"),
        ({**BANK, "bank_cci": ""}, "bank_cci"),
        ({**BANK, "bank_account_holder": "  "}, "bank_account_holder"),
        ({"payout_method": "stripe_connect", "stripe_account_id": "acct 123"}, "stripe_account_id"),
        ({"payout_method": "stripe_connect", "stripe_account_id": ""}, "stripe_account_id"),
        ({"payout_method": "none"}, "payout_method"),
    ],
)
def test_invalid_details_are_refused(leader_client, coop, data, field, django_capture_on_commit_callbacks):
    response = _send(leader_client, coop, data, django_capture_on_commit_callbacks)

    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert PayoutChangeRequest.objects.count() == 0
    assert mail.outbox == []


def test_the_service_refuses_a_bad_cci_too(coop, leader):
    with translation.override("en"), pytest.raises(services.PortalError, match="20 digits"):
        services.payout_change_request_create(
            organisation=coop, user=leader, payout_method="bank_transfer", bank_account_holder="X", bank_cci="123"
        )
    assert PayoutChangeRequest.objects.count() == 0


def test_one_pending_request_at_a_time(leader_client, coop, django_capture_on_commit_callbacks):
    _send(leader_client, coop, BANK, django_capture_on_commit_callbacks)

    page = leader_client.get(es("payout_settings", kind="c", pk=coop.pk)).content.decode()
    response = _send(leader_client, coop, {**BANK, "bank_cci": "1" * 20}, django_capture_on_commit_callbacks)

    assert 'name="bank_cci"' not in page  # the form is replaced by the pending request
    assert response.status_code == 409
    assert "already waiting" in response.content.decode() or "espera" in response.content.decode()
    assert PayoutChangeRequest.objects.count() == 1
    with translation.override("en"), pytest.raises(services.PortalError, match="already waiting"):
        services.payout_change_request_create(
            organisation=coop,
            user=response.wsgi_request.user,
            payout_method="bank_transfer",
            bank_account_holder="X",
            bank_cci="1" * 20,
        )


def test_approval_in_the_admin_applies_the_details_and_tells_both_sides(
    leader_client, staff_client, coop, staff_user, django_capture_on_commit_callbacks
):
    _send(leader_client, coop, BANK, django_capture_on_commit_callbacks)
    request = PayoutChangeRequest.objects.get()
    mail.outbox.clear()

    response = _decide(staff_client, request, "approve", django_capture_on_commit_callbacks)

    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("approved", staff_user)
    assert request.decided_at is not None
    assert _details(coop) == (
        "bank_transfer",
        "",
        False,
        "Caja Cusco",
        "Cooperativa Agraria Cacaotera de Quillabamba",
        NEW_CCI,
    )
    requester, staff = mail.outbox
    assert requester.to == [LEADER_EMAIL]
    assert "/es/portal/c/" in requester.body  # the leader prefers Spanish
    assert set(staff.to) == {"reservas@kallpa.example", staff_user.email}

    # deciding again changes nothing
    before = _details(coop)
    _decide(staff_client, request, "reject", django_capture_on_commit_callbacks)
    request.refresh_from_db()
    assert request.status == "approved" and _details(coop) == before


def test_rejection_keeps_the_details_and_sends_the_note(
    leader_client, staff_client, coop, django_capture_on_commit_callbacks
):
    before = _details(coop)
    _send(leader_client, coop, BANK, django_capture_on_commit_callbacks)
    request = PayoutChangeRequest.objects.get()
    mail.outbox.clear()

    response = _decide(
        staff_client, request, "reject", django_capture_on_commit_callbacks, note="El titular no coincide con la RUC."
    )

    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.decision_note) == ("rejected", "El titular no coincide con la RUC.")
    assert _details(coop) == before
    requester, staff = mail.outbox
    assert "El titular no coincide con la RUC." in requester.body
    assert requester.to == [LEADER_EMAIL]
    assert "El titular no coincide con la RUC." in staff.body
    # a new request can be sent once the previous one is decided
    assert _send(leader_client, coop, BANK, django_capture_on_commit_callbacks).status_code == 302


def test_a_stripe_request_switches_the_method_and_waits_for_stripe(
    leader_client, staff_client, coop, django_capture_on_commit_callbacks
):
    Cooperative.objects.filter(pk=coop.pk).update(
        payout_method=PayoutMethod.BANK_TRANSFER, bank_account_holder="Coop", bank_cci="1" * 20
    )
    _send(
        leader_client,
        coop,
        {"payout_method": "stripe_connect", "stripe_account_id": "acct_1NewQuilla9"},
        django_capture_on_commit_callbacks,
    )

    _decide(staff_client, PayoutChangeRequest.objects.get(), "approve", django_capture_on_commit_callbacks)

    assert _details(coop) == ("stripe_connect", "acct_1NewQuilla9", False, "", "", "")


def test_onboarding_without_stripe_is_explained(leader_client, coop):
    response = leader_client.post(es("stripe_onboarding", kind="c", pk=coop.pk), follow=True)

    assert response.status_code == 200
    assert "Stripe" in response.content.decode()
    assert list(response.context["messages"])


def test_a_leader_starts_stripe_onboarding_at_the_fake_stripe(client, leader, fund, stripe_server):
    from cooperatives.models import Membership
    from tests.factories import MembershipFactory

    MembershipFactory(user=leader, cooperative=None, fund=fund, role=Membership.Role.LEADER)
    client.force_login(leader)
    settings_url = es("payout_settings", kind="f", pk=fund.pk)

    page = client.get(settings_url).content.decode()
    response = client.post(es("stripe_onboarding", kind="f", pk=fund.pk))

    assert es("stripe_onboarding", kind="f", pk=fund.pk) in page  # the POST button is offered
    fund.refresh_from_db()
    assert fund.stripe_account_id.startswith("acct_")
    assert response.status_code == 302
    assert response["Location"].startswith(f"https://connect.stripe.com/setup/e/{fund.stripe_account_id}/")
    [link] = stripe_server.requests_to("POST", "/v1/account_links")
    assert link.params["return_url"] == f"http://testserver{settings_url}?stripe=listo"
    assert link.params["refresh_url"] == f"http://testserver{settings_url}?stripe=vencido"
    assert fund.payout_method == PayoutMethod.BANK_TRANSFER  # the method changes only through a request
