"""Reads for travellers' bookings. Every lookup is scoped to its owner: another user's
reference is a 404, never a 403 that would confirm it exists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cacaotours.core.money import Money
from tours.models import Departure, ItineraryStop
from tours.selectors import departure_queryset_with_availability

from .models import (
    Booking,
    BookingNote,
    BookingStatus,
    BookingTransition,
    Participant,
    Payment,
    PaymentStatus,
    PaymentTransition,
    Refund,
)

PAID_STATUSES = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


def booking_list_for_user(*, user) -> QuerySet[Booking]:
    return Booking.objects.filter(user=user).select_related("departure__tour__route").order_by("-created_at")


def booking_get_for_user(*, user, reference: str) -> Booking:
    if not user.is_authenticated:
        raise Http404("No such booking")
    booking = (
        Booking.objects.filter(user=user, reference=reference.upper())
        .select_related("departure__tour__route", "hold")
        .prefetch_related(
            Prefetch("participants", queryset=Participant.objects.order_by("id")),
            Prefetch("payments", queryset=Payment.objects.order_by("-created_at")),
            Prefetch(
                "departure__tour__stops",
                queryset=ItineraryStop.objects.select_related("farm", "farm__cooperative").order_by("day", "order"),
            ),
        )
        .first()
    )
    if booking is None:
        raise Http404("No such booking")
    return booking


def payment_get_by_session(*, session_id: str) -> Payment:
    payment = Payment.objects.select_related("booking__departure__tour").filter(checkout_session_id=session_id).first()
    if payment is None:
        raise Http404("No such checkout session")
    return payment


def departure_get_for_booking(*, departure_id: int):
    departure = departure_queryset_with_availability().select_related("tour__route").filter(pk=departure_id).first()
    if departure is None or not departure.tour.is_published:
        raise Http404("No such departure")
    return departure


# -- departure manifests (staff) --------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestBooking:
    booking: Booking
    participants: list[Participant]
    paid: Money
    refunded: Money

    @property
    def language_name(self) -> str:
        return str(dict(settings.LANGUAGES).get(self.booking.language, self.booking.language))

    @property
    def payment_status(self) -> str:
        """ "Paid S/ 700.00", "Paid S/ 700.00 · refunded S/ 350.00" or "Not paid"."""
        if not self.paid.amount:
            return _("Not paid")
        if self.refunded.amount:
            return _("Paid %(paid)s · refunded %(refunded)s") % {
                "paid": self.paid.format(),
                "refunded": self.refunded.format(),
            }
        return _("Paid %(paid)s") % {"paid": self.paid.format()}


@dataclass(frozen=True)
class Manifest:
    departure: Departure
    bookings: list[ManifestBooking]

    @property
    def adults(self) -> int:
        return sum(row.booking.adults for row in self.bookings)

    @property
    def children(self) -> int:
        return sum(row.booking.children for row in self.bookings)

    @property
    def participants(self) -> int:
        return sum(len(row.participants) for row in self.bookings)

    @property
    def checked_in(self) -> int:
        return sum(1 for row in self.bookings for p in row.participants if p.checked_in_at)

    @property
    def seats_held(self) -> int:
        """Seats held by travellers who are still paying (not on the manifest yet)."""
        return max(self.departure.seats_taken - self.adults - self.children, 0)

    @property
    def dietary_needs(self) -> list[Participant]:
        return [p for row in self.bookings for p in row.participants if p.dietary_needs]


def departure_manifests(*, departure_ids=None, day: date | None = None) -> list[Manifest]:
    """The manifests of some departures, or of every departure starting on ``day`` (Lima) that is not
    cancelled: the confirmed bookings with their participants (who checked them in), payments and
    notes. Four queries, whatever the number of departures, bookings or participants."""
    departures = departure_queryset_with_availability().select_related("tour").order_by("starts_at", "pk")
    if day is not None:
        lima = timezone.get_default_timezone()
        start = datetime.combine(day, time.min, tzinfo=lima)
        departures = departures.filter(starts_at__gte=start, starts_at__lt=start + timedelta(days=1)).exclude(
            status=Departure.Status.CANCELLED
        )
    if departure_ids is not None:
        departures = departures.filter(pk__in=departure_ids)
    departures = list(departures)
    bookings = (
        Booking.objects.filter(departure__in=departures, status=BookingStatus.CONFIRMED)
        .order_by("contact_name", "reference")
        .prefetch_related(
            Prefetch("participants", queryset=Participant.objects.select_related("checked_in_by").order_by("id")),
            Prefetch("payments", queryset=Payment.objects.order_by("pk")),
        )
    )
    by_departure: dict[int, list[ManifestBooking]] = {departure.pk: [] for departure in departures}
    for booking in bookings:
        received = [p for p in booking.payments.all() if p.status in PAID_STATUSES]
        by_departure[booking.departure_id].append(
            ManifestBooking(
                booking=booking,
                participants=list(booking.participants.all()),
                paid=Money(sum(p.amount_received for p in received), booking.currency),
                refunded=Money(sum(p.amount_refunded for p in received), booking.currency),
            )
        )
    return [Manifest(departure=departure, bookings=by_departure[departure.pk]) for departure in departures]


MANIFEST_CSV_HEADER = (
    gettext_lazy("departure"),
    gettext_lazy("tour"),
    gettext_lazy("guide"),
    gettext_lazy("booking"),
    gettext_lazy("participant"),
    gettext_lazy("adult or child"),
    gettext_lazy("dietary needs"),
    gettext_lazy("language"),
    gettext_lazy("contact"),
    gettext_lazy("contact phone"),
    gettext_lazy("emergency contact"),
    gettext_lazy("emergency phone"),
    gettext_lazy("payment"),
    gettext_lazy("notes"),
    gettext_lazy("checked in at"),
    gettext_lazy("checked in by"),
)


def manifest_csv_rows(manifests: list[Manifest]):
    """One row per participant, in the order of ``MANIFEST_CSV_HEADER`` (times in Lima)."""
    for manifest in manifests:
        departure = manifest.departure
        starts = date_format(timezone.localtime(departure.starts_at), "Y-m-d H:i")
        for row in manifest.bookings:
            booking = row.booking
            for participant in row.participants:
                checked_in = participant.checked_in_at
                yield (
                    starts,
                    departure.tour.title,
                    departure.guide,
                    booking.reference,
                    participant.full_name,
                    _("child") if participant.is_child else _("adult"),
                    participant.dietary_needs,
                    row.language_name,
                    booking.contact_name,
                    booking.contact_phone,
                    booking.emergency_contact_name,
                    booking.emergency_contact_phone,
                    row.payment_status,
                    booking.notes,
                    date_format(timezone.localtime(checked_in), "Y-m-d H:i") if checked_in else "",
                    participant.checked_in_by.email if checked_in and participant.checked_in_by else "",
                )


# -- staff: the booking page of the admin ------------------------------------------------------

REFUNDABLE_PAYMENT_STATUSES = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)


def booking_refundable(*, booking: Booking) -> Money:
    """What can still be refunded: received − refunded − refunds not executed yet (2 queries)."""
    payments = list(booking.payments.filter(status__in=REFUNDABLE_PAYMENT_STATUSES))
    pending = Refund.objects.filter(payment__in=payments, status=Refund.Status.PENDING).aggregate(total=Sum("amount"))[
        "total"
    ]
    left = sum(p.amount_received - p.amount_refunded for p in payments) - (pending or 0)
    return Money(max(left, 0), booking.currency)


@dataclass(frozen=True)
class MoveOptions:
    departures: list[Departure]  # annotated with seats_left
    booked_total: Money
    current_total: Money | None  # what these travellers would pay at today's tour price; None: no children now

    @property
    def difference(self) -> Money | None:
        return None if self.current_total is None else self.current_total - self.booked_total


def booking_move_options(*, booking: Booking, now=None, limit: int = 60) -> MoveOptions:
    """Future departures of the booking's tour it could move to, with seats left, and the price gap (1 query).

    Full, closed or cancelled departures are listed too (the service refuses them with a reason);
    the booking keeps its price, so the difference is for staff to settle (a partial refund).
    """
    now = now or timezone.now()
    tour = booking.departure.tour
    departures = list(
        departure_queryset_with_availability(now)
        .filter(tour_id=tour.pk, starts_at__gt=now)
        .exclude(pk=booking.departure_id)
        .order_by("starts_at")[:limit]
    )
    current = None
    if not booking.children or tour.child is not None:
        current = tour.adult * booking.adults + (tour.child or Money.zero(tour.currency)) * booking.children
    return MoveOptions(departures=departures, booked_total=booking.total, current_total=current)


@dataclass(frozen=True)
class HistoryItem:
    at: datetime
    what: str
    detail: str
    actor: str


def stored_reason(text: str) -> str:
    """A reason as staff read it: reasons the system writes are stored in English (``gettext_noop``
    in services) and translated here; a reason a person typed is not in the catalog and stays as typed."""
    return _(text) if text else text


def _actor(user) -> str:
    return user.email if user is not None else _("system")


def booking_history(
    *, booking: Booking, refunds: list[Refund] | None = None, notes: list[BookingNote] | None = None
) -> list[HistoryItem]:
    """Every recorded change of a booking, oldest first: its state transitions, its payments'
    transitions, refunds and staff notes (4 queries whatever their number; 2 when the caller
    already has ``refunds`` and ``notes``)."""
    refunds = booking_refunds(booking=booking) if refunds is None else refunds
    notes = booking_notes(booking=booking) if notes is None else notes
    statuses = dict(BookingStatus.choices)
    payment_statuses = dict(PaymentStatus.choices)
    items = _transition_items(
        BookingTransition.objects.filter(booking=booking), _("Booking: %(from)s → %(to)s"), statuses
    )
    items += _transition_items(
        PaymentTransition.objects.filter(payment__booking=booking),
        _("Payment #%(n)s: %(from)s → %(to)s"),
        payment_statuses,
    )
    items += [
        HistoryItem(
            r.created_at,
            _("Refund of %(amount)s (%(status)s)")
            % {"amount": Money(r.amount, r.payment.currency), "status": r.get_status_display()},
            stored_reason(r.reason),
            _actor(r.created_by),
        )
        for r in refunds
    ]
    items += [HistoryItem(n.created_at, n.get_kind_display(), n.text, _actor(n.author)) for n in notes]
    return sorted(items, key=lambda item: item.at)


def _transition_items(transitions, label: str, statuses: dict) -> list[HistoryItem]:
    """History items of booking or payment transitions (1 query); ``label`` has %(from)s, %(to)s, maybe %(n)s."""
    return [
        HistoryItem(
            t.created_at,
            label
            % {
                "n": getattr(t, "payment_id", ""),
                "from": statuses.get(t.from_status, "—"),
                "to": statuses[t.to_status],
            },
            stored_reason(t.reason),
            _actor(t.actor),
        )
        for t in transitions.select_related("actor")
    ]


def booking_refunds(*, booking: Booking) -> list[Refund]:
    return list(
        Refund.objects.filter(payment__booking=booking).select_related("payment", "created_by").order_by("created_at")
    )


def booking_notes(*, booking: Booking) -> list[BookingNote]:
    return list(BookingNote.objects.filter(booking=booking).select_related("author").order_by("created_at", "id"))


# -- staff: lists (the admin's filters and the operations dashboard use the same conditions) ------

HOLD_EXPIRING_MINUTES = 5


def holds_active_q(now=None) -> Q:
    """Bookings holding seats, not paid yet, whose hold has not expired."""
    now = now or timezone.now()
    return Q(status__in=(BookingStatus.HELD, BookingStatus.AWAITING_PAYMENT), expires_at__gt=now)


def holds_expiring_q(now=None) -> Q:
    """Active holds that expire within ``HOLD_EXPIRING_MINUTES``."""
    now = now or timezone.now()
    return holds_active_q(now) & Q(expires_at__lte=now + timedelta(minutes=HOLD_EXPIRING_MINUTES))
