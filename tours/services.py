"""Writes for routes, tours, itineraries, share rules, departures and their schedules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from modeltranslation.utils import build_localized_fieldname

from cacaotours.core.catalog_version import catalog_changed

from .models import Departure, DepartureSchedule, ItineraryStop, SeatHold, ShareRule, Tour

MAX_BASIS_POINTS = 10_000


def share_rules_validate_total(*, basis_points: list[int]) -> int:
    """Refuse a set of share rules that adds up to more than 100%; return the total."""
    if any(bp < 1 or bp > MAX_BASIS_POINTS for bp in basis_points):
        raise ValidationError(_("Each share is between 1 and 10,000 basis points (0.01% to 100%)."), code="range")
    total = sum(basis_points)
    if total > MAX_BASIS_POINTS:
        raise ValidationError(
            _("The shares add up to %(total)s%%; the shares of one tour cannot exceed 100%%.")
            % {"total": f"{total / 100:.2f}"},
            code="over_100",
        )
    return total


class SeatsUnavailable(Exception):
    """Not enough seats left on the departure (or it is not open for sale)."""

    def __init__(self, message: str, *, seats_left: int = 0):
        super().__init__(message)
        self.seats_left = seats_left


def _lock_departure(departure_id: int) -> Departure:
    """Lock one departure row for the rest of the transaction (the seat-inventory lock)."""
    return Departure.objects.select_for_update(of=("self",)).select_related("tour").get(pk=departure_id)


def _seats_taken(departure_id: int, now) -> int:
    from .selectors import active_holds_q

    return (
        SeatHold.objects.filter(active_holds_q(now), departure_id=departure_id).aggregate(total=Sum("units"))["total"]
        or 0
    )


def departure_seats_hold(*, departure_id: int, units: int, expires_at, now=None) -> SeatHold:
    """Take ``units`` seats of a departure until ``expires_at`` (3 queries, under the row lock).

    Must run inside the caller's transaction (``transaction.atomic``): the departure row is
    locked until that transaction ends, so keep it short and do no I/O in it.
    """
    now = now or timezone.now()
    if units < 1:
        raise SeatsUnavailable(_("Choose at least one seat."))
    departure = _lock_departure(departure_id)
    if departure.status != Departure.Status.OPEN or departure.starts_at <= now:
        raise SeatsUnavailable(_("This departure is no longer open for booking."))
    seats_left = max(departure.capacity - _seats_taken(departure_id, now), 0)
    if units > seats_left:
        if seats_left == 0:
            raise SeatsUnavailable(_("Sorry, this departure is sold out."), seats_left=0)
        raise SeatsUnavailable(
            ngettext(
                "Only %(n)s seat is left on this departure.",
                "Only %(n)s seats are left on this departure.",
                seats_left,
            )
            % {"n": seats_left},
            seats_left=seats_left,
        )
    return SeatHold.objects.create(departure=departure, units=units, expires_at=expires_at)


def seat_hold_make_permanent(*, hold: SeatHold, now=None) -> SeatHold:
    """Turn a hold into sold seats (payment received). Re-takes the seats if it had expired.

    Raises SeatsUnavailable if the hold expired and its seats have gone to someone else, or if the
    departure was cancelled.
    Must run inside the caller's transaction.
    """
    now = now or timezone.now()
    departure = _lock_departure(hold.departure_id)
    hold = SeatHold.objects.get(pk=hold.pk)
    if departure.status == Departure.Status.CANCELLED:
        # Staff cancelled the departure while the traveller was paying: the payment is refunded.
        raise SeatsUnavailable(_("This departure has been cancelled."))
    still_active = hold.released_at is None and (hold.expires_at is None or hold.expires_at > now)
    if not still_active:
        seats_left = max(departure.capacity - _seats_taken(departure.pk, now), 0)
        if hold.units > seats_left:
            raise SeatsUnavailable(
                _("The seats of this booking were released and are no longer free."), seats_left=seats_left
            )
    hold.expires_at = None
    hold.released_at = None
    hold.save(update_fields=["expires_at", "released_at"])
    return hold


def seat_hold_release(*, hold: SeatHold, now=None) -> None:
    """Give the seats back (cancellation, expiry). Idempotent."""
    SeatHold.objects.filter(pk=hold.pk, released_at__isnull=True).update(released_at=now or timezone.now())


# -- departures: sales, capacity, cancellation --------------------------------------------------

D = Departure.Status

# The departure lifecycle: one table of allowed moves, one function that makes them.
DEPARTURE_TRANSITIONS: dict[str, set[str]] = {
    D.OPEN: {D.CLOSED, D.CANCELLED},
    D.CLOSED: {D.OPEN, D.CANCELLED},
    D.CANCELLED: set(),
}


class DepartureError(Exception):
    """A staff request that cannot be done as asked: shown as a message, nothing changed."""


def _departure_move(*, departure: Departure, to: str) -> Departure:
    """Move a locked departure to ``to`` (the admin's LogEntry records who and when)."""
    if to not in DEPARTURE_TRANSITIONS[departure.status]:
        raise DepartureError(
            _("%(departure)s is %(status)s; it cannot become %(to)s.")
            % {"departure": departure, "status": departure.get_status_display(), "to": D(to).label}
        )
    departure.status = to
    departure.save(update_fields=["status", "updated_at"])
    return departure


def _lock_departures(departure_ids) -> list[Departure]:
    """Lock departure rows in primary-key order (the order every multi-row lock takes)."""
    return list(
        Departure.objects.select_for_update(of=("self",))
        .select_related("tour")
        .filter(pk__in=departure_ids)
        .order_by("pk")
    )


@dataclass(frozen=True)
class DepartureOutcome:
    """What a bulk departure service did: the departures it changed, and the ones it left, with why."""

    changed: list[Departure]
    skipped: list[tuple[Departure, str]]


def departure_sales_close(*, departure_ids, now=None) -> DepartureOutcome:
    """Stop selling seats on open departures (seats already held or sold stay)."""
    changed, skipped = [], []
    with transaction.atomic():
        for departure in _lock_departures(departure_ids):
            if departure.status != D.OPEN:
                skipped.append((departure, departure.get_status_display()))
                continue
            changed.append(_departure_move(departure=departure, to=D.CLOSED))
        if changed:
            catalog_changed()
    return DepartureOutcome(changed, skipped)


def departure_sales_reopen(*, departure_ids, now=None) -> DepartureOutcome:
    """Sell seats again on closed departures that have not started."""
    now = now or timezone.now()
    changed, skipped = [], []
    with transaction.atomic():
        for departure in _lock_departures(departure_ids):
            if departure.status != D.CLOSED:
                skipped.append((departure, departure.get_status_display()))
            elif departure.starts_at <= now:
                skipped.append((departure, _("already started")))
            else:
                changed.append(_departure_move(departure=departure, to=D.OPEN))
        if changed:
            catalog_changed()
    return DepartureOutcome(changed, skipped)


def capacity_change_message(before: int, after: int) -> str:
    """ "Capacity 12 → 16": how the audit trail and the admin's messages describe a capacity change."""
    return _("Capacity %(before)s → %(after)s") % {"before": before, "after": after}


@dataclass(frozen=True)
class CapacityChange:
    departure: Departure
    before: int
    after: int

    @property
    def message(self) -> str:
        return capacity_change_message(self.before, self.after)


def departure_capacity_change(*, departure_ids, capacity: int, now=None) -> list[CapacityChange]:
    """Set the capacity of departures: all of them, or none when any would go below its seats taken.

    Seats taken are those of active holds (sold, or held for a traveller who is paying now), counted
    under each departure's row lock, so no hold can slip in between the check and the update.
    """
    now = now or timezone.now()
    if capacity < 1:
        raise DepartureError(_("Capacity must be at least 1."))
    with transaction.atomic():
        departures = _lock_departures(departure_ids)
        refused = []
        for departure in departures:
            if departure.status == D.CANCELLED:
                refused.append(_("%(departure)s is cancelled") % {"departure": departure})
                continue
            taken = _seats_taken(departure.pk, now)
            if capacity < taken:
                refused.append(
                    ngettext(
                        "%(departure)s has %(n)s seat sold or held",
                        "%(departure)s has %(n)s seats sold or held",
                        taken,
                    )
                    % {"departure": departure, "n": taken}
                )
        if refused:
            raise DepartureError(
                _("Capacity not changed: %(reasons)s. Nothing was changed.") % {"reasons": "; ".join(refused)}
            )
        changes = []
        for departure in departures:
            if departure.capacity == capacity:
                continue
            changes.append(CapacityChange(departure, departure.capacity, capacity))
            departure.capacity = capacity
            departure.save(update_fields=["capacity", "updated_at"])
    return changes


def departure_cancel(*, departure_id: int, now=None) -> tuple[Departure, bool]:
    """Mark a departure cancelled (no new holds, no late confirmations). Returns (departure, changed).

    Idempotent: an already cancelled departure is returned unchanged, so the bookings' side of a
    cancellation (``bookings.services.departure_cancel_with_bookings``) can be run again to finish.
    """
    now = now or timezone.now()
    with transaction.atomic():
        departure = _lock_departure(departure_id)
        if departure.status == D.CANCELLED:
            return departure, False
        if departure.starts_at <= now:
            raise DepartureError(
                _("%(departure)s has already started; it cannot be cancelled.") % {"departure": departure}
            )
        _departure_move(departure=departure, to=D.CANCELLED)
        catalog_changed()
    return departure, True


# -- recurring departures ---------------------------------------------------------------------------


@dataclass
class ScheduleRun:
    """What ``departures_generate`` did, for the admin's report."""

    schedule: DepartureSchedule
    created: list[Departure] = field(default_factory=list)
    updated: list[tuple[Departure, list[str]]] = field(default_factory=list)
    removed: list[tuple[int, str]] = field(default_factory=list)  # (pk, description) of deleted departures
    kept_booked: list[Departure] = field(default_factory=list)  # has bookings: left exactly as it was
    taken: list[Departure] = field(default_factory=list)  # a departure outside this schedule at that time
    exceptions: list[date] = field(default_factory=list)
    unchanged: int = 0


def schedule_validate(*, weekdays: list[int], starts_on: date, ends_on: date, capacity: int) -> None:
    """Refuse a schedule that cannot generate anything sensible (the admin form and the service use it)."""
    errors = []
    if starts_on and ends_on and ends_on < starts_on:
        errors.append(_("The last day of a schedule cannot be before its first day."))
    if not weekdays or any(day < 1 or day > 7 for day in weekdays):
        errors.append(_("Choose at least one weekday."))
    if capacity is not None and capacity < 1:
        errors.append(_("Capacity must be at least 1."))
    if errors:
        raise ValidationError(errors)


def schedule_departure_times(*, schedule: DepartureSchedule, skipped: set[date], now) -> tuple[list, list[date]]:
    """(start times the schedule wants from now on, dates left out as exceptions). No queries."""
    lima = timezone.get_default_timezone()
    weekdays = set(schedule.weekday_numbers)
    wanted, exceptions = [], []
    day = max(schedule.starts_on, timezone.localdate(now))
    while day <= schedule.ends_on:
        if day.isoweekday() in weekdays:
            starts_at = datetime.combine(day, schedule.start_time, tzinfo=lima)
            if day in skipped:
                exceptions.append(day)
            elif starts_at > now:
                wanted.append(starts_at)
        day += timedelta(days=1)
    return wanted, exceptions


def departures_generate(*, schedule_id: int, now=None) -> ScheduleRun:
    """Bring a schedule's future departures in line with it, in one transaction.

    Creates the missing ones; updates capacity and guide of its departures that have no bookings;
    deletes its future departures without bookings that it no longer wants (an exception added, a
    weekday or date range changed). A departure with bookings (any seat hold, even an expired one)
    is never touched, and one that exists at the same time outside this schedule is left alone.
    Running it twice creates nothing the second time.
    """
    now = now or timezone.now()
    with transaction.atomic():
        schedule = DepartureSchedule.objects.select_for_update(of=("self",)).select_related("tour").get(pk=schedule_id)
        schedule_validate(
            weekdays=schedule.weekday_numbers,
            starts_on=schedule.starts_on,
            ends_on=schedule.ends_on,
            capacity=schedule.capacity,
        )
        run = ScheduleRun(schedule=schedule)
        wanted, run.exceptions = schedule_departure_times(
            schedule=schedule, skipped=set(schedule.exceptions.values_list("date", flat=True)), now=now
        )
        existing = list(
            Departure.objects.select_for_update(of=("self",))
            .select_related("tour")
            .filter(Q(tour=schedule.tour_id, starts_at__in=wanted) | Q(schedule=schedule, starts_at__gt=now))
            .order_by("pk")
        )
        booked = set(
            SeatHold.objects.filter(departure__in=[d.pk for d in existing]).values_list("departure_id", flat=True)
        )
        at = {departure.starts_at: departure for departure in existing if departure.tour_id == schedule.tour_id}
        wanted_set = set(wanted)
        for departure in existing:
            if departure.starts_at in wanted_set and departure.tour_id == schedule.tour_id:
                continue
            if departure.pk in booked:
                run.kept_booked.append(departure)
            else:
                run.removed.append((departure.pk, str(departure)))
        Departure.objects.filter(pk__in=[pk for pk, _description in run.removed]).delete()
        new = []
        for starts_at in wanted:
            departure = at.get(starts_at)
            if departure is None:
                new.append(
                    Departure(
                        tour=schedule.tour,
                        starts_at=starts_at,
                        capacity=schedule.capacity,
                        guide=schedule.guide,
                        schedule=schedule,
                    )
                )
            elif departure.schedule_id != schedule.pk:
                run.taken.append(departure)
            elif departure.pk in booked:
                run.kept_booked.append(departure)
            elif departure.status == D.CANCELLED:
                run.unchanged += 1  # cancelled by staff on purpose: stays cancelled
            else:
                changes = _departure_follow_schedule(departure, schedule)
                if changes:
                    run.updated.append((departure, changes))
                else:
                    run.unchanged += 1
        run.created = Departure.objects.bulk_create(new)
        run.kept_booked.sort(key=lambda departure: departure.starts_at)
        if run.created or run.updated or run.removed:
            catalog_changed()
    return run


def _departure_follow_schedule(departure: Departure, schedule: DepartureSchedule) -> list[str]:
    """Give an unbooked departure the schedule's capacity and guide; return what changed."""
    changes = []
    if departure.capacity != schedule.capacity:
        changes.append(capacity_change_message(departure.capacity, schedule.capacity))
        departure.capacity = schedule.capacity
    if departure.guide != schedule.guide:
        changes.append(
            _("Guide %(before)s → %(after)s") % {"before": departure.guide or "—", "after": schedule.guide or "—"}
        )
        departure.guide = schedule.guide
    if changes:
        departure.save(update_fields=["capacity", "guide", "updated_at"])
    return changes


# -- itineraries -------------------------------------------------------------------------------------


class ItineraryError(Exception):
    """An itinerary edit that cannot be done: shown as a message, nothing changed."""


def itinerary_orders_validate(*, stops) -> None:
    """Refuse two stops of the same day with the same order. ``stops``: (day, order, title) triples."""
    titles: dict[tuple[int, int], list[str]] = {}
    for day, order, title in stops:
        titles.setdefault((day, order), []).append(str(title))
    clashes = [
        _("day %(day)s has %(count)s stops with order %(order)s (%(titles)s)")
        % {"day": day, "order": order, "count": len(names), "titles": ", ".join(f"“{name}”" for name in names)}
        for (day, order), names in sorted(titles.items())
        if len(names) > 1
    ]
    if clashes:
        raise ValidationError(
            _("Each stop of a day needs its own order: %(clashes)s.") % {"clashes": "; ".join(clashes)},
            code="duplicate_stop_order",
        )


def _stops_park(stop_ids, tour_id: int) -> None:
    """Move stops to orders above every order of the tour, so that new orders can be written one by one
    without meeting the (tour, day, order) unique constraint half-way through a swap."""
    top = ItineraryStop.objects.filter(tour_id=tour_id).aggregate(top=Max("order"))["top"] or 0
    for index, stop_id in enumerate(sorted(stop_ids), start=1):
        ItineraryStop.objects.filter(pk=stop_id).update(order=top + index)


def itinerary_stops_save(*, tour: Tour, stops: list[ItineraryStop], deleted: list[ItineraryStop]) -> None:
    """Save a tour's edited and new stops and delete the removed ones, as one change.

    The orders of the whole resulting itinerary are checked first (``itinerary_orders_validate``), so
    two stops can swap orders in one save, and a duplicate order changes nothing.
    """
    with transaction.atomic():
        Tour.objects.select_for_update().filter(pk=tour.pk).first()  # one itinerary edit of a tour at a time
        ItineraryStop.objects.filter(tour=tour, pk__in=[stop.pk for stop in deleted if stop.pk]).delete()
        editing = {stop.pk for stop in stops if stop.pk}
        kept = ItineraryStop.objects.filter(tour=tour).exclude(pk__in=editing)
        itinerary_orders_validate(
            stops=[*kept.values_list("day", "order", "title"), *((s.day, s.order, s.title) for s in stops)]
        )
        _stops_park(editing, tour.pk)
        for stop in stops:
            stop.tour = tour
            stop.save()
        catalog_changed()


def itinerary_stop_move(*, stop_id: int, direction: str) -> ItineraryStop:
    """Swap a stop with the one before (``"up"``) or after (``"down"``) it on the same day."""
    if direction not in ("up", "down"):
        raise ItineraryError(_("Unknown direction."))
    with transaction.atomic():
        tour_id = ItineraryStop.objects.values_list("tour_id", flat=True).get(pk=stop_id)
        Tour.objects.select_for_update().filter(pk=tour_id).first()
        stop = ItineraryStop.objects.get(pk=stop_id)
        day = list(ItineraryStop.objects.filter(tour_id=tour_id, day=stop.day).order_by("order", "pk"))
        index = next(i for i, other in enumerate(day) if other.pk == stop.pk)
        neighbour_index = index - 1 if direction == "up" else index + 1
        if not 0 <= neighbour_index < len(day):
            message = (
                _("“%(title)s” is already the first stop of day %(day)s.")
                if direction == "up"
                else _("“%(title)s” is already the last stop of day %(day)s.")
            )
            raise ItineraryError(message % {"title": stop.title, "day": stop.day})
        neighbour = day[neighbour_index]
        _stops_park([stop.pk, neighbour.pk], tour_id)
        ItineraryStop.objects.filter(pk=stop.pk).update(order=neighbour.order)
        ItineraryStop.objects.filter(pk=neighbour.pk).update(order=stop.order)
        stop.order, neighbour.order = neighbour.order, stop.order
        catalog_changed()
    return stop


# -- duplicating a tour -------------------------------------------------------------------------------


def _slug_free(base: str, max_length: int) -> str:
    base = base[: max_length - 10].rstrip("-")
    taken = set(Tour.objects.filter(slug__startswith=f"{base}-copy").values_list("slug", flat=True))
    candidate, number = f"{base}-copy", 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-copy-{number}"
    return candidate


def tour_duplicate(*, tour_id: int) -> Tour:
    """Copy a tour with its itinerary, prices and share rules as an unpublished draft.

    Photos, departures and schedules are not copied. The copy's title says it is a copy, in each
    language; its slug is ``<slug>-copy`` (``-copy-2``… when taken).
    """
    with transaction.atomic():
        source = Tour.objects.get(pk=tour_id)
        copy = Tour.objects.get(pk=tour_id)
        copy.pk = None
        copy._state.adding = True
        copy.slug = _slug_free(source.slug, Tour._meta.get_field("slug").max_length)
        for code, _name in settings.LANGUAGES:
            name = build_localized_fieldname("title", code)
            title = getattr(source, name, "")
            if title:
                with translation.override(code):
                    copied = _("%(title)s (copy)") % {"title": title}
                setattr(copy, name, copied[: Tour._meta.get_field(name).max_length])
        copy.is_published = False
        copy.is_featured = False
        copy.save()
        stops = list(ItineraryStop.objects.filter(tour=source).order_by("day", "order"))
        rules = list(ShareRule.objects.filter(tour=source).order_by("pk"))
        share_rules_validate_total(basis_points=[rule.basis_points for rule in rules])
        for obj in (*stops, *rules):
            obj.pk = None
            obj._state.adding = True
            obj.tour = copy
        ItineraryStop.objects.bulk_create(stops)
        ShareRule.objects.bulk_create(rules)
        catalog_changed()
    return copy
