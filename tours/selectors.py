"""Reads for the public catalog. Each function issues a fixed number of queries,
whatever the number of tours, departures or photos (tests hold them to it)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import groupby

from django.db import connections, router
from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, prefetch_related_objects
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404
from django.utils import timezone

from cacaotours.core.money import Money, basis_points_split
from farms.models import Farm

from .models import Departure, ItineraryStop, Route, RoutePhoto, SeatHold, ShareRule, Tour, TourPhoto

logger = logging.getLogger(__name__)

UPCOMING_DAYS = 90


def _published_tours() -> QuerySet[Tour]:
    return Tour.objects.filter(is_published=True, route__is_published=True)


def _with_cover_photos(queryset: QuerySet, model) -> QuerySet:
    return queryset.prefetch_related(Prefetch("photos", queryset=model.objects.order_by("order", "id")))


def _next_departure_subquery():
    return Subquery(
        Departure.objects.filter(tour=OuterRef("pk"), status=Departure.Status.OPEN, starts_at__gt=timezone.now())
        .order_by("starts_at")
        .values("starts_at")[:1]
    )


def route_list_published() -> QuerySet[Route]:
    """Published routes with their photos and the number of published tours (2 queries)."""
    return _with_cover_photos(
        Route.objects.filter(is_published=True).annotate(tour_count=Count("tours", filter=Q(tours__is_published=True))),
        RoutePhoto,
    )


def tour_list(*, route: Route | None = None, featured: bool = False, photos: bool = True) -> QuerySet[Tour]:
    """Published tours with route, next open departure and (unless ``photos=False``) photos.

    Two queries with photos, one without.
    """
    queryset = _published_tours().select_related("route").annotate(next_departure=_next_departure_subquery())
    if route is not None:
        queryset = queryset.filter(route=route)
    if featured:
        queryset = queryset.filter(is_featured=True)
    return _with_cover_photos(queryset, TourPhoto) if photos else queryset


def route_get_published(*, slug: str, photos: bool = True) -> Route:
    """A published route with its photos (2 queries; 1 with ``photos=False``)."""
    queryset = Route.objects.filter(is_published=True, slug=slug)
    if photos:
        queryset = queryset.prefetch_related(Prefetch("photos", queryset=RoutePhoto.objects.order_by("order", "id")))
    route = next(iter(queryset.order_by()[:1]), None)  # the slug is unique: no ORDER BY needed
    if route is None:
        raise Http404("No such route")
    return route


def _tour_related_prefetches() -> list[Prefetch]:
    return [
        Prefetch("photos", queryset=TourPhoto.objects.order_by("order", "id")),
        Prefetch(
            "stops",
            queryset=ItineraryStop.objects.select_related("farm", "farm__cooperative").order_by("day", "order"),
        ),
    ]


def tour_get_published(*, slug: str, related: bool = True) -> Tour:
    """A published tour with route, photos and itinerary stops with their farms (3 queries).

    ``related=False``: the tour and its route only (1 query); ``tour_related_load`` adds the rest later.
    """
    queryset = _published_tours().select_related("route")
    if related:
        queryset = queryset.prefetch_related(*_tour_related_prefetches())
    # The slug is unique: no ORDER BY (the model's ordering would add a join and cost more to compile).
    tour = next(iter(queryset.filter(slug=slug).order_by()[:1]), None)
    if tour is None:
        raise Http404("No such tour")
    return tour


def tour_related_load(tour: Tour) -> Tour:
    """Load a tour's photos and itinerary stops (with farms and cooperatives) onto it, as
    ``tour_get_published`` does (2 queries; none when they are already loaded)."""
    prefetch_related_objects([tour], *_tour_related_prefetches())
    return tour


@dataclass(frozen=True)
class ItineraryDay:
    day: int
    stops: list[ItineraryStop]


def itinerary_days(tour: Tour) -> list[ItineraryDay]:
    """Group already-prefetched stops by day (no queries)."""
    stops = sorted(tour.stops.all(), key=lambda stop: (stop.day, stop.order))
    return [ItineraryDay(day=day, stops=list(group)) for day, group in groupby(stops, key=lambda s: s.day)]


def active_holds_q(now=None) -> Q:
    """Holds that take seats now: not released, and paid (no expiry) or not yet expired."""
    now = now or timezone.now()
    return Q(released_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def _seats_taken(now=None) -> Coalesce:
    """Seats of a departure (``OuterRef("pk")``) taken by active holds."""
    taken = (
        SeatHold.objects.filter(active_holds_q(now), departure=OuterRef("pk"))
        .order_by()
        .values("departure")
        .annotate(total=Sum("units"))
        .values("total")
    )
    return Coalesce(Subquery(taken), 0)


def _seats_left(departure: Departure) -> int:
    """``seats_left`` from an already annotated ``seats_taken``: what ``Greatest`` computes below."""
    return max(departure.capacity - departure.seats_taken, 0)


def departure_queryset_with_availability(now=None) -> QuerySet[Departure]:
    """Departures annotated with ``seats_taken`` and ``seats_left`` (never below zero).

    The one place availability is computed: expired holds stop counting the moment they
    expire, before any task has released them.
    """
    return Departure.objects.annotate(seats_taken=_seats_taken(now)).annotate(
        seats_left=Greatest(F("capacity") - F("seats_taken"), 0)
    )


def _upcoming(queryset: QuerySet[Departure], now) -> QuerySet[Departure]:
    return (
        queryset.filter(starts_at__gt=now, starts_at__lte=now + timedelta(days=UPCOMING_DAYS))
        .exclude(status=Departure.Status.CANCELLED)
        .order_by("starts_at")
    )


def departure_list_upcoming(*, tour: Tour, limit: int = 12) -> list[Departure]:
    """Upcoming departures (next 90 days, not cancelled) with ``seats_left`` (1 query)."""
    now = timezone.now()
    return list(_upcoming(departure_queryset_with_availability(now), now).filter(tour=tour)[:limit])


def _departures_upcoming_of_published(*, slug: str, now, limit: int) -> QuerySet[Departure]:
    # seats_left is added in Python (_seats_left): in SQL it would run the seats_taken subquery twice.
    queryset = Departure.objects.annotate(
        seats_taken=_seats_taken(now),
        tour_updated_at=F("tour__updated_at"),
        route_updated_at=F("tour__route__updated_at"),
    ).filter(tour__slug=slug, tour__is_published=True, tour__route__is_published=True)
    return _upcoming(queryset, now)[:limit]


# The tour page runs the query below on every request, to show live seats. Building and compiling it
# through the ORM costs several times the CPU of running it, so it is compiled once per process (and
# database and limit) with marker values, and then run with each request's values in their places.
_MARK_NOW = datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
_MARK_SLUG = "marker-slug-of-departures-upcoming-of-published"


@dataclass(frozen=True)
class _Slot:
    name: str


@lru_cache(maxsize=16)
def _departures_upcoming_of_published_sql(alias: str, limit: int) -> tuple[str, tuple] | None:
    """(SQL, parameters with ``_Slot`` where the request's values go), or None if the markers can't be found."""
    adapt = connections[alias].ops.adapt_datetimefield_value
    markers = [
        (adapt(_MARK_NOW), _Slot("now")),
        (adapt(_MARK_NOW + timedelta(days=UPCOMING_DAYS)), _Slot("until")),
        (_MARK_SLUG, _Slot("slug")),
    ]
    queryset = _departures_upcoming_of_published(slug=_MARK_SLUG, now=_MARK_NOW, limit=limit)
    sql, params = queryset.query.get_compiler(alias).as_sql()
    template = []
    for param in params:
        slot = next((slot for marker, slot in markers if type(param) is type(marker) and param == marker), None)
        template.append(slot or param)
    if {slot for _marker, slot in markers} - {item for item in template if isinstance(item, _Slot)}:
        return None  # a marker went missing (a changed query): fall back to the ORM
    return sql, tuple(template)


def departure_list_upcoming_of_published(*, slug: str, limit: int = 12) -> list[Departure]:
    """``departure_list_upcoming`` of the published tour ``slug``, read without loading the tour (1 query).

    Each departure also carries ``tour_updated_at`` and ``route_updated_at`` (as the database returns
    them: compare them, don't compute with them). Empty when the tour has no upcoming departures, is not
    published or does not exist: tell those apart with ``tour_get_published``.
    """
    now = timezone.now()
    alias = router.db_for_read(Departure)
    prepared = _departures_upcoming_of_published_sql(alias, limit)
    if prepared is None:
        departures = list(_departures_upcoming_of_published(slug=slug, now=now, limit=limit))
    else:
        sql, template = prepared
        adapt = connections[alias].ops.adapt_datetimefield_value
        values = {"now": adapt(now), "until": adapt(now + timedelta(days=UPCOMING_DAYS)), "slug": slug}
        params = [values[item.name] if isinstance(item, _Slot) else item for item in template]
        departures = list(Departure.objects.db_manager(alias).raw(sql, params))
    for departure in departures:
        departure.seats_left = _seats_left(departure)
    return departures


@dataclass(frozen=True)
class ShareLine:
    name: str
    kind: str
    url: str
    purpose: str
    basis_points: int
    amount: Money


@dataclass(frozen=True)
class MoneyBreakdown:
    total: Money
    lines: list[ShareLine]
    operator: Money
    community_basis_points: int

    @property
    def community_total(self) -> Money:
        return Money(sum(line.amount.amount for line in self.lines), self.total.currency)

    @property
    def community_percent(self) -> str:
        whole, frac = divmod(self.community_basis_points, 100)
        return f"{whole}%" if not frac else f"{whole}.{frac:02d}".rstrip("0") + "%"


def share_rule_list(*, tour: Tour) -> list[ShareRule]:
    """A tour's share rules with their recipients (1 query)."""
    return list(
        ShareRule.objects.filter(tour=tour)
        .select_related("cooperative", "fund__cooperative", "farm")
        .order_by("-basis_points", "id")
    )


def money_breakdown(*, rules: list[ShareRule], total: Money) -> MoneyBreakdown:
    """Where ``total`` goes under ``rules``: the exact split the ledger will post (no queries).

    Rules over 100% (only possible around the admin, which refuses them) show no split rather
    than failing the page or the confirmation e-mail: the ledger refuses them too and flags the
    booking for staff.
    """
    if sum(rule.basis_points for rule in rules) > 10_000:
        logger.error("share rules over 100%%: no money breakdown shown (rules %s)", [rule.pk for rule in rules])
        return MoneyBreakdown(total=total, lines=[], operator=total, community_basis_points=0)
    parts, operator = basis_points_split(total.amount, [rule.basis_points for rule in rules])
    lines = []
    for rule, part in zip(rules, parts, strict=True):
        recipient = rule.recipient
        url = recipient.get_absolute_url() if getattr(recipient, "is_published", False) else ""
        lines.append(
            ShareLine(
                name=str(recipient.name),
                kind=rule.recipient_kind,
                url=url,
                purpose=rule.purpose,
                basis_points=rule.basis_points,
                amount=Money(part, total.currency),
            )
        )
    return MoneyBreakdown(
        total=total,
        lines=lines,
        operator=Money(operator, total.currency),
        community_basis_points=sum(rule.basis_points for rule in rules),
    )


def farm_list_on_route(*, route: Route):
    """Published farms visited by the route's published tours (1 query)."""
    return (
        Farm.objects.filter(is_published=True, stops__tour__route=route, stops__tour__is_published=True)
        .select_related("cooperative")
        .distinct()
        .order_by("name")
    )


def tour_list_visiting_farm(*, farm: Farm) -> QuerySet[Tour]:
    """Published tours whose itinerary stops at ``farm`` (2 queries with photos)."""
    return tour_list().filter(stops__farm=farm).distinct()


def tour_list_with_cooperative(*, cooperative) -> QuerySet[Tour]:
    """Published tours that share revenue with, or stop at a farm of, ``cooperative``."""
    return (
        tour_list(photos=False)
        .filter(Q(share_rules__cooperative=cooperative) | Q(stops__farm__cooperative=cooperative))
        .distinct()
    )
