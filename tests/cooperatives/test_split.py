"""The split: a confirmed payment becomes one share per rule, a balanced entry and outbox rows."""

import hashlib

import pytest

from bookings import services as booking_services
from bookings.models import Booking, BookingStatus, Payment, PaymentStatus, StripeEvent
from cooperatives import services
from cooperatives.models import JournalEntry, OutboxMessage, Share, ShareTransition
from tests.bookings.helpers import checkout, post_event
from tests.factories import ShareRuleFactory

from .conftest import (
    assert_ledger_balanced,
    booking_equation,
    entries,
    ledger_snapshot,
    legs_of,
    pay_simulated,
    pay_stripe,
    ready,
    share_rows,
    shares_of,
)

pytestmark = pytest.mark.django_db
S = Share.Status

SPLIT_LEGS = [
    ("clearing", "PEN", 70000),
    ("payable:Quillabamba Cacao Cooperative", "PEN", -10500),
    ("payable:Cloud-forest reforestation fund", "PEN", -7000),
    ("payable:Don Manuel's farm (Huamán family)", "PEN", -3500),
    ("revenue", "PEN", -49000),
]


def test_paying_creates_one_share_per_rule_a_balanced_split_and_outbox_rows(
    booking, django_capture_on_commit_callbacks
):
    payment = pay_simulated(booking, django_capture_on_commit_callbacks, execute=False)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    coop_share, fund_share, farm_share = shares_of(booking)
    assert share_rows(booking) == [
        ("Quillabamba Cacao Cooperative", 10500, 0, 0, S.PENDING, "", False),
        ("Cloud-forest reforestation fund", 7000, 0, 0, S.PENDING, "", False),
        ("Don Manuel's farm (Huamán family)", 3500, 0, 0, S.PENDING, "", False),
    ]
    assert [(s.basis_points, s.currency, s.payment_id, s.key) for s in (coop_share, fund_share, farm_share)] == [
        (1500, "PEN", payment.pk, f"{payment.pk}:cooperative:{coop_share.cooperative_id}"),
        (1000, "PEN", payment.pk, f"{payment.pk}:fund:{fund_share.fund_id}"),
        (500, "PEN", payment.pk, f"{payment.pk}:farm:{farm_share.farm_id}"),
    ]
    [split] = entries()
    assert (split.kind, split.booking_id, split.idempotency_key) == ("split", booking.pk, f"split:{payment.pk}")
    assert split.memo == f"{booking.reference}: split of S/ 700.00"
    assert legs_of(split) == SPLIT_LEGS
    assert [leg.share_id for leg in split.legs.all()] == [None, coop_share.pk, fund_share.pk, farm_share.pk, None]
    assert sum(amount for _, _, amount in legs_of(split)) == 0
    assert list(OutboxMessage.objects.order_by("id").values_list("topic", "payload", "published_at")) == [
        ("share.route", {"share_id": coop_share.pk}, None),
        ("share.route", {"share_id": fund_share.pk}, None),
        ("share.route", {"share_id": farm_share.pk}, None),
    ]
    assert list(ShareTransition.objects.order_by("id").values_list("share_id", "from_status", "to_status")) == [
        (coop_share.pk, "", S.PENDING),
        (fund_share.pk, "", S.PENDING),
        (farm_share.pk, "", S.PENDING),
    ]
    assert booking_equation(booking) == (70000, 70000)


def test_after_commit_the_relay_routes_every_share(booking, django_capture_on_commit_callbacks):
    payment = pay_simulated(booking, django_capture_on_commit_callbacks)

    coop_share = shares_of(booking)[0]
    simulated_id = "tr_sim_" + hashlib.sha256(f"share-transfer-{coop_share.pk}".encode()).hexdigest()[:24]
    assert share_rows(booking) == [
        ("Quillabamba Cacao Cooperative", 10500, 0, 0, S.TRANSFERRED, "stripe", False),
        ("Cloud-forest reforestation fund", 7000, 0, 0, S.OWED, "bank", False),
        ("Don Manuel's farm (Huamán family)", 3500, 0, 0, S.OWED, "bank", False),
    ]
    assert coop_share.transfer.stripe_transfer_id == simulated_id
    assert [e.kind for e in entries()] == ["split", "transfer"]
    assert legs_of(entries("transfer")[0]) == [
        ("payable:Quillabamba Cacao Cooperative", "PEN", 10500),
        ("clearing", "PEN", -10500),
    ]
    assert OutboxMessage.objects.filter(published_at__isnull=True).count() == 0
    assert Payment.objects.get(pk=payment.pk).charge_id == f"ch_sim_{payment.pk}"
    assert_ledger_balanced()


def test_children_are_split_too(rules, departure, traveller, django_capture_on_commit_callbacks):
    booking = ready(departure, traveller, adults=2, children=1)  # 2 × 350.00 + 175.00 = S/ 875.00

    pay_simulated(booking, django_capture_on_commit_callbacks, execute=False)

    assert [s.amount for s in shares_of(booking)] == [13125, 8750, 4375]
    assert legs_of(entries("split")[0])[-1] == ("revenue", "PEN", -61250)


def test_the_same_event_delivered_twice_splits_once(booking, django_capture_on_commit_callbacks):
    payment = pay_simulated(booking, django_capture_on_commit_callbacks)
    before = ledger_snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        event = booking_services.simulated_checkout_complete(payment=payment, outcome="pay")

    assert event.event_id == f"evt_sim_{payment.pk}_pay"
    assert StripeEvent.objects.count() == 1
    assert ledger_snapshot() == before


def test_webhook_duplicates_and_a_second_event_for_the_same_session_split_once(
    client, connect, booking, django_capture_on_commit_callbacks
):
    payment, event = pay_stripe(client, booking, connect, django_capture_on_commit_callbacks)
    before = ledger_snapshot()
    transfers_before = dict(connect.transfers)

    with django_capture_on_commit_callbacks(execute=True):
        same = post_event(client, event)
        other = post_event(client, {**event, "id": "evt_another_delivery"})

    assert (same.status_code, other.status_code) == (200, 200)
    assert list(StripeEvent.objects.order_by("id").values_list("event_id", "status")) == [
        (event["id"], "processed"),
        ("evt_another_delivery", "processed"),
    ]
    assert ledger_snapshot() == before
    assert Share.objects.filter(payment=payment).count() == 3
    assert connect.transfers == transfers_before


def test_the_split_service_is_idempotent(booking, django_capture_on_commit_callbacks):
    payment = pay_simulated(booking, django_capture_on_commit_callbacks, execute=False)
    before = ledger_snapshot()

    again = services.shares_split_on_capture(booking=Booking.objects.get(pk=booking.pk), payment=payment)

    assert sorted(s.pk for s in again) == sorted(s.pk for s in shares_of(booking))
    assert ledger_snapshot() == before


def test_rules_over_100_percent_confirm_the_booking_flag_it_and_write_no_split(
    tour, coop, fund, departure, traveller, django_capture_on_commit_callbacks
):
    # Inserted bypassing the admin (which calls share_rules_validate_total): 60% + 50%.
    ShareRuleFactory(tour=tour, cooperative=coop, basis_points=6000)
    ShareRuleFactory(tour=tour, cooperative=None, fund=fund, basis_points=5000)
    booking = ready(departure, traveller)
    payment = checkout(booking)
    ledger_before = ledger_snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        booking_services.simulated_checkout_complete(payment=payment, outcome="pay")

    # The traveller paid: the booking is confirmed (seats kept), and flagged for staff to fix
    # the rules; nothing is split, so nothing half-written reaches the ledger.
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert (booking.status, payment.status, payment.amount_received) == (
        BookingStatus.CONFIRMED,
        PaymentStatus.SUCCEEDED,
        payment.amount,
    )
    assert booking.flagged is True
    assert booking.flag_reason.startswith("Split refused: the share rules of this tour add up to more than 100%")
    assert ledger_snapshot() == ledger_before
    assert (Share.objects.count(), JournalEntry.objects.count(), OutboxMessage.objects.count()) == (0, 0, 0)
    assert StripeEvent.objects.get().status == StripeEvent.Status.PROCESSED


def test_the_stripe_fee_is_posted_from_the_balance_transaction(
    client, connect, booking, django_capture_on_commit_callbacks
):
    payment, _ = pay_stripe(client, booking, connect, django_capture_on_commit_callbacks)

    [charge] = connect.charges.values()
    assert payment.charge_id == charge["id"]
    fee = connect.fee_for(70000)
    assert fee == 2620
    [entry] = entries("fee")
    assert (entry.booking_id, entry.idempotency_key, entry.memo) == (
        booking.pk,
        f"fee:{payment.pk}",
        f"{booking.reference}: Stripe fee",
    )
    assert legs_of(entry) == [("fees", "PEN", 2620), ("clearing", "PEN", -2620)]
    # the fee is the operator's: it touches neither the shares nor the booking equation
    assert booking_equation(booking) == (70000, 70000)
    assert_ledger_balanced()


def test_a_fee_in_another_currency_or_of_zero_is_not_posted(booking, django_capture_on_commit_callbacks):
    payment = pay_simulated(booking, django_capture_on_commit_callbacks, execute=False)
    before = ledger_snapshot()

    assert services.payment_fee_post(payment=payment, fee=0, currency="PEN") is None
    assert services.payment_fee_post(payment=payment, fee=300, currency="USD") is None
    assert ledger_snapshot() == before


def test_per_booking_shares_plus_operator_revenue_equal_captured_minus_refunded(
    client, connect, booking, django_capture_on_commit_callbacks
):
    pay_stripe(client, booking, connect, django_capture_on_commit_callbacks)

    assert booking_equation(booking) == (70000, 70000)
    run = services.reconcile()
    assert (run.bookings_checked, run.issue_count) == (1, 0)


def test_a_shared_fee_is_split_like_the_payment_and_each_recipient_receives_its_share_net_of_its_part(
    client, settings, connect, booking, django_capture_on_commit_callbacks
):
    settings.LEDGER_STRIPE_FEE_BORNE_BY = "shared"
    pay_stripe(client, booking, connect, django_capture_on_commit_callbacks)

    # 2620 in proportion to 10500 / 7000 / 3500 / 49000 (15% / 10% / 5% / the operator's 70%)
    [entry] = entries("fee")
    assert legs_of(entry) == [
        ("fees", "PEN", 1834),
        ("payable:Quillabamba Cacao Cooperative", "PEN", 393),
        ("payable:Cloud-forest reforestation fund", "PEN", 262),
        ("payable:Don Manuel's farm (Huamán family)", "PEN", 131),
        ("clearing", "PEN", -2620),
    ]
    # the charge (and so the fee) is looked up before the cooperative's transfer is decided
    [remote] = connect.transfers.values()
    assert remote["amount"] == 10500 - 393
    assert share_rows(booking) == [
        ("Quillabamba Cacao Cooperative", 10500, 0, 393, S.TRANSFERRED, "stripe", False),
        ("Cloud-forest reforestation fund", 7000, 0, 0, S.OWED, "bank", False),
        ("Don Manuel's farm (Huamán family)", 3500, 0, 0, S.OWED, "bank", False),
    ]
    assert booking_equation(booking) == (70000, 70000)
    assert_ledger_balanced()


def test_an_unknown_fee_bearer_is_refused_at_start(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import cacaotours.settings.base as base

    monkeypatch.setenv("LEDGER_STRIPE_FEE_BORNE_BY", "travellers")
    with pytest.raises(ImproperlyConfigured, match='must be "operator" or "shared"'):
        importlib.reload(base)
    monkeypatch.delenv("LEDGER_STRIPE_FEE_BORNE_BY")
    importlib.reload(base)


@pytest.fixture
def refused_split(tour, coop, fund, departure, traveller, django_capture_on_commit_callbacks):
    """A paid booking whose split was refused: its tour's rules were 60% + 50%."""
    ShareRuleFactory(tour=tour, cooperative=coop, basis_points=6000)
    ShareRuleFactory(tour=tour, cooperative=None, fund=fund, basis_points=5000)
    booking = ready(departure, traveller)
    payment = checkout(booking)
    with django_capture_on_commit_callbacks(execute=True):
        booking_services.simulated_checkout_complete(payment=payment, outcome="pay")
    return booking


def split_again_through_the_admin(client, user, booking):
    from django.urls import reverse

    client.force_login(user)
    return client.post(
        reverse("admin:bookings_booking_changelist"),
        {"action": "split_payment_again", "_selected_action": [booking.pk]},
        follow=True,
    )


def test_staff_split_again_once_the_rules_are_fixed(
    client, staff_user, refused_split, django_capture_on_commit_callbacks
):
    from tours.models import ShareRule

    response = split_again_through_the_admin(client, staff_user, refused_split)
    assert "still add up to 110%: fix them first" in response.content.decode()
    assert (Share.objects.count(), JournalEntry.objects.count()) == (0, 0)

    ShareRule.objects.filter(basis_points=5000).update(basis_points=1000)
    with django_capture_on_commit_callbacks(execute=True):
        response = split_again_through_the_admin(client, staff_user, refused_split)

    assert f"{refused_split.reference}: split into 2 shares; routing is queued." in response.content.decode()
    assert [(str(s.recipient), s.amount, s.status) for s in shares_of(refused_split)] == [
        ("Quillabamba Cacao Cooperative", 42000, S.TRANSFERRED),  # 60% of S/ 700.00 (simulated checkout)
        ("Cloud-forest reforestation fund", 7000, S.OWED),
    ]
    assert booking_equation(refused_split) == (70000, 70000)
    assert_ledger_balanced()
    # a second time: refused, nothing more written
    before = ledger_snapshot()
    response = split_again_through_the_admin(client, staff_user, refused_split)
    assert "already split" in response.content.decode()
    assert ledger_snapshot() == before


def test_split_again_needs_the_ledger_permission(client, refused_split):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory
    from tours.models import ShareRule

    ShareRule.objects.filter(basis_points=5000).update(basis_points=1000)
    clerk = UserFactory(email="clerk@kallpa.example", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_booking", "change_booking"]))

    response = split_again_through_the_admin(client, clerk, refused_split)

    assert response.status_code == 200
    assert "split_payment_again" not in response.content.decode()  # not offered to this user, not run
    assert (Share.objects.count(), JournalEntry.objects.count()) == (0, 0)
