"""Reminders, profile edits, account deletion, the stuck-event sweeper and expiry task."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from bookings import services, tasks
from bookings.models import Booking, BookingStatus, Participant, StripeEvent
from tests.bookings.helpers import hold, pay_simulated, save_details, starts_in
from tests.factories import DepartureFactory


@pytest.fixture
def confirmed(ready_booking, django_capture_on_commit_callbacks):
    booking = pay_simulated(ready_booking, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    return booking


@pytest.mark.django_db
def test_reminder_is_sent_once_three_days_before(tour, traveller, django_capture_on_commit_callbacks):
    soon = DepartureFactory(tour=tour, starts_at=starts_in(2), capacity=10)
    later = DepartureFactory(tour=tour, starts_at=starts_in(10), capacity=10)
    due = pay_simulated(save_details(hold(soon, traveller)), django_capture_on_commit_callbacks)
    pay_simulated(save_details(hold(later, traveller)), django_capture_on_commit_callbacks)
    mail.outbox.clear()

    assert tasks.booking_reminders_send() == 1
    assert tasks.booking_reminders_send() == 0

    assert [m.to for m in mail.outbox] == [[traveller.email]]
    assert due.reference in mail.outbox[0].body
    assert [a[0] for a in mail.outbox[0].attachments] == [f"{due.reference}.ics"]
    assert Booking.objects.get(pk=due.pk).reminder_sent_at is not None


@pytest.mark.django_db
def test_reminder_failure_can_be_retried(confirmed, monkeypatch, tour):
    confirmed.departure.starts_at = timezone.now() + timedelta(days=2)
    confirmed.departure.save(update_fields=["starts_at"])

    def broken(booking):
        raise OSError("smtp down")

    monkeypatch.setattr("bookings.emails.booking_reminder_email", broken)
    with pytest.raises(OSError):
        tasks._send_once(confirmed.pk, "reminder_sent_at", broken)
    assert Booking.objects.get(pk=confirmed.pk).reminder_sent_at is None


@pytest.mark.django_db
def test_profile_update(client, traveller):
    client.force_login(traveller)
    response = client.post(
        reverse("users:profile"),
        {
            "first_name": "Rosa",
            "last_name": "Quispe Huamán",
            "country": "Perú",
            "phone": "+51 900",
            "preferred_language": "es",
        },
    )
    assert response.status_code == 302
    traveller.refresh_from_db()
    assert (traveller.last_name, traveller.country, traveller.phone, traveller.preferred_language) == (
        "Quispe Huamán",
        "Perú",
        "+51 900",
        "es",
    )


@pytest.mark.django_db
def test_profile_rejects_unknown_language_and_changes_nothing(client, traveller):
    client.force_login(traveller)
    response = client.post(reverse("users:profile"), {"first_name": "X", "preferred_language": "xx"})
    assert response.status_code == 200
    traveller.refresh_from_db()
    assert (traveller.first_name, traveller.preferred_language) == ("Rosa", "en")


@pytest.mark.django_db
def test_account_delete_anonymises_and_keeps_bookings(client, confirmed, traveller):
    EmailAddress.objects.create(user=traveller, email=traveller.email, primary=True, verified=True)
    client.force_login(traveller)

    response = client.post(reverse("bookings:account_delete"), {"confirm_email": "ROSA@example.com"})

    assert response.status_code == 302
    traveller.refresh_from_db()
    booking = Booking.objects.get(pk=confirmed.pk)
    assert traveller.is_active is False
    assert traveller.email == f"deleted-{traveller.pk}@invalid.example"
    assert (traveller.first_name, traveller.last_name, traveller.phone) == ("", "", "")
    assert not traveller.has_usable_password()
    assert EmailAddress.objects.filter(user=traveller).count() == 0
    assert booking.status == BookingStatus.CONFIRMED  # kept for the operator's records
    assert booking.total_amount == confirmed.total_amount
    assert (booking.contact_name, booking.contact_phone, booking.emergency_contact_phone) == ("—", "", "")
    assert set(Participant.objects.filter(booking=booking).values_list("full_name", flat=True)) == {"—"}


@pytest.mark.django_db
def test_account_delete_needs_the_exact_email_and_changes_nothing(client, confirmed, traveller):
    client.force_login(traveller)
    response = client.post(reverse("bookings:account_delete"), {"confirm_email": "someone@else.com"})
    traveller.refresh_from_db()
    assert response.status_code == 200
    assert traveller.is_active is True and traveller.email == "rosa@example.com"
    assert Booking.objects.get(pk=confirmed.pk).contact_email == "rosa@example.com"


@pytest.mark.django_db
def test_account_delete_refused_while_a_booking_is_pending(held_booking, traveller):
    with pytest.raises(services.BookingError):
        services.traveller_account_delete(user=traveller)
    traveller.refresh_from_db()
    assert traveller.is_active is True


@pytest.mark.django_db
def test_expire_holds_task_marks_expired_and_releases(held_booking):
    with freeze_time(timezone.now() + timedelta(minutes=16)):
        assert tasks.booking_expire_holds() == 1
        assert tasks.booking_expire_holds() == 0
    held_booking.refresh_from_db()
    held_booking.hold.refresh_from_db()
    assert held_booking.status == BookingStatus.EXPIRED
    assert held_booking.hold.released_at is not None


@pytest.mark.django_db
def test_stuck_events_are_rerun(confirmed, monkeypatch):
    event = StripeEvent.objects.create(
        event_id="evt_stuck_1",
        type="charge.dispute.created",
        payload={
            "id": "evt_stuck_1",
            "type": "charge.dispute.created",
            "data": {
                "object": {
                    "payment_intent": confirmed.payments.get().payment_intent_id,
                    "amount": 100,
                    "currency": "pen",
                    "reason": "fraudulent",
                }
            },
        },
    )
    StripeEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=10))

    assert tasks.stripe_events_retry_stuck() == 1

    event.refresh_from_db()
    assert event.status == StripeEvent.Status.PROCESSED
    assert Booking.objects.get(pk=confirmed.pk).flagged is True
    assert tasks.stripe_events_retry_stuck() == 0
