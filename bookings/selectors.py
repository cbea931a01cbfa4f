"""Reads for travellers' bookings. Every lookup is scoped to its owner: another user's
reference is a 404, never a 403 that would confirm it exists."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cacaotours.core.money import Money
from tours.models import Departure, ItineraryStop
from tours.selectors import departure_queryset_with_availability

from .models import Booking, BookingStatus, Participant, Payment, PaymentStatus

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
