"""Calendar periods in the operator's time zone (America/Lima), as aware datetimes [start, end).

The operations dashboard and the admin's list filters use the same bounds, so a number on the
dashboard and the list it links to always count the same rows.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone


def _midnight(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def day_bounds(now=None, *, offset: int = 0) -> tuple[datetime, datetime]:
    """Today (or ``offset`` days from today) in Lima."""
    day = timezone.localdate(now or timezone.now()) + timedelta(days=offset)
    return _midnight(day), _midnight(day + timedelta(days=1))


def week_bounds(now=None) -> tuple[datetime, datetime]:
    """Today and the 6 days after it: the week ahead that operations plan for."""
    today = timezone.localdate(now or timezone.now())
    return _midnight(today), _midnight(today + timedelta(days=7))


def month_bounds(now=None) -> tuple[datetime, datetime]:
    """The calendar month of ``now`` in Lima."""
    first = timezone.localdate(now or timezone.now()).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return _midnight(first), _midnight(following)
