"""Holding seats, hold expiry and the booking/payment state machines."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from bookings import services, tasks
from bookings.models import Booking, BookingStatus, BookingTransition, Payment, PaymentStatus, PaymentTransition
from bookings.services import BookingError
from bookings.states import (
    BOOKING_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    InvalidTransition,
    booking_move,
    payment_move,
)
from tests.bookings.helpers import hold, pay_simulated, save_details, seats_left, snapshot, transitions
from tests.factories import DepartureFactory, TourFactory, UserFactory
from tours.models import Departure, SeatHold
from tours.services import SeatsUnavailable

B = BookingStatus
P = PaymentStatus

# -- booking_hold_seats -----------------------------------------------------------------


@pytest.mark.django_db
def test_hold_creates_a_held_booking_with_the_total_computed_by_the_server(departure, traveller):
    now = timezone.now()

    booking = hold(departure, traveller, adults=2, children=1, language="es", now=now)

    booking = Booking.objects.get(pk=booking.pk)
    assert re.fullmatch(r"KT-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}", booking.reference)
    assert booking.status == B.HELD
    assert (booking.adults, booking.children, booking.units) == (2, 1, 3)
    assert (booking.currency, booking.adult_price, booking.child_price) == ("PEN", 35000, 17500)
    assert booking.total_amount == 87500
    assert booking.total.format() == "S/ 875.00"
    assert booking.expires_at == now + timedelta(minutes=15)
    assert booking.language == "es"
    assert (booking.contact_name, booking.contact_email, booking.contact_phone) == (
        "Rosa Quispe",
        "rosa@example.com",
        "+51 984 000 111",
    )
    assert (booking.user, booking.departure) == (traveller, departure)
    assert (booking.hold.departure, booking.hold.units) == (departure, 3)
    assert booking.hold.expires_at == now + timedelta(minutes=15)
    assert booking.hold.released_at is None
    assert transitions(booking) == [("", B.HELD, "rosa@example.com", "seats held")]
    assert seats_left(departure, now) == 7


@pytest.mark.django_db
def test_hold_length_follows_the_setting(departure, traveller, settings):
    settings.BOOKING_HOLD_MINUTES = 20
    now = timezone.now()

    booking = hold(departure, traveller, now=now)

    assert booking.expires_at == now + timedelta(minutes=20)


@pytest.mark.django_db
def test_adults_only_tour_has_no_child_line(traveller):
    tour = TourFactory(adult_price=12000, child_price=None, currency="USD")
    departure = DepartureFactory(tour=tour, capacity=4)

    booking = hold(departure, traveller, adults=3, children=0)

    assert (booking.total_amount, booking.child_price, booking.currency) == (36000, 0, "USD")
    assert booking.total.format() == "US$ 360.00"


@pytest.mark.parametrize(
    ("adults", "children", "message"),
    [
        (0, 0, "A booking needs at least one adult."),
        (0, 2, "A booking needs at least one adult."),
        (-1, 0, "A booking needs at least one adult."),
        (1, -1, "The number of children cannot be negative."),
        (6, 3, "This tour takes at most 8 travellers per booking."),
        (9, 0, "This tour takes at most 8 travellers per booking."),
    ],
)
@pytest.mark.django_db
def test_hold_refuses_bad_traveller_counts_and_creates_nothing(departure, traveller, adults, children, message):
    before = snapshot()

    with pytest.raises(BookingError) as excinfo:
        hold(departure, traveller, adults=adults, children=children)

    assert str(excinfo.value) == message
    assert snapshot() == before
    assert seats_left(departure) == 10


@pytest.mark.django_db
def test_hold_refuses_children_on_a_tour_without_child_price(traveller):
    departure = DepartureFactory(tour=TourFactory(child_price=None), capacity=10)

    with pytest.raises(BookingError) as excinfo:
        hold(departure, traveller, adults=2, children=1)

    assert str(excinfo.value) == "This tour does not accept children."
    assert Booking.objects.count() == 0
    assert SeatHold.objects.count() == 0


@pytest.mark.parametrize(
    ("taken", "wanted", "message", "left"),
    [
        (7, 4, "Only 3 seats are left on this departure.", 3),
        (9, 2, "Only 1 seat is left on this departure.", 1),
        (10, 1, "Sorry, this departure is sold out.", 0),
    ],
)
@pytest.mark.django_db
def test_hold_refuses_more_than_the_seats_left(departure, traveller, taken, wanted, message, left):
    others = UserFactory()
    for units in (min(taken, 8), taken - min(taken, 8)):
        if units:
            hold(departure, others, adults=units)
    before = snapshot()

    with pytest.raises(SeatsUnavailable) as excinfo:
        hold(departure, traveller, adults=wanted)

    assert str(excinfo.value) == message
    assert excinfo.value.seats_left == left
    assert snapshot() == before
    assert seats_left(departure) == left


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"starts_at": timezone.now() - timedelta(hours=1)}, "This departure is no longer open for booking."),
        ({"status": Departure.Status.CLOSED}, "This departure is no longer open for booking."),
        ({"status": Departure.Status.CANCELLED}, "This departure is no longer open for booking."),
    ],
)
@pytest.mark.django_db
def test_hold_refuses_a_past_closed_or_cancelled_departure(departure, traveller, changes, message):
    Departure.objects.filter(pk=departure.pk).update(**changes)
    before = snapshot()

    with pytest.raises(SeatsUnavailable) as excinfo:
        hold(departure, traveller)

    assert str(excinfo.value) == message
    assert snapshot() == before


@pytest.mark.django_db
def test_hold_refuses_a_departure_that_starts_now(departure, traveller):
    with pytest.raises(SeatsUnavailable):
        hold(departure, traveller, now=departure.starts_at)
    assert SeatHold.objects.count() == 0


@pytest.mark.django_db
def test_hold_refuses_a_departure_of_an_unpublished_tour(traveller):
    departure = DepartureFactory(tour=TourFactory(is_published=False))

    with pytest.raises(SeatsUnavailable) as excinfo:
        hold(departure, traveller)

    assert str(excinfo.value) == "This departure is no longer open for booking."
    assert (Booking.objects.count(), SeatHold.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_hold_refuses_an_unknown_departure(traveller):
    with pytest.raises(BookingError) as excinfo:
        services.booking_hold_seats(departure_id=987654, adults=1, children=0, user=traveller, language="en")

    assert str(excinfo.value) == "This departure does not exist."
    assert (Booking.objects.count(), SeatHold.objects.count()) == (0, 0)


# -- expiry -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_expired_hold_frees_its_seats_at_once(departure, traveller):
    now = timezone.now()
    first = hold(departure, traveller, adults=8, now=now)

    assert seats_left(departure, now + timedelta(minutes=14, seconds=59)) == 2
    assert seats_left(departure, now + timedelta(minutes=15)) == 10

    # Before the periodic task has run, someone else can take the seats.
    later = now + timedelta(minutes=16)
    second = hold(departure, UserFactory(), adults=8, now=later)

    assert second.status == B.HELD
    assert Booking.objects.get(pk=first.pk).status == B.HELD  # not yet marked
    assert seats_left(departure, later) == 2


@pytest.mark.django_db
def test_expire_holds_marks_expired_bookings_and_releases_their_seats(departure, traveller):
    now = timezone.now()
    old_held = hold(departure, traveller, adults=2, now=now - timedelta(minutes=20))
    old_awaiting = hold(departure, UserFactory(), adults=1, now=now - timedelta(minutes=16))
    Booking.objects.filter(pk=old_awaiting.pk).update(status=B.AWAITING_PAYMENT)
    fresh = hold(departure, UserFactory(), adults=3, now=now - timedelta(minutes=14))

    assert services.booking_expire_holds(now=now) == 2

    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert statuses == {old_held.pk: B.EXPIRED, old_awaiting.pk: B.EXPIRED, fresh.pk: B.HELD}
    assert transitions(old_held)[-1] == (B.HELD, B.EXPIRED, None, "hold expired")
    assert transitions(old_awaiting)[-1] == (B.AWAITING_PAYMENT, B.EXPIRED, None, "hold expired")
    released = dict(SeatHold.objects.values_list("pk", "released_at"))
    assert released == {old_held.hold_id: now, old_awaiting.hold_id: now, fresh.hold_id: None}
    assert seats_left(departure, now) == 7
    # A second run finds nothing to do.
    assert services.booking_expire_holds(now=now) == 0
    assert BookingTransition.objects.filter(to_status=B.EXPIRED).count() == 2


@pytest.mark.django_db
def test_expire_holds_leaves_paid_bookings_alone(departure, traveller, django_capture_on_commit_callbacks):
    booking = pay_simulated(save_details(hold(departure, traveller, adults=2)), django_capture_on_commit_callbacks)

    assert services.booking_expire_holds(now=timezone.now() + timedelta(hours=2)) == 0

    booking.refresh_from_db()
    assert booking.status == B.CONFIRMED
    assert (booking.hold.expires_at, booking.hold.released_at) == (None, None)
    assert seats_left(departure, timezone.now() + timedelta(hours=2)) == 8


@pytest.mark.django_db
def test_the_periodic_task_expires_holds(departure, traveller):
    booking = hold(departure, traveller, adults=2)

    with freeze_time(booking.expires_at + timedelta(seconds=1)):
        result = tasks.booking_expire_holds.delay()

    assert result.get() == 1
    booking.refresh_from_db()
    assert booking.status == B.EXPIRED
    assert booking.hold.released_at == booking.expires_at + timedelta(seconds=1)


# -- state machines ---------------------------------------------------------------------

ILLEGAL_BOOKING_MOVES = [(a, b) for a in B.values for b in B.values if b not in BOOKING_TRANSITIONS[a]]
ILLEGAL_PAYMENT_MOVES = [(a, b) for a in P.values for b in P.values if b not in PAYMENT_TRANSITIONS[a]]


def test_booking_transition_table():
    assert {k: sorted(v) for k, v in BOOKING_TRANSITIONS.items()} == {
        "held": ["awaiting_payment", "cancelled", "confirmed", "expired"],
        "awaiting_payment": ["cancelled", "confirmed", "expired", "held"],
        "expired": ["confirmed", "refunded"],
        "confirmed": ["cancelled", "refunded"],
        "cancelled": ["refunded"],
        "refunded": [],
    }
    assert len(ILLEGAL_BOOKING_MOVES) == 36 - 13


@pytest.mark.parametrize(("from_status", "to_status"), ILLEGAL_BOOKING_MOVES)
@pytest.mark.django_db
def test_booking_move_refuses_illegal_transitions_and_changes_nothing(held_booking, from_status, to_status):
    Booking.objects.filter(pk=held_booking.pk).update(status=from_status)
    booking = Booking.objects.get(pk=held_booking.pk)
    before = snapshot()

    with pytest.raises(InvalidTransition) as excinfo:
        booking_move(booking=booking, to=to_status, reason="test")

    assert str(excinfo.value) == f"booking {booking.reference}: {from_status} → {to_status} is not allowed"
    assert booking.status == from_status
    assert snapshot() == before


@pytest.mark.parametrize(("from_status", "to_status"), ILLEGAL_PAYMENT_MOVES)
@pytest.mark.django_db
def test_payment_move_refuses_illegal_transitions_and_changes_nothing(held_booking, from_status, to_status):
    payment = Payment.objects.create(
        booking=held_booking, provider="simulated", status=from_status, amount=87500, currency="PEN"
    )
    before = snapshot()

    with pytest.raises(InvalidTransition) as excinfo:
        payment_move(payment=payment, to=to_status, reason="test")

    assert str(excinfo.value) == f"payment {payment.pk}: {from_status} → {to_status} is not allowed"
    assert snapshot() == before
    assert PaymentTransition.objects.count() == 0


@pytest.mark.django_db
def test_booking_move_records_from_to_actor_reason_and_timestamps(held_booking, traveller):
    now = timezone.now()

    booking_move(booking=held_booking, to=B.CONFIRMED, reason="payment received", now=now)
    booking_move(booking=held_booking, to=B.CANCELLED, reason="change of plans", actor=traveller, now=now)

    booking = Booking.objects.get(pk=held_booking.pk)
    assert (booking.status, booking.confirmed_at, booking.cancelled_at) == (B.CANCELLED, now, now)
    assert transitions(booking) == [
        ("", B.HELD, "rosa@example.com", "seats held"),
        (B.HELD, B.CONFIRMED, None, "payment received"),
        (B.CONFIRMED, B.CANCELLED, "rosa@example.com", "change of plans"),
    ]


@pytest.mark.django_db
def test_a_whole_lifecycle_is_recorded_transition_by_transition(
    held_booking, traveller, django_capture_on_commit_callbacks
):
    booking = pay_simulated(save_details(held_booking), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(booking=booking, actor=traveller, reason="cancelled by traveller")

    booking.refresh_from_db()
    payment = booking.payments.get()
    refund = payment.refunds.get()
    assert refund.stripe_refund_id.startswith("re_sim_")
    assert transitions(booking) == [
        ("", B.HELD, "rosa@example.com", "seats held"),
        (B.HELD, B.AWAITING_PAYMENT, "rosa@example.com", "sent to checkout"),
        (B.AWAITING_PAYMENT, B.CONFIRMED, None, "payment received"),
        (B.CONFIRMED, B.CANCELLED, "rosa@example.com", "cancelled by traveller"),
        (B.CANCELLED, B.REFUNDED, None, f"refund {refund.stripe_refund_id}"),
    ]
    assert list(payment.transitions.values_list("from_status", "to_status", "reason")) == [
        ("", P.CREATED, "checkout started"),
        (P.CREATED, P.SUCCEEDED, "checkout session paid"),
        (P.SUCCEEDED, P.REFUNDED, f"refund {refund.stripe_refund_id}"),
    ]
