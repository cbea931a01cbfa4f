"""Writes for bookings and payments. Every state change goes through ``bookings.states``.

Rules of this module:
* one short transaction per service; the departure row lock is taken late (in
  ``tours.services``) and held only for the hold check and its inserts;
* no Stripe call and no e-mail while a transaction is open: network work runs before the
  transaction or after commit (``transaction.on_commit(..., robust=True)`` → Celery task: a
  broker that is down is logged, and does not turn a committed change into an error);
* the simulated checkout and a real Stripe webhook reach ``payment_confirm`` through the
  same event handler (``stripe_event_handle``).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from cacaotours.core.money import Money
from tours.models import Departure
from tours.services import (
    SeatsUnavailable,
    departure_cancel,
    departure_seats_hold,
    seat_hold_make_permanent,
    seat_hold_release,
)

from . import gateway
from .models import Booking, BookingNote, BookingStatus, Participant, Payment, PaymentStatus, Refund, StripeEvent
from .states import booking_move, payment_move

logger = logging.getLogger(__name__)
B = BookingStatus
P = PaymentStatus

REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L


class BookingError(Exception):
    """A request the traveller (or staff) can fix: shown as a message, nothing changed."""


def _hooks_run(setting: str, **kwargs) -> None:
    """Call the functions a setting names, inside the caller's transaction.

    This is how bookings hands money events to the revenue-share ledger without importing
    it (``cooperatives`` depends on ``bookings``, never the other way round): the split is
    written in the same transaction as the confirmation, the reversal in the same
    transaction as the refund.
    """
    for path in getattr(settings, setting, ()):
        import_string(path)(**kwargs)


def booking_reference_new() -> str:
    return "KT-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


# -- holding seats ----------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    adults: int
    children: int
    adult_price: Money
    child_price: Money
    total: Money

    @property
    def units(self) -> int:
        return self.adults + self.children


def booking_quote(*, tour, adults: int, children: int) -> Quote:
    """Prices per unit type from the tour, total computed here (the form's totals are ignored)."""
    if adults < 1:
        raise BookingError(_("A booking needs at least one adult."))
    if children < 0:
        raise BookingError(_("The number of children cannot be negative."))
    if children and tour.child_price is None:
        raise BookingError(_("This tour does not accept children."))
    if adults + children > tour.max_group:
        raise BookingError(_("This tour takes at most %(n)s travellers per booking.") % {"n": tour.max_group})
    adult_price = tour.adult
    child_price = tour.child or Money.zero(tour.currency)
    return Quote(adults, children, adult_price, child_price, adult_price * adults + child_price * children)


def booking_hold_seats(*, departure_id: int, adults: int, children: int, user, language: str, now=None) -> Booking:
    """Hold seats for ``user`` for BOOKING_HOLD_MINUTES; return the HELD booking.

    One short transaction: lock the departure, count active holds, insert the hold, the
    booking and its first transition (7 queries with the session and user lookups).
    Raises BookingError / SeatsUnavailable with a message for the traveller.
    """
    now = now or timezone.now()
    expires_at = now + timedelta(minutes=settings.BOOKING_HOLD_MINUTES)
    if adults < 1:
        raise BookingError(_("A booking needs at least one adult."))
    if children < 0:
        raise BookingError(_("The number of children cannot be negative."))
    for _attempt in range(3):
        try:
            with transaction.atomic():
                try:
                    hold = departure_seats_hold(
                        departure_id=departure_id, units=adults + children, expires_at=expires_at, now=now
                    )
                except Departure.DoesNotExist:
                    raise BookingError(_("This departure does not exist.")) from None
                tour = hold.departure.tour
                if not tour.is_published:
                    raise SeatsUnavailable(_("This departure is no longer open for booking."))
                quote = booking_quote(tour=tour, adults=adults, children=children)
                booking = Booking.objects.create(
                    reference=booking_reference_new(),
                    user=user,
                    departure=hold.departure,
                    hold=hold,
                    status=B.HELD,
                    adults=adults,
                    children=children,
                    currency=tour.currency,
                    adult_price=quote.adult_price.amount,
                    child_price=quote.child_price.amount,
                    total_amount=quote.total.amount,
                    expires_at=expires_at,
                    language=language,
                    contact_name=user.get_full_name() or user.email,
                    contact_email=user.email,
                    contact_phone=user.phone,
                )
                booking.transitions.create(
                    from_status="", to_status=B.HELD, actor=user, reason=gettext_noop("seats held")
                )
                return booking
        except IntegrityError:
            # A reference collision (1 in ~10^8); try again with a new reference.
            continue
    raise BookingError(_("We could not hold your seats; please try again."))


def booking_details_save(
    *,
    booking: Booking,
    participants: list[dict],
    emergency_contact_name: str,
    emergency_contact_phone: str,
    notes: str,
    language: str,
    now=None,
) -> Booking:
    """Store participant details while the hold is active."""
    now = now or timezone.now()
    if len(participants) != booking.units:
        raise BookingError(_("Please give the details of every traveller."))
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        if booking.status not in (B.HELD, B.AWAITING_PAYMENT) or booking.expires_at <= now:
            raise BookingError(_("This hold has expired; please choose your seats again."))
        booking.participants.all().delete()
        Participant.objects.bulk_create(
            Participant(
                booking=booking,
                full_name=p["full_name"],
                is_child=p.get("is_child", False),
                dietary_needs=p.get("dietary_needs", ""),
            )
            for p in participants
        )
        booking.emergency_contact_name = emergency_contact_name
        booking.emergency_contact_phone = emergency_contact_phone
        booking.notes = notes
        booking.language = language
        fields = ["emergency_contact_name", "emergency_contact_phone", "notes", "language", "updated_at"]
        if booking.contact_name in ("", booking.contact_email):
            booking.contact_name = participants[0]["full_name"]  # the account had no name yet
            fields.append("contact_name")
        booking.save(update_fields=fields)
    return booking


# -- checkout -----------------------------------------------------------------------------


def _checkout_params(*, booking: Booking, payment: Payment, base_url: str) -> dict:
    """The Checkout Session's parameters: the same for every retry of one payment.

    A retry reuses the payment's idempotency key, and Stripe refuses a key sent again
    with other parameters; so nothing here depends on the clock or the request's language.
    The session outlives every retry (made while the hold lasts) by Stripe's minimum 30 min.
    """
    with translation.override(booking.language):
        return _checkout_params_in_language(booking=booking, payment=payment, base_url=base_url)


def _checkout_params_in_language(*, booking: Booking, payment: Payment, base_url: str) -> dict:
    tour = booking.departure.tour
    line_items = [
        {
            "price_data": {
                "currency": booking.currency.lower(),
                "unit_amount": booking.adult_price,
                "product_data": {"name": f"{tour.title} · {_('Adult')}"},
            },
            "quantity": booking.adults,
        }
    ]
    if booking.children:
        line_items.append(
            {
                "price_data": {
                    "currency": booking.currency.lower(),
                    "unit_amount": booking.child_price,
                    "product_data": {"name": f"{tour.title} · {_('Child')}"},
                },
                "quantity": booking.children,
            }
        )
    metadata = {"booking_id": str(booking.pk), "payment_id": str(payment.pk), "reference": booking.reference}
    success = base_url + reverse("bookings:success", kwargs={"reference": booking.reference})
    cancel = base_url + reverse("bookings:details", kwargs={"reference": booking.reference})
    return {
        "mode": "payment",
        "line_items": line_items,
        "client_reference_id": booking.reference,
        "customer_email": booking.contact_email,
        "metadata": metadata,
        "payment_intent_data": {"transfer_group": booking.reference, "metadata": metadata},
        "success_url": success + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": cancel,
        "expires_at": int((payment.created_at + timedelta(minutes=settings.BOOKING_HOLD_MINUTES + 31)).timestamp()),
        "locale": "es" if booking.language == "es" else "en",
    }


def booking_checkout_start(*, booking: Booking, base_url: str, now=None) -> str:
    """Create (or reuse) the payment and its Checkout Session; return the URL to send the traveller to.

    The Payment row is committed before Stripe is called, and the call carries an
    idempotency key derived from it, so a retry never creates a second session.
    """
    now = now or timezone.now()
    with transaction.atomic():
        booking = Booking.objects.select_for_update().select_related("departure__tour").get(pk=booking.pk)
        if booking.status not in (B.HELD, B.AWAITING_PAYMENT) or booking.expires_at <= now:
            raise BookingError(_("This hold has expired; please choose your seats again."))
        if booking.participants.count() != booking.units:
            raise BookingError(_("Please give the details of every traveller first."))
        # An unfinished earlier attempt (Stripe failed or timed out) is retried with the same
        # idempotency key: if Stripe did create that session, it is replayed, not duplicated.
        payment = booking.payments.filter(status=P.CREATED, amount=booking.total_amount).order_by("pk").first()
        if payment is not None and payment.checkout_url:
            return payment.checkout_url
        if payment is None:
            payment = Payment.objects.create(
                booking=booking,
                provider=Payment.Provider.STRIPE if gateway.stripe_enabled() else Payment.Provider.SIMULATED,
                amount=booking.total_amount,
                currency=booking.currency,
            )
            payment.transitions.create(from_status="", to_status=P.CREATED, reason=gettext_noop("checkout started"))
    params = _checkout_params(booking=booking, payment=payment, base_url=base_url)
    session = gateway.checkout_session_create(
        payment_id=payment.pk, params=params, idempotency_key=f"checkout-session-{payment.pk}"
    )
    with transaction.atomic():
        # Lock order everywhere: payment, then booking.
        Payment.objects.filter(pk=payment.pk).update(checkout_session_id=session.id, checkout_url=session.url)
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        if booking.status == B.HELD:
            booking_move(
                booking=booking, to=B.AWAITING_PAYMENT, reason=gettext_noop("sent to checkout"), actor=booking.user
            )
    return session.url


# -- confirmation (the one path for Stripe webhooks and the simulated checkout) ----------


def _find_payment(session: dict) -> Payment | None:
    metadata = session.get("metadata") or {}
    payment_id = metadata.get("payment_id")
    query = Payment.objects.select_for_update()
    if payment_id and str(payment_id).isdigit():
        payment = query.filter(pk=int(payment_id)).first()
        if payment:
            return payment
    if session.get("id"):
        return query.filter(checkout_session_id=session["id"]).first()
    return None


def payment_confirm(*, session: dict, now=None) -> Booking | None:
    """Record a paid Checkout Session and confirm its booking (or refund if seats are gone).

    Tolerates duplicates and out-of-order events: acts only from the states it expects.
    An amount or currency that differs from the booking flags it for staff instead.
    """
    now = now or timezone.now()
    refund_after_commit = None
    with transaction.atomic():
        payment = _find_payment(session)
        if payment is None:
            logger.warning("checkout session %s matches no payment", session.get("id"))
            return None
        booking = Booking.objects.select_for_update().get(pk=payment.booking_id)
        amount = int(session.get("amount_total") or 0)
        currency = str(session.get("currency") or "").upper()
        updates = {
            "checkout_session_id": payment.checkout_session_id or session.get("id"),
            "payment_intent_id": session.get("payment_intent") or payment.payment_intent_id,
        }
        for field, value in updates.items():
            setattr(payment, field, value)
        if payment.status in (P.CREATED, P.PENDING):
            payment.amount_received = amount
            payment_move(
                payment=payment,
                to=P.SUCCEEDED,
                reason=gettext_noop("checkout session paid"),
                extra_fields=("amount_received", "checkout_session_id", "payment_intent_id"),
            )
        elif payment.status != P.SUCCEEDED:
            return booking  # already refunded or failed: nothing to do
        if booking.status in (B.CONFIRMED, B.CANCELLED, B.REFUNDED):
            return booking  # a duplicate or late event
        if amount != booking.total_amount or currency != booking.currency:
            booking.flagged = True
            booking.flag_reason = _("Amount paid %(paid)s does not match the booking total %(total)s.") % {
                "paid": f"{amount} {currency}",
                "total": booking.total.format(),
            }
            booking.save(update_fields=["flagged", "flag_reason", "updated_at"])
            # Money was taken: keep the seats (if still free) until staff resolve the flag.
            with contextlib.suppress(SeatsUnavailable):
                seat_hold_make_permanent(hold=booking.hold, now=now)
            return booking
        try:
            seat_hold_make_permanent(hold=booking.hold, now=now)
        except SeatsUnavailable:
            if booking.status != B.EXPIRED:
                booking_move(booking=booking, to=B.EXPIRED, reason=gettext_noop("hold expired before payment"), now=now)
            booking_move(
                booking=booking, to=B.REFUNDED, reason=gettext_noop("paid after the seats were gone: refunded"), now=now
            )
            refund_after_commit = _refund_record(
                payment=payment, amount=payment.amount_received, reason=gettext_noop("seats no longer available")
            )
        else:
            booking_move(booking=booking, to=B.CONFIRMED, reason=gettext_noop("payment received"), now=now)
            _hooks_run("BOOKING_PAYMENT_CAPTURED_HOOKS", booking=booking, payment=payment)
            from .tasks import booking_confirmation_send

            transaction.on_commit(lambda: booking_confirmation_send.delay(booking.pk), robust=True)
    if refund_after_commit is not None:
        from .tasks import booking_departure_cancelled_send, booking_late_payment_notify, refund_execute

        refund_id = refund_after_commit.pk
        transaction.on_commit(lambda: refund_execute.delay(refund_id), robust=True)
        cancelled = Departure.objects.filter(pk=booking.departure_id, status=Departure.Status.CANCELLED).exists()
        notify = booking_departure_cancelled_send if cancelled else booking_late_payment_notify
        transaction.on_commit(lambda: notify.delay(booking.pk), robust=True)
    return booking


def payment_charge_record(*, payment_id: int) -> None:
    """Look up and store the charge id of a succeeded payment (network call outside transactions)."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.charge_id or not payment.payment_intent_id:
        return
    facts = gateway.payment_intent_charge(payment.payment_intent_id)
    with transaction.atomic():
        updated = Payment.objects.filter(pk=payment_id, charge_id="").update(charge_id=facts.charge_id)
        if updated and facts.fee:
            payment.charge_id = facts.charge_id
            _hooks_run(
                "BOOKING_PAYMENT_FEE_HOOKS",
                payment=payment,
                fee=facts.fee,
                currency=facts.fee_currency or payment.currency,
            )


def payment_fail(*, session: dict, reason: str) -> Booking | None:
    """An async payment failed: the traveller may try again while the hold lasts."""
    with transaction.atomic():
        payment = _find_payment(session)
        if payment is None or payment.status not in (P.CREATED, P.PENDING):
            return None
        payment_move(payment=payment, to=P.FAILED, reason=reason)
        booking = Booking.objects.select_for_update().get(pk=payment.booking_id)
        if booking.status == B.AWAITING_PAYMENT:
            booking_move(booking=booking, to=B.HELD, reason=reason)
        return booking


def payment_pending(*, session: dict) -> None:
    with transaction.atomic():
        payment = _find_payment(session)
        if payment is not None and payment.status == P.CREATED:
            payment_move(payment=payment, to=P.PENDING, reason=gettext_noop("asynchronous payment started"))


def checkout_session_expire(*, session: dict, now=None) -> Booking | None:
    """Stripe expired the session: the booking's hold ends now unless it was paid."""
    with transaction.atomic():
        payment = _find_payment(session)
        if payment is None:
            return None
        if payment.status in (P.CREATED, P.PENDING):
            payment_move(payment=payment, to=P.FAILED, reason=gettext_noop("checkout session expired"))
        booking = Booking.objects.select_for_update().get(pk=payment.booking_id)
        if booking.status in (B.HELD, B.AWAITING_PAYMENT):
            booking_move(booking=booking, to=B.EXPIRED, reason=gettext_noop("checkout session expired"), now=now)
            seat_hold_release(hold=booking.hold, now=now)
        return booking


def booking_expire_holds(*, now=None) -> int:
    """Mark every booking whose hold has expired (beat task). Availability already ignores them."""
    now = now or timezone.now()
    expired = 0
    ids = list(
        Booking.objects.filter(status__in=(B.HELD, B.AWAITING_PAYMENT), expires_at__lte=now, flagged=False).values_list(
            "pk", flat=True
        )
    )
    for booking_id in ids:
        with transaction.atomic():
            booking = Booking.objects.select_for_update().get(pk=booking_id)
            if booking.status in (B.HELD, B.AWAITING_PAYMENT) and booking.expires_at <= now:
                booking_move(booking=booking, to=B.EXPIRED, reason=gettext_noop("hold expired"), now=now)
                seat_hold_release(hold=booking.hold, now=now)
                expired += 1
    return expired


def booking_flag(*, booking_id: int, reason: str) -> None:
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking_id)
        booking.flagged = True
        booking.flag_reason = reason[:300]
        booking.save(update_fields=["flagged", "flag_reason", "updated_at"])


# -- cancellation and refunds --------------------------------------------------------------


@dataclass(frozen=True)
class RefundQuote:
    days_before: int
    percent: int
    amount: Money

    @property
    def is_full(self) -> bool:
        return self.percent == 100


def booking_refund_quote(*, booking: Booking, now=None) -> RefundQuote:
    """What the tour's cancellation policy refunds if the traveller cancels now."""
    now = now or timezone.now()
    tour = booking.departure.tour
    days = (timezone.localdate(booking.departure.starts_at) - timezone.localdate(now)).days
    if days >= tour.full_refund_days:
        percent = 100
    elif days >= tour.partial_refund_days:
        percent = tour.partial_refund_percent
    else:
        percent = 0
    paid = sum(
        p.amount_received - p.amount_refunded
        for p in booking.payments.all()
        if p.status in (P.SUCCEEDED, P.PARTIALLY_REFUNDED)
    )
    return RefundQuote(days_before=days, percent=percent, amount=Money(paid * percent // 100, booking.currency))


def _refund_record(*, payment: Payment, amount: int, reason: str, actor=None) -> Refund:
    """Write the refund intention (inside the caller's transaction); the Stripe call comes after commit."""
    # Refunds recorded but not yet executed at Stripe count too: two quick refunds never exceed the payment.
    pending = sum(r.amount for r in payment.refunds.filter(status=Refund.Status.PENDING))
    remaining = payment.amount_received - payment.amount_refunded - pending
    if amount <= 0:
        raise BookingError(_("A refund must be more than zero."))
    if amount > remaining:
        raise BookingError(
            _("The refund is more than what remains of the payment (%(rest)s).")
            % {"rest": Money(remaining, payment.currency).format()}
        )
    sequence = payment.refunds.count() + 1
    return Refund.objects.create(
        payment=payment,
        amount=amount,
        reason=reason[:300],
        idempotency_key=f"refund-{payment.pk}-{sequence}",
        created_by=actor,
    )


def booking_cancel(*, booking: Booking, actor, reason: str, now=None) -> tuple[Booking, Refund | None]:
    """Cancel a confirmed booking per its tour's policy; the refund runs after commit."""
    now = now or timezone.now()
    refund = None
    with transaction.atomic():
        # Lock order everywhere: payment, then booking (as the webhook handlers do).
        payments = list(Payment.objects.select_for_update().filter(booking_id=booking.pk).order_by("pk"))
        booking = Booking.objects.select_for_update(of=("self",)).select_related("departure__tour").get(pk=booking.pk)
        if booking.status != B.CONFIRMED:
            raise BookingError(_("Only a confirmed booking can be cancelled."))
        if booking.departure.starts_at <= now:
            raise BookingError(_("This tour has already started."))
        quote = booking_refund_quote(booking=booking, now=now)
        payment = next((p for p in payments if p.status in (P.SUCCEEDED, P.PARTIALLY_REFUNDED)), None)
        from .tasks import booking_cancellation_send

        refunds = _booking_cancel_locked(
            booking=booking,
            to=B.CANCELLED,
            refunds=[(payment, quote.amount.amount)] if payment is not None else [],
            reason=reason,
            actor=actor,
            now=now,
            notify=booking_cancellation_send,
        )
        refund = refunds[0] if refunds else None
    return booking, refund


def _booking_cancel_locked(
    *, booking: Booking, to: str, refunds: list[tuple[Payment, int]], reason: str, actor, now, notify
) -> list[Refund]:
    """The one cancellation path (the traveller's and the operator's): inside the caller's transaction,
    with the booking's payments and the booking locked.

    Moves the booking to ``to``, releases its seats and records each refund (skipping zero amounts);
    after commit, the e-mail task ``notify`` and the Stripe refunds run in Celery. When a refund
    succeeds, ``_payment_refunded_total`` runs the refund hooks, which reverse the revenue shares.
    """
    from .tasks import refund_execute

    booking_move(booking=booking, to=to, reason=reason, actor=actor, now=now)
    seat_hold_release(hold=booking.hold, now=now)
    records = [
        _refund_record(payment=payment, amount=amount, reason=reason, actor=actor)
        for payment, amount in refunds
        if amount > 0
    ]
    booking_id = booking.pk
    transaction.on_commit(lambda: notify.delay(booking_id), robust=True)
    for record in records:
        refund_id = record.pk
        transaction.on_commit(lambda refund_id=refund_id: refund_execute.delay(refund_id), robust=True)
    return records


# -- cancelling a departure (staff) ----------------------------------------------------------------


@dataclass
class DepartureCancellation:
    """What ``departure_cancel_with_bookings`` did."""

    departure: Departure
    departure_cancelled: bool  # False: it was cancelled before (this run finished the bookings' side)
    refunded: list[tuple[Booking, list[Refund]]]  # bookings cancelled, with the full refunds recorded
    released: list[Booking]  # seats held by travellers who had not paid: hold ended


def _remaining(payment: Payment) -> int:
    return payment.amount_received - payment.amount_refunded


def departure_cancel_with_bookings(*, departure_id: int, actor, reason: str, now=None) -> DepartureCancellation:
    """Cancel a departure, cancel its bookings and refund each one in full, and e-mail the travellers.

    First the departure is marked cancelled (``tours.services.departure_cancel``: from then on no seat
    can be held and no late payment confirmed — it is refunded instead). Then each booking is handled
    in its own short transaction, locking its payments and then the booking (the lock order of every
    booking service), through the same path as a traveller's cancellation (``_booking_cancel_locked``)
    but refunding everything that was paid, whatever the tour's policy. Bookings with nothing paid
    (seats held, payment not finished) just end their hold. Running it again on a cancelled departure
    finishes whatever an interrupted run left, and changes nothing else.
    """
    now = now or timezone.now()
    departure, changed = departure_cancel(departure_id=departure_id, now=now)
    outcome = DepartureCancellation(departure=departure, departure_cancelled=changed, refunded=[], released=[])
    open_statuses = (B.HELD, B.AWAITING_PAYMENT, B.CONFIRMED, B.EXPIRED)
    booking_ids = list(
        Booking.objects.filter(departure_id=departure.pk, status__in=open_statuses)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for booking_id in booking_ids:
        kind, booking, refunds = _booking_cancel_for_departure(
            booking_id=booking_id, actor=actor, reason=reason, now=now
        )
        if kind == "refunded":
            outcome.refunded.append((booking, refunds))
        elif kind == "released":
            outcome.released.append(booking)
    return outcome


def _booking_cancel_for_departure(*, booking_id: int, actor, reason: str, now) -> tuple[str, Booking, list[Refund]]:
    from .tasks import booking_departure_cancelled_send

    with transaction.atomic():
        payments = list(Payment.objects.select_for_update().filter(booking_id=booking_id).order_by("pk"))
        booking = Booking.objects.select_for_update(of=("self",)).select_related("hold").get(pk=booking_id)
        paid = [p for p in payments if p.status in (P.SUCCEEDED, P.PARTIALLY_REFUNDED) and _remaining(p) > 0]
        if booking.status == B.CONFIRMED or (booking.status in (B.HELD, B.AWAITING_PAYMENT, B.EXPIRED) and paid):
            # Confirmed, or money taken without a confirmation (a flagged amount mismatch): all of it back.
            refunds = _booking_cancel_locked(
                booking=booking,
                to=B.REFUNDED if booking.status == B.EXPIRED else B.CANCELLED,
                refunds=[(payment, _remaining(payment)) for payment in paid],
                reason=reason,
                actor=actor,
                now=now,
                notify=booking_departure_cancelled_send,
            )
            return "refunded", booking, refunds
        if booking.status in (B.HELD, B.AWAITING_PAYMENT):
            booking_move(booking=booking, to=B.EXPIRED, reason=reason, actor=actor, now=now)
            seat_hold_release(hold=booking.hold, now=now)
            return "released", booking, []
        return "unchanged", booking, []


# -- check-in on the day of the tour (staff) ----------------------------------------------------------


def participant_check_in(
    *, participant_id: int, departure_id: int, present: bool, actor, now=None
) -> tuple[Participant, bool]:
    """Mark a traveller of a departure as shown up (``present``) or not; returns (participant, changed).

    The participant must belong to a confirmed booking of ``departure_id`` (else DoesNotExist or
    BookingError). Marking twice changes nothing; who and when are kept on the participant.
    """
    now = now or timezone.now()
    with transaction.atomic():
        participant = (
            Participant.objects.select_for_update(of=("self",))
            .select_related("booking")
            .get(pk=participant_id, booking__departure_id=departure_id)
        )
        if participant.booking.status != B.CONFIRMED:
            raise BookingError(_("Only travellers of a confirmed booking can be checked in."))
        if present == (participant.checked_in_at is not None):
            return participant, False
        participant.checked_in_at = now if present else None
        participant.checked_in_by = actor if present else None
        participant.save(update_fields=["checked_in_at", "checked_in_by"])
    return participant, True


# -- staff operations (the booking admin calls these; each is one transaction) ---------------

CONTACT_FIELDS = (
    "contact_name",
    "contact_email",
    "contact_phone",
    "emergency_contact_name",
    "emergency_contact_phone",
    "language",
)


def _departure_label(departure: Departure) -> str:
    return date_format(timezone.localtime(departure.starts_at), "D j M Y, H:i")


def _confirmation_send_after_commit(booking_id: int) -> None:
    """Send the confirmation (again) after commit: clear the "sent" mark the task claims."""
    from .tasks import booking_confirmation_send

    Booking.objects.filter(pk=booking_id).update(confirmation_sent_at=None)
    transaction.on_commit(lambda: booking_confirmation_send.delay(booking_id), robust=True)


def booking_departure_move(
    *, booking_id: int, departure_id: int, actor, notify: bool = True, now=None
) -> tuple[Booking, BookingNote]:
    """Move a confirmed booking to another departure of the same tour; its price does not change.

    One transaction, lock order booking → departure: the new seats are taken through the seat-hold
    service under the new departure's row lock (so a full departure is refused exactly as for a
    traveller), then the old hold is released. ``notify`` e-mails the updated confirmation after commit.
    Raises BookingError with a message for staff; nothing is changed then.
    """
    now = now or timezone.now()
    with transaction.atomic():
        booking = Booking.objects.select_for_update(of=("self",)).select_related("departure", "hold").get(pk=booking_id)
        old = booking.departure
        target = Departure.objects.filter(pk=departure_id).first()
        if booking.status != B.CONFIRMED:
            raise BookingError(_("Only a confirmed booking can be moved."))
        if target is None:
            raise BookingError(_("This departure does not exist."))
        if target.pk == old.pk:
            raise BookingError(_("The booking is already on this departure."))
        if target.tour_id != old.tour_id:
            raise BookingError(_("A booking can only move to another departure of the same tour."))
        if old.starts_at <= now:
            raise BookingError(_("This booking's departure has already started; it cannot be moved."))
        if target.starts_at <= now:
            raise BookingError(
                _("The departure of %(date)s has already started: choose a future departure.")
                % {"date": _departure_label(target)}
            )
        if target.status != Departure.Status.OPEN:
            raise BookingError(
                _("The departure of %(date)s is not open (%(status)s).")
                % {"date": _departure_label(target), "status": target.get_status_display()}
            )
        try:
            hold = departure_seats_hold(departure_id=target.pk, units=booking.units, expires_at=None, now=now)
        except SeatsUnavailable as exc:
            raise BookingError(
                ngettext(
                    "The departure of %(date)s is full: %(left)s seat left, this booking needs %(units)s.",
                    "The departure of %(date)s is full: %(left)s seats left, this booking needs %(units)s.",
                    exc.seats_left,
                )
                % {"date": _departure_label(target), "left": exc.seats_left, "units": booking.units}
            ) from exc
        seat_hold_release(hold=booking.hold, now=now)
        booking.departure = hold.departure
        booking.hold = hold
        booking.reminder_sent_at = None  # the reminder is due again, for the new date
        booking.save(update_fields=["departure", "hold", "reminder_sent_at", "updated_at"])
        note = BookingNote.objects.create(
            booking=booking,
            kind=BookingNote.Kind.MOVED,
            author=actor,
            text=_("Moved from the departure of %(old)s to the departure of %(new)s.")
            % {"old": _departure_label(old), "new": _departure_label(target)},
        )
        if notify:
            _confirmation_send_after_commit(booking.pk)
    return booking, note


def booking_refund_partial(*, booking_id: int, amount: Money, reason: str, actor) -> Refund:
    """Refund part of a booking's payment (staff), through the cancellation's refund path.

    The refund row is written here, Stripe is called after commit (``refund_execute``), and the
    revenue shares are reversed in proportion when Stripe confirms (BOOKING_PAYMENT_REFUNDED_HOOKS).
    The booking's status does not change. Refused: nothing or less, more than what remains of the
    payment (refunds still pending count), another currency, no reason.
    """
    reason = (reason or "").strip()
    if not reason:
        raise BookingError(_("Give the reason for the refund."))
    with transaction.atomic():
        # Lock order everywhere: payment, then booking.
        payments = list(Payment.objects.select_for_update().filter(booking_id=booking_id).order_by("pk"))
        booking = Booking.objects.select_for_update().get(pk=booking_id)
        if amount.currency != booking.currency:
            raise BookingError(_("The refund must be in the booking's currency (%(c)s).") % {"c": booking.currency})
        payment = next((p for p in payments if p.status in (P.SUCCEEDED, P.PARTIALLY_REFUNDED)), None)
        if payment is None:
            raise BookingError(_("This booking has no payment left to refund."))
        refund = _refund_record(payment=payment, amount=amount.amount, reason=reason, actor=actor)
        from .tasks import refund_execute

        refund_id = refund.pk
        transaction.on_commit(lambda: refund_execute.delay(refund_id), robust=True)
    return refund


def booking_confirmation_resend(*, booking_id: int) -> Booking:
    """E-mail the confirmation of a confirmed booking again (after commit, once per call)."""
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking_id)
        if booking.status != B.CONFIRMED:
            raise BookingError(_("Only a confirmed booking has a confirmation to send."))
        _confirmation_send_after_commit(booking.pk)
    return booking


def booking_note_add(*, booking_id: int, author, text: str) -> BookingNote:
    text = (text or "").strip()
    if not text:
        raise BookingError(_("Write the note first."))
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking_id)
        return BookingNote.objects.create(booking=booking, kind=BookingNote.Kind.NOTE, author=author, text=text)


def booking_flag_resolve(*, booking_id: int, actor, note: str) -> BookingNote:
    """Clear a booking's flag (amount mismatch, dispute, failed refund) with staff's note of what was done."""
    note = (note or "").strip()
    if not note:
        raise BookingError(_("Say how the flag was resolved."))
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking_id)
        if not booking.flagged:
            raise BookingError(_("This booking is not flagged."))
        record = BookingNote.objects.create(
            booking=booking,
            kind=BookingNote.Kind.FLAG_RESOLVED,
            author=actor,
            text=_("Flag “%(reason)s” resolved: %(note)s") % {"reason": booking.flag_reason, "note": note},
        )
        booking.flagged = False
        booking.flag_reason = ""
        booking.save(update_fields=["flagged", "flag_reason", "updated_at"])
    return record


def booking_contact_update(*, booking_id: int, changes: dict) -> Booking:
    """Correct the contact details of a booking (staff). Only ``CONTACT_FIELDS`` can change."""
    unknown = set(changes) - set(CONTACT_FIELDS)
    if unknown:
        raise BookingError(f"not contact fields: {sorted(unknown)}")
    if not changes:
        return Booking.objects.get(pk=booking_id)
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking_id)
        for field, value in changes.items():
            setattr(booking, field, value)
        booking.save(update_fields=[*changes, "updated_at"])
    return booking


def refund_execute(*, refund_id: int) -> Refund:
    """Send a recorded refund to Stripe (idempotent) and book its effect on the payment."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != Refund.Status.PENDING:
        return refund
    payment = refund.payment
    try:
        stripe_refund_id = gateway.refund_create(
            payment_intent_id=payment.payment_intent_id,
            amount=refund.amount,
            idempotency_key=refund.idempotency_key,
            metadata={"booking": payment.booking.reference, "refund_id": str(refund.pk)},
        )
    except (stripe.InvalidRequestError, stripe.PermissionError, stripe.AuthenticationError) as exc:
        # Permanent: Stripe will not do it however often we ask. Record it and tell staff.
        with transaction.atomic():
            Refund.objects.filter(pk=refund_id, status=Refund.Status.PENDING).update(status=Refund.Status.FAILED)
            booking_flag(
                booking_id=payment.booking_id,
                reason=_("Refund of %(amount)s failed at Stripe: %(error)s")
                % {"amount": Money(refund.amount, payment.currency).format(), "error": exc.user_message or exc},
            )
        logger.error("refund %s refused by Stripe: %s", refund_id, exc)
        return Refund.objects.get(pk=refund_id)
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != Refund.Status.PENDING:
            return refund
        refund.status = Refund.Status.SUCCEEDED
        refund.stripe_refund_id = stripe_refund_id
        refund.save(update_fields=["status", "stripe_refund_id"])
        _payment_refunded_total(payment_id=payment.pk, refunded=None, reason=f"refund {stripe_refund_id}")
    return refund


def _payment_refunded_total(*, payment_id: int, refunded: int | None, reason: str) -> Payment:
    """Bring the payment's refunded total and status up to date (inside a transaction).

    ``refunded`` is Stripe's figure (charge.refunded events); None means "sum our refunds".
    The larger of Stripe's and ours wins, so the order of events does not matter.
    """
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    ours = sum(r.amount for r in payment.refunds.filter(status=Refund.Status.SUCCEEDED))
    total = min(max(ours, refunded or 0), payment.amount_received)
    if total <= payment.amount_refunded:
        return payment
    delta = total - payment.amount_refunded
    payment.amount_refunded = total
    to = P.REFUNDED if total >= payment.amount_received else P.PARTIALLY_REFUNDED
    payment_move(payment=payment, to=to, reason=reason, extra_fields=("amount_refunded",))
    _hooks_run("BOOKING_PAYMENT_REFUNDED_HOOKS", payment=payment, amount=delta, reason=reason)
    booking = Booking.objects.select_for_update().get(pk=payment.booking_id)
    if to == P.REFUNDED and booking.status == B.CANCELLED:
        booking_move(booking=booking, to=B.REFUNDED, reason=reason)
    elif booking.status == B.CONFIRMED and total > ours:
        # Refunded outside the platform (Stripe dashboard): staff decide what happens to the booking.
        booking.flagged = True
        booking.flag_reason = _("%(amount)s was refunded outside the platform; the booking is still confirmed.") % {
            "amount": Money(total - ours, payment.currency).format()
        }
        booking.save(update_fields=["flagged", "flag_reason", "updated_at"])
    return payment


def charge_refunded_record(*, charge: dict) -> None:
    """A charge.refunded event: Stripe's refunded total is the truth (refunds made in the dashboard too)."""
    with transaction.atomic():
        payment = Payment.objects.filter(payment_intent_id=charge.get("payment_intent") or "-").only("pk").first()
        if payment is None:
            return
        _payment_refunded_total(
            payment_id=payment.pk, refunded=int(charge.get("amount_refunded") or 0), reason="charge.refunded"
        )


# -- events --------------------------------------------------------------------------------


def stripe_event_record(*, event: dict) -> tuple[StripeEvent, bool]:
    """Store a verified event once. Returns (event, created); a duplicate is a no-op."""
    try:
        with transaction.atomic():
            return StripeEvent.objects.create(event_id=event["id"], type=event["type"], payload=event), True
    except IntegrityError:
        return StripeEvent.objects.get(event_id=event["id"]), False


def stripe_event_dispatch(*, event_pk: int) -> None:
    """After a webhook event is stored: hand it to a worker. With the broker unreachable, handle
    it here and now (a traveller who paid during a Redis outage is confirmed at once instead of
    when the stuck-event sweeper comes by); if that fails too, the sweeper retries it."""
    from .tasks import stripe_event_process

    try:
        stripe_event_process.delay(event_pk)
        return
    except Exception:  # kombu's OperationalError and friends: the broker cannot take the task
        logger.warning("broker unreachable: handling Stripe event %s in the request", event_pk, exc_info=True)
    try:
        stripe_event_handle(event_pk=event_pk)
    except Exception:
        logger.exception("Stripe event %s failed in the request; the stuck-event sweeper retries it", event_pk)


def stripe_event_handle(*, event_pk: int) -> str:
    """Act on a stored event exactly once (the Celery task and the simulated checkout call this)."""
    with transaction.atomic():
        event = StripeEvent.objects.select_for_update().get(pk=event_pk)
        if event.status != StripeEvent.Status.RECEIVED:
            return event.status
        obj = (event.payload.get("data") or {}).get("object") or {}
        kind = event.type
        if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
            if obj.get("payment_status") in ("paid", "no_payment_required"):
                booking = payment_confirm(session=obj)
                if booking is not None:
                    payment_id = (obj.get("metadata") or {}).get("payment_id")
                    _charge_lookup_after_commit(payment_id)
            else:
                payment_pending(session=obj)
        elif kind == "checkout.session.async_payment_failed":
            payment_fail(session=obj, reason=gettext_noop("asynchronous payment failed"))
        elif kind == "checkout.session.expired":
            checkout_session_expire(session=obj)
        elif kind == "charge.refunded":
            charge_refunded_record(charge=obj)
        elif kind == "charge.dispute.created":
            _dispute_record(dispute=obj)
        elif kind in settings.STRIPE_EVENT_HOOKS:
            import_string(settings.STRIPE_EVENT_HOOKS[kind])(obj=obj)
        else:
            event.status = StripeEvent.Status.IGNORED
        if event.status == StripeEvent.Status.RECEIVED:
            event.status = StripeEvent.Status.PROCESSED
        event.processed_at = timezone.now()
        event.save(update_fields=["status", "processed_at"])
        return event.status


def _charge_lookup_after_commit(payment_id) -> None:
    if payment_id and str(payment_id).isdigit():
        from .tasks import payment_charge_record_task

        transaction.on_commit(lambda: payment_charge_record_task.delay(int(payment_id)), robust=True)


def _dispute_record(*, dispute: dict) -> None:
    charge_id = dispute.get("charge") or ""
    intent_id = dispute.get("payment_intent") or ""
    payment = Payment.objects.filter(charge_id=charge_id).first() if charge_id else None
    if payment is None and intent_id:
        payment = Payment.objects.filter(payment_intent_id=intent_id).first()
    if payment is None:
        return
    amount = Money(int(dispute.get("amount") or 0), str(dispute.get("currency") or payment.currency).upper())
    booking_flag(
        booking_id=payment.booking_id,
        reason=_("Payment disputed (%(amount)s at risk): %(reason)s")
        % {"amount": amount.format(), "reason": dispute.get("reason", "")},
    )


def simulated_checkout_complete(*, payment: Payment, outcome: str) -> StripeEvent | None:
    """The simulated checkout's Pay / Decline / Abandon, fed through the webhook's handler."""
    if not settings.SIMULATED_CHECKOUT:
        raise BookingError(_("The simulated checkout is not available."))
    booking = payment.booking
    session = {
        "id": payment.checkout_session_id,
        "object": "checkout.session",
        "amount_total": payment.amount,
        "currency": payment.currency.lower(),
        "client_reference_id": booking.reference,
        "metadata": {"booking_id": str(booking.pk), "payment_id": str(payment.pk), "reference": booking.reference},
        "payment_intent": f"pi_sim_{payment.pk}",
        "payment_status": "paid",
        "status": "complete",
    }
    if outcome == "pay":
        event_type = "checkout.session.completed"
    elif outcome == "decline":
        event_type = "checkout.session.async_payment_failed"
        session.update(payment_status="unpaid")
    elif outcome == "abandon":
        event_type = "checkout.session.expired"
        session.update(payment_status="unpaid", status="expired")
    else:
        raise BookingError(_("Unknown checkout action."))
    event = {
        "id": f"evt_sim_{payment.pk}_{outcome}",
        "object": "event",
        "type": event_type,
        "created": int(timezone.now().timestamp()),
        "data": {"object": session},
    }
    record, created = stripe_event_record(event=event)
    if created:
        stripe_event_handle(event_pk=record.pk)
        record.refresh_from_db()
    return record


def departure_get_bookable(*, departure_id: int) -> Departure:
    return Departure.objects.select_related("tour").get(pk=departure_id)


# -- accounts --------------------------------------------------------------------------------

ANONYMISED = "—"


def traveller_account_delete(*, user) -> None:
    """Delete a traveller's account: bookings stay for the operator, personal data goes.

    Refused while a booking is held or awaiting payment (its payment could still arrive).
    """
    from allauth.account.models import EmailAddress

    with transaction.atomic():
        if Booking.objects.filter(user=user, status__in=(B.HELD, B.AWAITING_PAYMENT)).exists():
            raise BookingError(_("Finish or let your pending booking expire before deleting your account."))
        bookings = Booking.objects.filter(user=user)
        Participant.objects.filter(booking__in=bookings).update(full_name=ANONYMISED, dietary_needs="")
        bookings.update(
            contact_name=ANONYMISED,
            contact_email=f"deleted-{user.pk}@invalid.example",
            contact_phone="",
            emergency_contact_name="",
            emergency_contact_phone="",
            notes="",
        )
        EmailAddress.objects.filter(user=user).delete()
        user.email = f"deleted-{user.pk}@invalid.example"
        user.first_name = user.last_name = user.phone = user.country = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()


def stripe_events_stuck(*, older_than_minutes: int = 5, now=None) -> list[int]:
    """Events still "received" after a while (a lost task, a deadlock victim): to be re-run."""
    now = now or timezone.now()
    return list(
        StripeEvent.objects.filter(
            status=StripeEvent.Status.RECEIVED, received_at__lte=now - timedelta(minutes=older_than_minutes)
        ).values_list("pk", flat=True)[:500]
    )


def booking_confirmations_unsent(*, older_than_minutes: float = 10, within_hours: float = 24, now=None) -> list[int]:
    """Confirmed bookings whose confirmation e-mail never left: its task was not published (the
    broker was down when the confirmation committed) or was lost with the broker's data.

    Confirmed between ``within_hours`` and ``older_than_minutes`` ago: younger ones may still be
    queued; older ones are left alone (an address that keeps refusing mail is not retried forever).
    """
    now = now or timezone.now()
    return list(
        Booking.objects.filter(
            status=B.CONFIRMED,
            confirmation_sent_at__isnull=True,
            confirmed_at__gt=now - timedelta(hours=within_hours),
            confirmed_at__lte=now - timedelta(minutes=older_than_minutes),
        )
        .order_by("confirmed_at")
        .values_list("pk", flat=True)[:500]
    )


def payments_without_charge(*, older_than_minutes: float = 10, within_hours: float = 24, now=None) -> list[int]:
    """Paid Stripe payments whose charge was never looked up (the task was lost with the broker, and no
    share's routing did it: bank recipients, or the booking was cancelled first), so Stripe's fee is
    not in the ledger. Last changed between ``within_hours`` and ``older_than_minutes`` ago."""
    now = now or timezone.now()
    return list(
        Payment.objects.filter(
            provider=Payment.Provider.STRIPE,
            status__in=(P.SUCCEEDED, P.PARTIALLY_REFUNDED, P.REFUNDED),
            charge_id="",
            updated_at__gt=now - timedelta(hours=within_hours),
            updated_at__lte=now - timedelta(minutes=older_than_minutes),
        )
        .exclude(payment_intent_id="")
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )


def refunds_stuck(*, older_than_minutes: float = 10, now=None) -> list[int]:
    """Refunds recorded but still not made at Stripe after a while (their task was lost, or gave up
    on a long Stripe outage): to be run again. ``refund_execute`` is idempotent."""
    now = now or timezone.now()
    return list(
        Refund.objects.filter(status=Refund.Status.PENDING, created_at__lte=now - timedelta(minutes=older_than_minutes))
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
