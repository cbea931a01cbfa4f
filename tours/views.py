"""The public catalog: home, routes, tours, host farms and cooperatives (read-only)."""

from django.shortcuts import render

from cacaotours.core.caching import catalog_cache
from cooperatives.selectors import cooperative_get_published, fund_list_for_cooperative, fund_list_published
from farms.selectors import farm_get_published, farm_list_for_cooperative

from . import selectors


@catalog_cache
def home(request):
    return render(
        request,
        "tours/home.html",
        {
            "routes": selectors.route_list_published(),
            "featured_tours": selectors.tour_list(featured=True),
            "funds": fund_list_published(),
        },
    )


@catalog_cache
def route_detail(request, slug):
    route = selectors.route_get_published(slug=slug)
    return render(
        request,
        "tours/route_detail.html",
        {
            "route": route,
            "tours": selectors.tour_list(route=route),
            "farms": selectors.farm_list_on_route(route=route),
        },
    )


@catalog_cache
def tour_detail(request, slug):
    tour = selectors.tour_get_published(slug=slug)
    rules = selectors.share_rule_list(tour=tour)
    return render(
        request,
        "tours/tour_detail.html",
        {
            "tour": tour,
            "days": selectors.itinerary_days(tour),
            "departures": selectors.departure_list_upcoming(tour=tour),
            "breakdown": selectors.money_breakdown(rules=rules, total=tour.adult),
        },
    )


@catalog_cache
def farm_detail(request, slug):
    farm = farm_get_published(slug=slug)
    return render(
        request,
        "tours/farm_detail.html",
        {"farm": farm, "tours": selectors.tour_list_visiting_farm(farm=farm)},
    )


@catalog_cache
def cooperative_detail(request, slug):
    cooperative = cooperative_get_published(slug=slug)
    return render(
        request,
        "tours/cooperative_detail.html",
        {
            "cooperative": cooperative,
            "farms": farm_list_for_cooperative(cooperative=cooperative),
            "funds": fund_list_for_cooperative(cooperative=cooperative),
            "tours": selectors.tour_list_with_cooperative(cooperative=cooperative),
        },
    )
