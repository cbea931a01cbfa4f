"""Cancellation: the refund policy, refunds through Stripe, and ownership."""

from datetime import timedelta

import pytest
import stripe
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.http import Http404
from django.utils import timezone

from bookings import selectors, services
from bookings.models import Booking, BookingStatus, PaymentStatus, Refund
from bookings.services import BookingError
from tests.bookings.helpers import hold, pay_simulated, pay_with_stripe, save_details, seats_left, snapshot, starts_in
from tests.factories import DepartureFactory, TourFactory, UserFactory

B = BookingStatus
P = PaymentStatus


def confirmed_booking(tour, user, capture, *, days: int, adults=2, children=1) -> Booking:
    departure = DepartureFactory(tour=tour, starts_at=starts_in(days), capacity=10)
    return pay_simulated(save_details(hold(departure, user, adults=adults, children=children)), capture)


# -- the policy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "percent", "amount"),
    [(60, 100, 87500), (14, 100, 87500), (13, 50, 43750), (7, 50, 43750), (6, 0, 0), (1, 0, 0)],
)
@pytest.mark.django_db
def test_default_policy(tour, traveller, days, percent, amount, django_capture_on_commit_callbacks):
    booking = confirmed_booking(tour, traveller, django_capture_on_commit_callbacks, days=days)

    quote = services.booking_refund_quote(booking=booking)

    assert (quote.days_before, quote.percent, quote.amount.amount, quote.amount.currency) == (
        days,
        percent,
        amount,
        "PEN",
    )
    assert quote.is_full is (percent == 100)


@pytest.mark.parametrize(
    ("days", "percent", "amount"),
    [(30, 100, 87500), (29, 25, 21875), (10, 25, 21875), (9, 0, 0)],
)
@pytest.mark.django_db
def test_policy_per_tour(traveller, days, percent, amount, django_capture_on_commit_callbacks):
    tour = TourFactory(
        adult_price=35000, child_price=17500, full_refund_days=30, partial_refund_days=10, partial_refund_percent=25
    )
    booking = confirmed_booking(tour, traveller, django_capture_on_commit_callbacks, days=days)

    quote = services.booking_refund_quote(booking=booking)

    assert (quote.days_before, quote.percent, quote.amount.amount) == (days, percent, amount)


@pytest.mark.django_db
def test_partial_refund_rounds_down_to_the_minor_unit(traveller, django_capture_on_commit_callbacks):
    tour = TourFactory(adult_price=33333, child_price=None, currency="USD")
    booking = confirmed_booking(tour, traveller, django_capture_on_commit_callbacks, days=10, adults=1, children=0)

    quote = services.booking_refund_quote(booking=booking)

    assert quote.amount.amount == 16666
    assert quote.amount.format() == "US$ 166.66"


@pytest.mark.django_db
def test_policy_counts_calendar_days_in_lima(tour, traveller, django_capture_on_commit_callbacks):
    """At 23:59 in Lima, 14 days before a 09:00 start still counts as 14 days."""
    booking = confirmed_booking(tour, traveller, django_capture_on_commit_callbacks, days=20)
    start = timezone.localtime(booking.departure.starts_at)
    late_evening = (start - timedelta(days=14)).replace(hour=23, minute=59)

    quote = services.booking_refund_quote(booking=booking, now=late_evening)

    assert (quote.days_before, quote.percent) == (14, 100)
    assert services.booking_refund_quote(booking=booking, now=late_evening + timedelta(minutes=1)).percent == 50


# -- cancelling through Stripe ---------------------------------------------------------------


def paid_booking(client, server, departure_days, user, capture) -> Booking:
    departure = DepartureFactory(
        tour=TourFactory(adult_price=35000, child_price=17500), starts_at=starts_in(departure_days), capacity=10
    )
    booking = save_details(hold(departure, user, adults=2, children=1))
    booking, _event = pay_with_stripe(client, booking, server, capture)
    return booking


@pytest.mark.django_db
def test_cancel_in_time_refunds_everything_through_stripe(
    client, stripe_server, traveller, django_capture_on_commit_callbacks
):
    booking = paid_booking(client, stripe_server, 20, traveller, django_capture_on_commit_callbacks)
    payment = booking.payments.get()
    mails_before = len(mail.outbox)

    with django_capture_on_commit_callbacks(execute=True):
        booking, refund = services.booking_cancel(booking=booking, actor=traveller, reason="change of plans")

    booking.refresh_from_db()
    refund.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == B.REFUNDED
    assert booking.cancelled_at is not None
    assert (refund.amount, refund.status, refund.reason, refund.created_by) == (
        87500,
        Refund.Status.SUCCEEDED,
        "change of plans",
        traveller,
    )
    assert refund.idempotency_key == f"refund-{payment.pk}-1"
    [call] = stripe_server.requests_to("POST", "/v1/refunds")
    assert call.idempotency_key == f"refund-{payment.pk}-1"
    assert call.params == {
        "payment_intent": payment.payment_intent_id,
        "amount": 87500,
        "metadata": {"booking": booking.reference, "refund_id": str(refund.pk)},
    }
    assert stripe_server.refunds[refund.stripe_refund_id]["status"] == "succeeded"
    assert (payment.status, payment.amount_refunded) == (P.REFUNDED, 87500)
    assert booking.hold.released_at is not None
    assert seats_left(booking.departure) == 10
    assert len(mail.outbox) == mails_before + 1
    assert mail.outbox[-1].to == ["rosa@example.com"]
    assert booking.reference in mail.outbox[-1].subject


@pytest.mark.django_db
def test_cancel_a_week_before_refunds_half(client, stripe_server, traveller, django_capture_on_commit_callbacks):
    booking = paid_booking(client, stripe_server, 10, traveller, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        booking, refund = services.booking_cancel(booking=booking, actor=traveller, reason="ill")

    booking.refresh_from_db()
    payment = booking.payments.get()
    refund.refresh_from_db()
    assert booking.status == B.CANCELLED
    assert (refund.amount, refund.status) == (43750, Refund.Status.SUCCEEDED)
    assert stripe_server.requests_to("POST", "/v1/refunds")[0].params["amount"] == 43750
    assert (payment.status, payment.amount_refunded) == (P.PARTIALLY_REFUNDED, 43750)
    assert stripe_server.charges[payment.charge_id]["amount_refunded"] == 43750


@pytest.mark.django_db
def test_cancel_late_refunds_nothing(client, stripe_server, traveller, django_capture_on_commit_callbacks):
    booking = paid_booking(client, stripe_server, 3, traveller, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        booking, refund = services.booking_cancel(booking=booking, actor=traveller, reason="ill")

    booking.refresh_from_db()
    assert refund is None
    assert booking.status == B.CANCELLED
    assert Refund.objects.count() == 0
    assert stripe_server.requests_to("POST", "/v1/refunds") == []
    assert booking.payments.get().status == P.SUCCEEDED
    assert booking.hold.released_at is not None


@pytest.mark.django_db
def test_a_refund_survives_a_stripe_error_with_the_same_idempotency_key(
    client, stripe_server, traveller, django_capture_on_commit_callbacks
):
    booking = paid_booking(client, stripe_server, 20, traveller, django_capture_on_commit_callbacks)
    stripe_server.fail_next(1, status=500)

    with django_capture_on_commit_callbacks(execute=True):
        _booking, refund = services.booking_cancel(booking=booking, actor=traveller, reason="x")

    calls = stripe_server.requests_to("POST", "/v1/refunds")
    assert [(c.status, c.idempotency_key) for c in calls] == [
        (500, refund.idempotency_key),
        (200, refund.idempotency_key),
    ]
    assert len(stripe_server.refunds) == 1


@pytest.mark.django_db
def test_a_lost_refund_answer_is_replayed_not_refunded_twice(
    client, stripe_server, traveller, django_capture_on_commit_callbacks
):
    """Stripe made the refund but our worker never heard back; its retry gets the same refund."""
    booking = paid_booking(client, stripe_server, 20, traveller, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):  # record the refund, do not run the task yet
        _booking, refund = services.booking_cancel(booking=booking, actor=traveller, reason="x")
    stripe_server.fail_next(3, status=500, after_running=True)

    with pytest.raises(stripe.APIError):
        services.refund_execute(refund_id=refund.pk)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PENDING

    services.refund_execute(refund_id=refund.pk)

    refund.refresh_from_db()
    [stripe_refund] = stripe_server.refunds.values()
    assert (refund.status, refund.stripe_refund_id) == (Refund.Status.SUCCEEDED, stripe_refund["id"])
    assert stripe_server.requests[-1].replayed is True
    assert stripe_server.charges[booking.payments.get().charge_id]["amount_refunded"] == 87500
    # A redelivered task does not call Stripe again.
    calls = len(stripe_server.requests)
    services.refund_execute(refund_id=refund.pk)
    assert len(stripe_server.requests) == calls


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cancelling_twice_is_refused_and_changes_nothing(tour, traveller, django_capture_on_commit_callbacks):
    booking = confirmed_booking(tour, traveller, django_capture_on_commit_callbacks, days=20)
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(booking=booking, actor=traveller, reason="first")
    before = snapshot()

    with pytest.raises(BookingError) as excinfo:
        services.booking_cancel(booking=booking, actor=traveller, reason="second")

    assert str(excinfo.value) == "Only a confirmed booking can be cancelled."
    assert snapshot() == before


@pytest.mark.django_db
def test_a_held_booking_cannot_be_cancelled(held_booking, traveller):
    before = snapshot()

    with pytest.raises(BookingError) as excinfo:
        services.booking_cancel(booking=held_booking, actor=traveller, reason="x")

    assert str(excinfo.value) == "Only a confirmed booking can be cancelled."
    assert snapshot() == before


@pytest.mark.django_db
def test_a_started_tour_cannot_be_cancelled(tour, traveller, django_capture_on_commit_callbacks):
    booking = confirmed_booking(tour, traveller, django_capture_on_commit_callbacks, days=2)
    before = snapshot()

    with pytest.raises(BookingError) as excinfo:
        services.booking_cancel(
            booking=booking, actor=traveller, reason="x", now=booking.departure.starts_at + timedelta(minutes=1)
        )

    assert str(excinfo.value) == "This tour has already started."
    assert snapshot() == before


# -- ownership ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_selectors_hide_other_travellers_bookings(held_booking, traveller):
    assert selectors.booking_get_for_user(user=traveller, reference=held_booking.reference.lower()) == held_booking
    with pytest.raises(Http404):
        selectors.booking_get_for_user(user=UserFactory(), reference=held_booking.reference)
    with pytest.raises(Http404):
        selectors.booking_get_for_user(user=AnonymousUser(), reference=held_booking.reference)
    assert list(selectors.booking_list_for_user(user=UserFactory())) == []


@pytest.mark.django_db
def test_cancelling_another_travellers_booking_is_a_404(client, tour, traveller, django_capture_on_commit_callbacks):
    booking = confirmed_booking(tour, traveller, django_capture_on_commit_callbacks, days=20)
    client.force_login(UserFactory())
    before = snapshot()

    response = client.post(f"/bookings/{booking.reference}/cancel/", {"confirm": "on", "reason": "mine now"})

    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.django_db
def test_the_traveller_cancels_from_the_cancel_page(client, tour, traveller, django_capture_on_commit_callbacks):
    booking = confirmed_booking(tour, traveller, django_capture_on_commit_callbacks, days=20)
    client.force_login(traveller)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/bookings/{booking.reference}/cancel/", {"confirm": "on", "reason": ""})

    assert response.status_code == 302
    assert response["Location"] == f"/bookings/{booking.reference}/"
    booking.refresh_from_db()
    assert booking.status == B.REFUNDED
    assert booking.transitions.get(to_status=B.CANCELLED).reason == "cancelled by traveller"
    assert booking.payments.get().amount_refunded == 87500


@pytest.mark.django_db
def test_the_cancel_page_turns_away_a_booking_that_is_not_confirmed(client, held_booking, traveller):
    client.force_login(traveller)
    before = snapshot()

    response = client.post(f"/bookings/{held_booking.reference}/cancel/", {"confirm": "on"})

    assert response.status_code == 302
    assert response["Location"] == f"/bookings/{held_booking.reference}/"
    assert snapshot() == before
