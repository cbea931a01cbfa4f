"""Helpers for the booking tests: make bookings, pay them, post signed webhooks, take snapshots."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from bookings import services
from bookings.models import (
    Booking,
    BookingTransition,
    Participant,
    Payment,
    PaymentTransition,
    Refund,
    StripeEvent,
)
from tests.stripe_server import sign
from tours.models import SeatHold

BASE_URL = "http://testserver"
WEBHOOK_URL = "/stripe/webhook/"


def needs_template(name: str):
    """Skip a view test until ``templates/bookings/<name>`` exists (another helper writes them)."""
    path = Path(settings.BASE_DIR) / "templates" / "bookings" / name
    return pytest.mark.skipif(not path.exists(), reason=f"templates/bookings/{name} is not written yet")


def starts_in(days: int, hour: int = 9):
    """A departure time ``days`` calendar days from today (Lima), at ``hour`` local time."""
    local = timezone.localtime() + timedelta(days=days)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def hold(departure, user, *, adults=2, children=0, language="en", now=None) -> Booking:
    return services.booking_hold_seats(
        departure_id=departure.pk, adults=adults, children=children, user=user, language=language, now=now
    )


def save_details(booking: Booking, *, language: str = "en") -> Booking:
    names = ["Rosa Quispe", "Juan Huamán", "Ana Quispe", "Luis Quispe", "Eva Mamani", "Tito Condori"]
    participants = [
        {"full_name": names[i], "is_child": i >= booking.adults, "dietary_needs": "vegetarian" if i == 0 else ""}
        for i in range(booking.units)
    ]
    return services.booking_details_save(
        booking=booking,
        participants=participants,
        emergency_contact_name="Domingo",
        emergency_contact_phone="+51 984 222 333",
        notes="",
        language=language,
    )


def checkout(booking: Booking) -> Payment:
    """Start the checkout (simulated or Stripe, per settings); return the booking's payment."""
    services.booking_checkout_start(booking=booking, base_url=BASE_URL)
    return booking.payments.order_by("-pk").first()


WEBHOOK_SECRET = "whsec_test"


def post_event(client, event: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None, header=True):
    """POST ``event`` to the webhook the way Stripe does: raw JSON body, Stripe-Signature header."""
    payload = json.dumps(event).encode()
    extra = {"HTTP_STRIPE_SIGNATURE": sign(payload, secret, timestamp)} if header else {}
    return client.post(WEBHOOK_URL, data=payload, content_type="application/json", **extra)


def pay_with_stripe(client, booking: Booking, server, capture) -> tuple[Booking, dict]:
    """Checkout through the fake Stripe, complete the session, deliver the signed webhook."""
    payment = checkout(booking)
    event = server.complete_session(payment.checkout_session_id)
    with capture(execute=True):
        response = post_event(client, event)
    assert response.status_code == 200
    return Booking.objects.get(pk=booking.pk), event


def pay_simulated(booking: Booking, capture) -> Booking:
    payment = checkout(booking)
    with capture(execute=True):
        services.simulated_checkout_complete(payment=payment, outcome="pay")
    return Booking.objects.get(pk=booking.pk)


def transitions(booking: Booking) -> list[tuple]:
    return list(
        BookingTransition.objects.filter(booking=booking)
        .order_by("id")
        .values_list("from_status", "to_status", "actor__email", "reason")
    )


def payment_transitions(payment: Payment) -> list[tuple]:
    return list(
        PaymentTransition.objects.filter(payment=payment).order_by("id").values_list("from_status", "to_status")
    )


def snapshot() -> dict:
    """Everything a booking service could change, for "nothing changed" assertions."""
    return {
        "bookings": list(
            Booking.objects.order_by("pk").values_list(
                "pk",
                "status",
                "flagged",
                "flag_reason",
                "confirmed_at",
                "cancelled_at",
                "expires_at",
                "confirmation_sent_at",
            )
        ),
        "booking_transitions": list(BookingTransition.objects.order_by("pk").values_list("pk", "to_status")),
        "participants": Participant.objects.count(),
        "payments": list(
            Payment.objects.order_by("pk").values_list(
                "pk",
                "status",
                "amount_received",
                "amount_refunded",
                "checkout_session_id",
                "payment_intent_id",
                "charge_id",
            )
        ),
        "payment_transitions": PaymentTransition.objects.count(),
        "refunds": list(Refund.objects.order_by("pk").values_list("pk", "status", "amount", "stripe_refund_id")),
        "holds": list(SeatHold.objects.order_by("pk").values_list("pk", "units", "expires_at", "released_at")),
        "events": list(StripeEvent.objects.order_by("pk").values_list("pk", "event_id", "status")),
        "mails": len(mail.outbox),
    }


def webhook_url() -> str:
    return reverse("stripe_webhook")


def seats_left(departure, now=None) -> int:
    from tours.selectors import departure_queryset_with_availability

    return departure_queryset_with_availability(now).get(pk=departure.pk).seats_left
