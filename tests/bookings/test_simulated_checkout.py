"""The simulated checkout (no Stripe key): details → checkout → Pay / Decline / Abandon."""

import email
import hashlib
from datetime import UTC, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from bookings import services
from bookings.models import Booking, BookingStatus, Payment, PaymentStatus, StripeEvent
from bookings.services import BookingError
from tests.bookings.helpers import BASE_URL, checkout, save_details, seats_left, snapshot, transitions

B = BookingStatus
P = PaymentStatus


def sim_session_id(payment) -> str:
    return "cs_sim_" + hashlib.sha256(f"checkout-session-{payment.pk}".encode()).hexdigest()[:24]


@pytest.mark.django_db
def test_details_are_stored_per_traveller(held_booking):
    booking = save_details(held_booking, language="es")

    booking.refresh_from_db()
    assert list(booking.participants.values_list("full_name", "is_child", "dietary_needs")) == [
        ("Rosa Quispe", False, "vegetarian"),
        ("Juan Huamán", False, ""),
        ("Ana Quispe", True, ""),
    ]
    assert (booking.emergency_contact_name, booking.emergency_contact_phone, booking.language) == (
        "Domingo",
        "+51 984 222 333",
        "es",
    )


@pytest.mark.django_db
def test_details_need_one_entry_per_traveller(held_booking):
    before = snapshot()

    with pytest.raises(BookingError) as excinfo:
        services.booking_details_save(
            booking=held_booking,
            participants=[{"full_name": "Rosa Quispe"}],
            emergency_contact_name="Domingo",
            emergency_contact_phone="1",
            notes="",
            language="en",
        )

    assert str(excinfo.value) == "Please give the details of every traveller."
    assert snapshot() == before


@pytest.mark.django_db
def test_details_are_refused_once_the_hold_expired(held_booking):
    before = snapshot()

    with pytest.raises(BookingError) as excinfo:
        services.booking_details_save(
            booking=held_booking,
            participants=[{"full_name": f"T{i}"} for i in range(3)],
            emergency_contact_name="Domingo",
            emergency_contact_phone="1",
            notes="",
            language="en",
            now=held_booking.expires_at,
        )

    assert str(excinfo.value) == "This hold has expired; please choose your seats again."
    assert snapshot() == before


@pytest.mark.django_db
def test_checkout_start_creates_the_payment_and_points_to_the_simulated_page(ready_booking):
    url = services.booking_checkout_start(booking=ready_booking, base_url=BASE_URL)

    payment = Payment.objects.get()
    assert url == f"/checkout/simulated/{sim_session_id(payment)}/"
    assert (payment.provider, payment.status, payment.amount, payment.currency) == (
        "simulated",
        P.CREATED,
        87500,
        "PEN",
    )
    assert (payment.checkout_session_id, payment.checkout_url) == (sim_session_id(payment), url)
    booking = Booking.objects.get(pk=ready_booking.pk)
    assert booking.status == B.AWAITING_PAYMENT
    assert transitions(booking)[-1] == (B.HELD, B.AWAITING_PAYMENT, "rosa@example.com", "sent to checkout")


@pytest.mark.django_db
def test_checkout_start_again_reuses_the_same_payment(ready_booking):
    first = services.booking_checkout_start(booking=ready_booking, base_url=BASE_URL)
    before = snapshot()

    second = services.booking_checkout_start(booking=ready_booking, base_url=BASE_URL)

    assert second == first
    assert snapshot() == before


@pytest.mark.django_db
def test_checkout_start_needs_every_travellers_details(held_booking):
    before = snapshot()

    with pytest.raises(BookingError) as excinfo:
        services.booking_checkout_start(booking=held_booking, base_url=BASE_URL)

    assert str(excinfo.value) == "Please give the details of every traveller first."
    assert snapshot() == before


@pytest.mark.django_db
def test_checkout_start_is_refused_once_the_hold_expired(ready_booking):
    before = snapshot()

    with pytest.raises(BookingError) as excinfo:
        services.booking_checkout_start(booking=ready_booking, base_url=BASE_URL, now=ready_booking.expires_at)

    assert str(excinfo.value) == "This hold has expired; please choose your seats again."
    assert snapshot() == before


@pytest.mark.django_db
def test_pay_confirms_the_booking_and_sends_the_confirmation(ready_booking, django_capture_on_commit_callbacks):
    payment = checkout(ready_booking)

    with django_capture_on_commit_callbacks(execute=True):
        event = services.simulated_checkout_complete(payment=payment, outcome="pay")

    booking = Booking.objects.get(pk=ready_booking.pk)
    payment.refresh_from_db()
    assert booking.status == B.CONFIRMED
    assert booking.confirmed_at is not None
    assert booking.confirmation_sent_at is not None
    assert (booking.hold.expires_at, booking.hold.released_at) == (None, None)
    assert transitions(booking)[-1] == (B.AWAITING_PAYMENT, B.CONFIRMED, None, "payment received")
    assert (payment.status, payment.amount_received, payment.amount_refunded) == (P.SUCCEEDED, 87500, 0)
    assert (payment.payment_intent_id, payment.charge_id) == (f"pi_sim_{payment.pk}", f"ch_sim_{payment.pk}")
    assert (event.event_id, event.type, event.status) == (
        f"evt_sim_{payment.pk}_pay",
        "checkout.session.completed",
        StripeEvent.Status.PROCESSED,
    )
    assert seats_left(booking.departure, timezone.now() + timedelta(days=1)) == 7

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rosa@example.com"]
    assert booking.reference in message.subject
    assert booking.reference in message.body
    assert len(message.alternatives) == 1
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert booking.reference in html
    assert len(message.attachments) == 1
    filename, ics, ics_type = message.attachments[0]
    assert filename == f"{booking.reference}.ics"
    assert ics_type.startswith("text/calendar")
    start = booking.departure.starts_at.astimezone(UTC)
    end = start + timedelta(hours=8)
    lines = ics.split("\r\n")
    assert f"DTSTART:{start:%Y%m%dT%H%M%SZ}" in lines
    assert f"DTEND:{end:%Y%m%dT%H%M%SZ}" in lines
    assert f"UID:{booking.reference}@kallpa-cacao-routes" in lines
    assert f"SUMMARY:Quillabamba Cacao Day ({booking.reference})" in lines
    assert "LOCATION:Plaza de Armas\\, Quillabamba" in lines
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""


@pytest.mark.django_db
def test_ics_attachment_has_one_content_type_per_parameter(ready_booking, django_capture_on_commit_callbacks):
    payment = checkout(ready_booking)
    with django_capture_on_commit_callbacks(execute=True):
        services.simulated_checkout_complete(payment=payment, outcome="pay")

    parsed = email.message_from_bytes(mail.outbox[0].message().as_bytes())
    part = next(p for p in parsed.walk() if p.get_content_type() == "text/calendar")
    names = [name for name, _value in part.get_params()]
    assert names.count("charset") == 1
    assert part.get_param("method") == "PUBLISH"


@pytest.mark.django_db
def test_paying_twice_confirms_once_and_mails_once(ready_booking, django_capture_on_commit_callbacks):
    payment = checkout(ready_booking)

    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            services.simulated_checkout_complete(payment=payment, outcome="pay")

    booking = Booking.objects.get(pk=ready_booking.pk)
    assert booking.status == B.CONFIRMED
    assert [t[1] for t in transitions(booking)].count(B.CONFIRMED) == 1
    assert StripeEvent.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_decline_puts_the_booking_back_on_hold_and_fails_the_payment(ready_booking, django_capture_on_commit_callbacks):
    payment = checkout(ready_booking)

    with django_capture_on_commit_callbacks(execute=True):
        services.simulated_checkout_complete(payment=payment, outcome="decline")

    booking = Booking.objects.get(pk=ready_booking.pk)
    payment.refresh_from_db()
    assert booking.status == B.HELD
    assert transitions(booking)[-1] == (B.AWAITING_PAYMENT, B.HELD, None, "asynchronous payment failed")
    assert (payment.status, payment.amount_received) == (P.FAILED, 0)
    assert booking.hold.released_at is None
    assert seats_left(booking.departure) == 7
    assert mail.outbox == []


@pytest.mark.django_db
def test_after_a_decline_a_new_payment_can_succeed(ready_booking, django_capture_on_commit_callbacks):
    declined = checkout(ready_booking)
    services.simulated_checkout_complete(payment=declined, outcome="decline")

    retry = checkout(ready_booking)
    with django_capture_on_commit_callbacks(execute=True):
        services.simulated_checkout_complete(payment=retry, outcome="pay")

    assert retry.pk != declined.pk
    assert list(Payment.objects.order_by("pk").values_list("status", flat=True)) == [P.FAILED, P.SUCCEEDED]
    booking = Booking.objects.get(pk=ready_booking.pk)
    assert booking.status == B.CONFIRMED
    assert [(t[0], t[1]) for t in transitions(booking)] == [
        ("", B.HELD),
        (B.HELD, B.AWAITING_PAYMENT),
        (B.AWAITING_PAYMENT, B.HELD),
        (B.HELD, B.AWAITING_PAYMENT),
        (B.AWAITING_PAYMENT, B.CONFIRMED),
    ]
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_abandon_expires_the_booking_and_releases_the_seats(ready_booking, django_capture_on_commit_callbacks):
    payment = checkout(ready_booking)

    with django_capture_on_commit_callbacks(execute=True):
        services.simulated_checkout_complete(payment=payment, outcome="abandon")

    booking = Booking.objects.get(pk=ready_booking.pk)
    payment.refresh_from_db()
    assert booking.status == B.EXPIRED
    assert transitions(booking)[-1] == (B.AWAITING_PAYMENT, B.EXPIRED, None, "checkout session expired")
    assert payment.status == P.FAILED
    assert booking.hold.released_at is not None
    assert seats_left(booking.departure) == 10
    assert mail.outbox == []


@pytest.mark.django_db
def test_unknown_outcome_changes_nothing(ready_booking):
    payment = checkout(ready_booking)
    before = snapshot()

    with pytest.raises(BookingError) as excinfo:
        services.simulated_checkout_complete(payment=payment, outcome="steal")

    assert str(excinfo.value) == "Unknown checkout action."
    assert snapshot() == before


@pytest.mark.django_db
def test_simulated_checkout_is_refused_when_not_allowed(ready_booking, settings):
    payment = checkout(ready_booking)
    settings.SIMULATED_CHECKOUT = False
    before = snapshot()

    with pytest.raises(BookingError) as excinfo:
        services.simulated_checkout_complete(payment=payment, outcome="pay")

    assert str(excinfo.value) == "The simulated checkout is not available."
    assert snapshot() == before
