"""The public catalog: home, routes, tours, host farms and cooperatives (read-only).

Each page's content is cached in fragments (``cacaotours.core.fragments``) that change only when
staff edit content. What only the fragments show is passed lazily (``_lazy``): when they are
cached, those querysets are never built nor run.
"""

from functools import partial

from django.shortcuts import render
from django.utils.functional import SimpleLazyObject

from cacaotours.core.caching import catalog_cache
from cacaotours.core.fragments import PageFragments, data_digest
from cooperatives.selectors import cooperative_get_published, fund_list_for_cooperative, fund_list_published
from farms.selectors import farm_get_published, farm_list_for_cooperative

from . import selectors


def _lazy(function, **kwargs) -> SimpleLazyObject:
    """``function(**kwargs)``, called the first time the template uses the result."""
    return SimpleLazyObject(partial(function, **kwargs))


@catalog_cache
def home(request):
    return render(
        request,
        "tours/home.html",
        {
            "fragments": PageFragments("home"),
            "routes": _lazy(selectors.route_list_published),
            "featured_tours": _lazy(selectors.tour_list, featured=True),
            "funds": _lazy(fund_list_published),
        },
    )


@catalog_cache
def route_detail(request, slug):
    route = selectors.route_get_published(slug=slug, photos=False)  # the photo is shown in a fragment only
    return render(
        request,
        "tours/route_detail.html",
        {
            "fragments": PageFragments("route", route.pk, route.updated_at),
            "route": route,
            "tours": _lazy(selectors.tour_list, route=route),
            "farms": _lazy(selectors.farm_list_on_route, route=route),
        },
    )


@catalog_cache
def tour_detail(request, slug):
    """The tour page. Departures (seats left) are read on every request and their fragment is
    keyed on what was read; the rest changes only when staff edit content, and the tour itself
    is loaded only to render a fragment that is not cached.

    With the fragments cached, a tour with upcoming departures takes one query.
    """
    departures = selectors.departure_list_upcoming_of_published(slug=slug)
    if departures:
        first = departures[0]
        key = (first.tour_id, first.tour_updated_at, first.route_updated_at)
        tour = _lazy(selectors.tour_get_published, slug=slug)
    else:  # no upcoming departures, or no such published tour (404)
        tour = selectors.tour_get_published(slug=slug, related=False)
        key = (tour.pk, tour.updated_at, tour.route.updated_at)
    related = _lazy(selectors.tour_related_load, tour=tour)  # photos and stops, unless already loaded
    fragments = PageFragments("tour", *key)
    return render(
        request,
        "tours/tour_detail.html",
        {
            "fragments": fragments,
            "tour": tour,
            "photos": SimpleLazyObject(lambda: list(related.photos.all())),
            "days": _lazy(selectors.itinerary_days, tour=related),
            "breakdown": SimpleLazyObject(
                lambda: selectors.money_breakdown(rules=selectors.share_rule_list(tour=tour), total=tour.adult)
            ),
            "departures": departures,
            "departure_fragments": fragments.derive("tour-dates", key[0], data_digest(departures)),
        },
    )


@catalog_cache
def farm_detail(request, slug):
    farm = farm_get_published(slug=slug)
    return render(
        request,
        "tours/farm_detail.html",
        {
            "fragments": PageFragments("farm", farm.pk, farm.updated_at),
            "farm": farm,
            "tours": _lazy(selectors.tour_list_visiting_farm, farm=farm),
        },
    )


@catalog_cache
def cooperative_detail(request, slug):
    cooperative = cooperative_get_published(slug=slug)
    return render(
        request,
        "tours/cooperative_detail.html",
        {
            "fragments": PageFragments("cooperative", cooperative.pk, cooperative.updated_at),
            "cooperative": cooperative,
            "farms": _lazy(farm_list_for_cooperative, cooperative=cooperative),
            "funds": _lazy(fund_list_for_cooperative, cooperative=cooperative),
            "tours": _lazy(selectors.tour_list_with_cooperative, cooperative=cooperative),
        },
    )
