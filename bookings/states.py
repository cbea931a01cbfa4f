"""The two lifecycles of this app: allowed transitions and the one function that moves each.

booking:  held → awaiting_payment → confirmed → cancelled → refunded
          held/awaiting_payment → expired → confirmed (late payment, seats still free)
          expired → refunded (late payment, seats gone: refunded automatically)
payment:  created → pending → succeeded → partially_refunded → refunded
          created/pending → failed
"""

from __future__ import annotations

from django.utils import timezone

from .models import Booking, BookingStatus, BookingTransition, Payment, PaymentStatus, PaymentTransition

B = BookingStatus
P = PaymentStatus

BOOKING_TRANSITIONS: dict[str, set[str]] = {
    B.HELD: {B.AWAITING_PAYMENT, B.CONFIRMED, B.EXPIRED, B.CANCELLED},
    B.AWAITING_PAYMENT: {B.HELD, B.CONFIRMED, B.EXPIRED, B.CANCELLED},
    B.EXPIRED: {B.CONFIRMED, B.REFUNDED},
    B.CONFIRMED: {B.CANCELLED, B.REFUNDED},
    B.CANCELLED: {B.REFUNDED},
    B.REFUNDED: set(),
}

PAYMENT_TRANSITIONS: dict[str, set[str]] = {
    P.CREATED: {P.PENDING, P.SUCCEEDED, P.FAILED},
    P.PENDING: {P.SUCCEEDED, P.FAILED},
    P.SUCCEEDED: {P.PARTIALLY_REFUNDED, P.REFUNDED},
    P.PARTIALLY_REFUNDED: {P.PARTIALLY_REFUNDED, P.REFUNDED},
    P.FAILED: set(),
    P.REFUNDED: set(),
}


class InvalidTransition(Exception):
    pass


def booking_can_move(booking: Booking, to: str) -> bool:
    return to in BOOKING_TRANSITIONS[booking.status]


def booking_move(*, booking: Booking, to: str, reason: str, actor=None, now=None, extra_fields=()) -> Booking:
    """Move ``booking`` to ``to`` and record who, when and why. Callers hold the row lock."""
    if not booking_can_move(booking, to):
        raise InvalidTransition(f"booking {booking.reference}: {booking.status} → {to} is not allowed")
    now = now or timezone.now()
    previous = booking.status
    booking.status = to
    fields = {"status", "updated_at", *extra_fields}
    if to == B.CONFIRMED:
        booking.confirmed_at = now
        fields.add("confirmed_at")
    if to in (B.CANCELLED, B.REFUNDED) and booking.cancelled_at is None:
        booking.cancelled_at = now
        fields.add("cancelled_at")
    booking.save(update_fields=sorted(fields))
    BookingTransition.objects.create(
        booking=booking, from_status=previous, to_status=to, actor=actor, reason=reason[:300]
    )
    return booking


def payment_move(*, payment: Payment, to: str, reason: str, actor=None, extra_fields=()) -> Payment:
    """Move ``payment`` to ``to`` and record it. Callers hold the row lock."""
    if to not in PAYMENT_TRANSITIONS[payment.status]:
        raise InvalidTransition(f"payment {payment.pk}: {payment.status} → {to} is not allowed")
    previous = payment.status
    payment.status = to
    payment.save(update_fields=sorted({"status", "updated_at", *extra_fields}))
    PaymentTransition.objects.create(
        payment=payment, from_status=previous, to_status=to, actor=actor, reason=reason[:300]
    )
    return payment
