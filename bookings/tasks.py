"""Celery tasks: thin wrappers that take primary keys and call one service each."""

import logging

import stripe
from celery import shared_task
from django.db import transaction
from django.utils import timezone

from . import emails, services
from .models import Booking, BookingStatus

logger = logging.getLogger(__name__)
RETRYABLE = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


@shared_task(acks_late=True)
def stripe_event_process(event_pk: int) -> str:
    return services.stripe_event_handle(event_pk=event_pk)


@shared_task(bind=True, acks_late=True, autoretry_for=RETRYABLE, retry_backoff=2, retry_backoff_max=300, max_retries=8)
def refund_execute(self, refund_id: int) -> None:
    services.refund_execute(refund_id=refund_id)


@shared_task(bind=True, acks_late=True, autoretry_for=RETRYABLE, retry_backoff=2, retry_backoff_max=300, max_retries=8)
def payment_charge_record_task(self, payment_id: int) -> None:
    services.payment_charge_record(payment_id=payment_id)


def _send_once(booking_id: int, field: str, send) -> bool:
    """Claim the e-mail with a conditional update so a redelivered task never sends twice."""
    with transaction.atomic():
        claimed = Booking.objects.filter(pk=booking_id, **{f"{field}__isnull": True}).update(**{field: timezone.now()})
    if not claimed:
        return False
    booking = Booking.objects.select_related("departure__tour").get(pk=booking_id)
    try:
        send(booking)
    except Exception:
        Booking.objects.filter(pk=booking_id).update(**{field: None})
        raise
    return True


@shared_task(bind=True, acks_late=True, autoretry_for=(OSError,), retry_backoff=5, max_retries=5)
def booking_confirmation_send(self, booking_id: int) -> bool:
    return _send_once(booking_id, "confirmation_sent_at", emails.booking_confirmation_email)


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=5, max_retries=5)
def booking_cancellation_send(self, booking_id: int) -> None:
    emails.booking_cancellation_email(Booking.objects.select_related("departure__tour").get(pk=booking_id))


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=5, max_retries=5)
def booking_departure_cancelled_send(self, booking_id: int) -> None:
    emails.booking_departure_cancelled_email(Booking.objects.select_related("departure__tour").get(pk=booking_id))


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=5, max_retries=5)
def booking_late_payment_notify(self, booking_id: int) -> None:
    emails.booking_late_payment_email(Booking.objects.select_related("departure__tour").get(pk=booking_id))


@shared_task
def stripe_events_retry_stuck(older_than_minutes: float = 5) -> int:
    """Re-enqueue webhook events that were stored but never handled (sweeper, every 5 minutes)."""
    stuck = services.stripe_events_stuck(older_than_minutes=older_than_minutes)
    for event_pk in stuck:
        stripe_event_process.delay(event_pk)
    return len(stuck)


@shared_task
def bookings_sweep(older_than_minutes: float = 10) -> dict:
    """Periodic (every 10 minutes): re-enqueue what a broker outage lost after its transaction
    committed — confirmation e-mails never sent, refunds never made, charges never looked up.
    The tasks are idempotent (the e-mail is claimed once; a refund acts only while pending, with
    its idempotency key; the charge is stored only where none is)."""
    found = {
        "confirmation_emails": (services.booking_confirmations_unsent, booking_confirmation_send),
        "refunds": (services.refunds_stuck, refund_execute),
        "charge_lookups": (services.payments_without_charge, payment_charge_record_task),
    }
    swept = {}
    for name, (stuck, task) in found.items():
        ids = stuck(older_than_minutes=older_than_minutes)
        for pk in ids:
            task.delay(pk)
        swept[name] = len(ids)
    return swept


@shared_task
def booking_expire_holds() -> int:
    return services.booking_expire_holds()


@shared_task
def booking_reminders_send() -> int:
    """Remind travellers 3 days before departure (once each)."""
    from datetime import timedelta

    from django.conf import settings

    now = timezone.now()
    due = Booking.objects.filter(
        status=BookingStatus.CONFIRMED,
        reminder_sent_at__isnull=True,
        departure__starts_at__gt=now,
        departure__starts_at__lte=now + timedelta(days=settings.BOOKING_REMINDER_DAYS),
    ).values_list("pk", flat=True)
    return sum(_send_once(pk, "reminder_sent_at", emails.booking_reminder_email) for pk in list(due))
