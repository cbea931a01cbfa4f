"""Writes for routes, tours and their share rules."""

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import Departure, SeatHold

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

    Raises SeatsUnavailable if the hold expired and its seats have gone to someone else.
    Must run inside the caller's transaction.
    """
    now = now or timezone.now()
    departure = _lock_departure(hold.departure_id)
    hold = SeatHold.objects.get(pk=hold.pk)
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
