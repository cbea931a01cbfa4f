"""Staff cancel a departure: its bookings are cancelled and refunded in full through the traveller's
refund path (so the revenue shares are reversed by the refund hooks), the travellers are e-mailed,
seat holds in progress end, and a payment that arrives afterwards is refunded too.

The ledger set-up is the worked example of docs/ledger.md (tests/cooperatives/conftest.py): 15% to
the Quillabamba cooperative (Stripe Connect), 10% to the reforestation fund and 5% to Don Manuel's
farm (bank). The departure leaves in 3 days: the tour's policy would refund nothing.
"""

import pytest
from django.contrib.admin.models import CHANGE
from django.core import mail

import tests.cooperatives.conftest as ledger
from bookings import services
from bookings.models import Booking, BookingStatus, Payment, PaymentStatus, Refund
from cooperatives.models import Share
from tests.bookings.helpers import (
    checkout,
    hold,
    post_event,
    save_details,
    seats_left,
    snapshot,
    starts_in,
    transitions,
)
from tests.cooperatives.conftest import (
    assert_ledger_balanced,
    booking_equation,
    ledger_snapshot,
    pay_stripe,
    ready,
    share_rows,
)
from tests.factories import DepartureFactory, UserFactory
from tests.helpers import admin_messages, audit_trail, form_values, post_action, staff_with_permissions
from tours.models import Departure

pytestmark = pytest.mark.django_db

# The ledger fixtures (tests/cooperatives/conftest.py): recipients, share rules, the connected account.
_english = ledger._english
coop, fund, farm, rules, connect = ledger.coop, ledger.fund, ledger.farm, ledger.rules, ledger.connect

B, P, S = BookingStatus, PaymentStatus, Share.Status
CHANGELIST = "/admin/tours/departure/"
CANCEL = ("tours.view_departure", "tours.cancel_departure")
REASON = "Landslide on the road to Quillabamba"
COOP = "Quillabamba Cacao Cooperative"
FUND = "Cloud-forest reforestation fund"
FARM = "Don Manuel's farm (Huamán family)"


@pytest.fixture
def soon(tour):
    return DepartureFactory(tour=tour, starts_at=starts_in(3), capacity=10)


@pytest.fixture
def paid(client, connect, rules, soon, traveller, django_capture_on_commit_callbacks):
    """Two paid bookings on the departure: Rosa's S/ 700.00 (2 adults) and Luis's S/ 350.00."""
    rosa = ready(soon, traveller)
    pay_stripe(client, rosa, connect, django_capture_on_commit_callbacks)
    luis = ready(soon, UserFactory(email="luis@example.com", first_name="Luis", last_name="Mamani"), adults=1)
    pay_stripe(client, luis, connect, django_capture_on_commit_callbacks)
    return [Booking.objects.get(pk=rosa.pk), Booking.objects.get(pk=luis.pk)]


@pytest.fixture
def paying(soon):
    """Ana is at the checkout: seats held, details given, not paid yet."""
    return save_details(hold(soon, UserFactory(email="ana@example.com", first_name="Ana"), adults=1))


@pytest.fixture
def operator(client):
    user = staff_with_permissions(*CANCEL)
    client.force_login(user)
    return user


def cancel_through_admin(client, departure, capture, **fields):
    data = {"apply": "yes", "reason": REASON, "confirm": "on", **fields}
    with capture(execute=True):
        return post_action(client, CHANGELIST, "cancel_departures", [departure], **data)


def test_cancelling_a_departure_refunds_every_booking_in_full_and_reverses_the_shares(
    client,
    operator,
    soon,
    paid,
    paying,
    connect,
    django_capture_on_commit_callbacks,
):
    rosa, luis = paid
    mail.outbox.clear()

    response = cancel_through_admin(client, soon, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert Departure.objects.get(pk=soon.pk).status == Departure.Status.CANCELLED
    for booking, amount in ((rosa, 70000), (luis, 35000)):
        booking.refresh_from_db()
        payment = Payment.objects.get(booking=booking)
        refund = Refund.objects.get(payment=payment)
        assert booking.status == B.REFUNDED
        assert (payment.status, payment.amount_received, payment.amount_refunded) == (P.REFUNDED, amount, amount)
        assert (refund.amount, refund.status, refund.reason, refund.created_by, refund.idempotency_key) == (
            amount,
            Refund.Status.SUCCEEDED,
            REASON,
            operator,
            f"refund-{payment.pk}-1",
        )
        assert transitions(booking)[-2:] == [
            (B.CONFIRMED, B.CANCELLED, operator.email, REASON),
            (B.CANCELLED, B.REFUNDED, None, f"refund {refund.stripe_refund_id}"),
        ]
        assert booking_equation(booking) == (0, 0)
    assert sorted(call.params["amount"] for call in connect.requests_to("POST", "/v1/refunds")) == [35000, 70000]
    assert share_rows(rosa) == [
        (COOP, 10500, 10500, 0, S.REVERSED, "stripe", False),
        (FUND, 7000, 7000, 0, S.REVERSED, "bank", False),
        (FARM, 3500, 3500, 0, S.REVERSED, "bank", False),
    ]
    assert share_rows(luis) == [
        (COOP, 5250, 5250, 0, S.REVERSED, "stripe", False),
        (FUND, 3500, 3500, 0, S.REVERSED, "bank", False),
        (FARM, 1750, 1750, 0, S.REVERSED, "bank", False),
    ]
    assert sorted(call.params["amount"] for call in connect.requests_to("POST", "/v1/transfers/*")) == [5250, 10500]
    assert_ledger_balanced()
    paying.refresh_from_db()
    assert paying.status == B.EXPIRED and paying.hold.released_at is not None
    assert seats_left(soon) == 10
    assert sorted((m.to[0], m.subject) for m in mail.outbox) == [
        ("luis@example.com", f"Departure cancelled, full refund: Quillabamba Cacao Day ({luis.reference})"),
        ("rosa@example.com", f"Departure cancelled, full refund: Quillabamba Cacao Day ({rosa.reference})"),
    ]
    rosa_mail = next(m for m in mail.outbox if m.to == ["rosa@example.com"])
    assert "We are refunding S/ 700.00 to the card you paid with." in rosa_mail.body
    assert REASON not in rosa_mail.body
    assert admin_messages(response) == [f"{soon}: Cancelled departure; 2 bookings refunded."]
    assert audit_trail(soon) == [
        (CHANGE, f"Cancelled departure; 2 bookings refunded. Reason: {REASON}", operator.email)
    ]
    assert audit_trail(rosa) == [
        (CHANGE, f"Cancelled with its departure; full refund of S/ 700.00 requested. Reason: {REASON}", operator.email)
    ]
    assert audit_trail(paying) == [(CHANGE, f"Seat hold ended: departure cancelled. Reason: {REASON}", operator.email)]


def test_the_action_first_shows_what_will_be_cancelled_and_needs_a_confirmation(
    client, operator, soon, paid, django_capture_on_commit_callbacks
):
    rosa, luis = paid
    before, ledger_before = snapshot(), ledger_snapshot()

    page = post_action(client, CHANGELIST, "cancel_departures", [soon]).content.decode()
    values = form_values(page)
    unconfirmed = cancel_through_admin(client, soon, django_capture_on_commit_callbacks, confirm="")

    assert (values["action"], values["_selected_action"], values["apply"]) == ("cancel_departures", str(soon.pk), "yes")
    assert rosa.reference in page and luis.reference in page and "S/ 700.00" in page
    assert unconfirmed.status_code == 200
    assert "This field is required." in unconfirmed.content.decode()
    assert (snapshot(), ledger_snapshot()) == (before, ledger_before)
    assert Departure.objects.get(pk=soon.pk).status == Departure.Status.OPEN


def test_cancelling_needs_the_cancel_permission(client, soon, paid, django_capture_on_commit_callbacks):
    client.force_login(staff_with_permissions("tours.view_departure", "tours.change_departure"))
    before, ledger_before = snapshot(), ledger_snapshot()

    cancel_through_admin(client, soon, django_capture_on_commit_callbacks)

    assert (snapshot(), ledger_snapshot()) == (before, ledger_before)
    assert Departure.objects.get(pk=soon.pk).status == Departure.Status.OPEN
    assert audit_trail(soon) == []
    assert 'value="cancel_departures"' not in client.get(CHANGELIST).content.decode()


def test_a_departure_that_started_cannot_be_cancelled(
    client, operator, tour, traveller, django_capture_on_commit_callbacks
):
    started = DepartureFactory(tour=tour, starts_at=starts_in(0, hour=0), capacity=10)
    before = snapshot()

    response = cancel_through_admin(client, started, django_capture_on_commit_callbacks)

    assert admin_messages(response) == [f"{started} has already started; it cannot be cancelled."]
    assert Departure.objects.get(pk=started.pk).status == Departure.Status.OPEN
    assert snapshot() == before
    assert audit_trail(started) == []


def test_cancelling_again_finishes_nothing_twice(soon, paid, django_capture_on_commit_callbacks):
    staff = UserFactory(email="ops@kallpa.example", is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.departure_cancel_with_bookings(departure_id=soon.pk, actor=staff, reason=REASON)
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        again = services.departure_cancel_with_bookings(departure_id=soon.pk, actor=staff, reason=REASON)

    assert (first.departure_cancelled, len(first.refunded)) == (True, 2)
    assert (again.departure_cancelled, again.refunded, again.released) == (False, [], [])
    assert snapshot() == before


def test_an_interrupted_cancellation_is_finished_by_running_it_again(soon, paid, django_capture_on_commit_callbacks):
    Departure.objects.filter(pk=soon.pk).update(status=Departure.Status.CANCELLED)  # the bookings' side never ran
    staff = UserFactory(email="ops@kallpa.example", is_staff=True)

    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.departure_cancel_with_bookings(departure_id=soon.pk, actor=staff, reason=REASON)

    assert outcome.departure_cancelled is False
    assert [booking.pk for booking, _refunds in outcome.refunded] == [paid[0].pk, paid[1].pk]
    assert set(Booking.objects.values_list("status", flat=True)) == {B.REFUNDED}


def test_a_payment_that_arrives_after_the_cancellation_is_refunded_and_the_traveller_told(
    client, stripe_server, soon, traveller, django_capture_on_commit_callbacks
):
    booking = save_details(hold(soon, traveller, adults=2))
    payment = checkout(booking)
    event = stripe_server.complete_session(payment.checkout_session_id)
    staff = UserFactory(email="ops@kallpa.example", is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.departure_cancel_with_bookings(departure_id=soon.pk, actor=staff, reason=REASON)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, event).status_code == 200

    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == B.REFUNDED
    assert (payment.status, payment.amount_refunded) == (P.REFUNDED, 70000)
    assert Refund.objects.get().amount == 70000
    [message] = mail.outbox
    assert message.subject == f"Departure cancelled, full refund: Quillabamba Cacao Day ({booking.reference})"
