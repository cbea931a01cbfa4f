from datetime import UTC, datetime, timedelta

import pytest
from django.http import Http404
from freezegun import freeze_time

from cacaotours.core.money import Money
from cooperatives.selectors import cooperative_get_published, fund_list_for_cooperative, fund_list_published
from farms.selectors import farm_get_published, farm_list_for_cooperative
from tests.factories import (
    CertificationFactory,
    CommunityFundFactory,
    CooperativeFactory,
    DepartureFactory,
    FarmFactory,
    FarmPhotoFactory,
    ItineraryStopFactory,
    RouteFactory,
    RoutePhotoFactory,
    ShareRuleFactory,
    TourFactory,
    TourPhotoFactory,
)
from tours import selectors
from tours.models import Departure

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 17, 0, tzinfo=UTC)  # 12:00 in Lima


# -- money_breakdown --------------------------------------------------------------------


def three_rules(tour):
    cooperative = CooperativeFactory(name_en="Agrobosque Cooperative", slug="agrobosque")
    return [
        ShareRuleFactory(tour=tour, cooperative=cooperative, basis_points=1500, purpose_en="Fair cacao price"),
        ShareRuleFactory(
            tour=tour,
            cooperative=None,
            basis_points=1000,
            purpose_en="Native trees",
            fund=CommunityFundFactory(name_en="Reforestation fund", slug="trees", cooperative=cooperative),
        ),
        ShareRuleFactory(
            tour=tour,
            cooperative=None,
            basis_points=500,
            purpose_en="Hosting",
            farm=FarmFactory(name_en="Don Manuel's Farm", slug="don-manuel"),
        ),
    ]


def test_money_breakdown_exact_amounts(django_assert_num_queries):
    tour = TourFactory(adult_price=35000, currency="PEN")
    three_rules(tour)
    rules = selectors.share_rule_list(tour=tour)

    with django_assert_num_queries(0):
        breakdown = selectors.money_breakdown(rules=rules, total=tour.adult)

    assert [
        (line.name, line.kind, line.url, line.purpose, line.basis_points, line.amount) for line in breakdown.lines
    ] == [
        (
            "Agrobosque Cooperative",
            "cooperative",
            "/cooperatives/agrobosque/",
            "Fair cacao price",
            1500,
            Money(5250, "PEN"),
        ),
        (
            "Reforestation fund",
            "fund",
            "/cooperatives/agrobosque/#fund-trees",
            "Native trees",
            1000,
            Money(3500, "PEN"),
        ),
        ("Don Manuel's Farm", "farm", "/farms/don-manuel/", "Hosting", 500, Money(1750, "PEN")),
    ]
    assert [line.amount.format() for line in breakdown.lines] == ["S/ 52.50", "S/ 35.00", "S/ 17.50"]
    assert breakdown.operator == Money(24500, "PEN")
    assert breakdown.operator.format() == "S/ 245.00"
    assert breakdown.total == Money(35000, "PEN")
    assert breakdown.community_total == Money(10500, "PEN")
    assert breakdown.community_basis_points == 3000
    assert breakdown.community_percent == "30%"


def test_money_breakdown_odd_amount_uses_largest_remainder():
    tour = TourFactory(adult_price=12345, currency="USD")
    three_rules(tour)

    breakdown = selectors.money_breakdown(rules=selectors.share_rule_list(tour=tour), total=tour.adult)

    # exact shares 18.5175, 12.345, 6.1725 and 86.4150 for the operator: two spare cents go to the
    # largest remainders (0.75, then the earlier of the two 0.5 ties)
    assert [line.amount.format() for line in breakdown.lines] == ["US$ 18.52", "US$ 12.35", "US$ 6.17"]
    assert breakdown.operator.format() == "US$ 86.41"
    assert sum(line.amount.amount for line in breakdown.lines) + breakdown.operator.amount == 12345


def test_money_breakdown_without_rules_keeps_everything_with_the_operator():
    breakdown = selectors.money_breakdown(rules=[], total=Money(35000, "PEN"))
    assert breakdown.lines == []
    assert breakdown.operator == Money(35000, "PEN")
    assert breakdown.community_total == Money(0, "PEN")
    assert breakdown.community_percent == "0%"


def test_money_breakdown_percent_with_fraction():
    tour = TourFactory(adult_price=10000)
    ShareRuleFactory(tour=tour, basis_points=1250)
    ShareRuleFactory(tour=tour, cooperative=None, farm=FarmFactory(), basis_points=5)
    breakdown = selectors.money_breakdown(rules=selectors.share_rule_list(tour=tour), total=tour.adult)
    assert breakdown.community_percent == "12.55%"
    assert [line.amount for line in breakdown.lines] == [Money(1250, "PEN"), Money(5, "PEN")]


def test_share_rule_list_is_ordered_by_share_in_one_query(django_assert_num_queries):
    tour = TourFactory()
    small = ShareRuleFactory(tour=tour, basis_points=500)
    big = ShareRuleFactory(tour=tour, basis_points=2000)
    tie = ShareRuleFactory(tour=tour, basis_points=500)
    ShareRuleFactory(basis_points=100)  # another tour

    with django_assert_num_queries(1):
        rules = selectors.share_rule_list(tour=tour)
        names = [str(rule.recipient.name) for rule in rules]

    assert rules == [big, small, tie]
    assert len(names) == 3


# -- itinerary --------------------------------------------------------------------------


def test_itinerary_days_groups_stops_by_day_in_order(django_assert_num_queries):
    tour = TourFactory(duration_days=2)
    farm = FarmFactory()
    d2s1 = ItineraryStopFactory(tour=tour, farm=farm, day=2, order=1)
    d1s2 = ItineraryStopFactory(tour=tour, farm=farm, day=1, order=2)
    d1s1 = ItineraryStopFactory(tour=tour, farm=None, day=1, order=1)
    d2s3 = ItineraryStopFactory(tour=tour, farm=farm, day=2, order=3)
    ItineraryStopFactory(farm=farm, day=1, order=1)  # another tour

    loaded = selectors.tour_get_published(slug=tour.slug)
    with django_assert_num_queries(0):
        days = selectors.itinerary_days(loaded)
        farms = [stop.farm and stop.farm.cooperative for day in days for stop in day.stops]

    assert [(day.day, day.stops) for day in days] == [(1, [d1s1, d1s2]), (2, [d2s1, d2s3])]
    assert farms[0] is None


def test_itinerary_days_of_tour_without_stops():
    assert selectors.itinerary_days(selectors.tour_get_published(slug=TourFactory().slug)) == []


# -- departures -------------------------------------------------------------------------


@freeze_time(NOW)
def test_departure_list_upcoming(django_assert_num_queries):
    tour = TourFactory()
    past = DepartureFactory(tour=tour, starts_at=NOW - timedelta(hours=1))
    right_now = DepartureFactory(tour=tour, starts_at=NOW)
    soon = DepartureFactory(tour=tour, starts_at=NOW + timedelta(days=2), capacity=8)
    closed = DepartureFactory(tour=tour, starts_at=NOW + timedelta(days=3), status=Departure.Status.CLOSED)
    cancelled = DepartureFactory(tour=tour, starts_at=NOW + timedelta(days=4), status=Departure.Status.CANCELLED)
    last_day = DepartureFactory(tour=tour, starts_at=NOW + timedelta(days=90), capacity=12)
    too_far = DepartureFactory(tour=tour, starts_at=NOW + timedelta(days=90, minutes=1))
    earlier = DepartureFactory(tour=tour, starts_at=NOW + timedelta(days=1), capacity=4)
    other_tour = DepartureFactory(starts_at=NOW + timedelta(days=2))

    with django_assert_num_queries(1):
        departures = selectors.departure_list_upcoming(tour=tour)

    assert departures == [earlier, soon, closed, last_day]
    assert [departure.seats_left for departure in departures] == [4, 8, 10, 12]
    assert not {past, right_now, cancelled, too_far, other_tour} & set(departures)


@freeze_time(NOW)
def test_departure_list_upcoming_limit():
    tour = TourFactory()
    for day in range(1, 16):
        DepartureFactory(tour=tour, starts_at=NOW + timedelta(days=day))
    departures = selectors.departure_list_upcoming(tour=tour)
    assert [d.starts_at for d in departures] == [NOW + timedelta(days=day) for day in range(1, 13)]
    assert len(selectors.departure_list_upcoming(tour=tour, limit=3)) == 3


# -- tour and route lists ---------------------------------------------------------------


@freeze_time(NOW)
def test_tour_list_excludes_unpublished_tours_and_routes():
    route = RouteFactory()
    hidden_route = RouteFactory(is_published=False)
    visible = TourFactory(route=route, title_en="B visible")
    TourFactory(route=route, is_published=False)
    TourFactory(route=hidden_route)

    assert list(selectors.tour_list()) == [visible]
    assert list(selectors.tour_list(photos=False)) == [visible]


@freeze_time(NOW)
def test_tour_list_filters_featured_and_route():
    route_a = RouteFactory(order=1)
    route_b = RouteFactory(order=2)
    a_featured = TourFactory(route=route_a, title_en="A featured", is_featured=True)
    a_plain = TourFactory(route=route_a, title_en="A plain")
    b_featured = TourFactory(route=route_b, title_en="B featured", is_featured=True)
    TourFactory(route=route_b, title_en="B unpublished featured", is_featured=True, is_published=False)

    assert list(selectors.tour_list()) == [a_featured, a_plain, b_featured]
    assert list(selectors.tour_list(featured=True)) == [a_featured, b_featured]
    assert list(selectors.tour_list(route=route_a)) == [a_featured, a_plain]
    assert list(selectors.tour_list(route=route_b, featured=True)) == [b_featured]


@freeze_time(NOW)
def test_tour_list_next_departure_is_the_next_open_one(django_assert_num_queries):
    tour = TourFactory()
    DepartureFactory(tour=tour, starts_at=NOW - timedelta(days=1))
    DepartureFactory(tour=tour, starts_at=NOW + timedelta(days=1), status=Departure.Status.CANCELLED)
    DepartureFactory(tour=tour, starts_at=NOW + timedelta(days=2), status=Departure.Status.CLOSED)
    DepartureFactory(tour=tour, starts_at=NOW + timedelta(days=9))
    DepartureFactory(tour=tour, starts_at=NOW + timedelta(days=5))
    without = TourFactory()
    TourPhotoFactory(tour=tour)
    TourPhotoFactory(tour=tour)

    with django_assert_num_queries(2):
        tours = {t.pk: t for t in selectors.tour_list()}
        photo_counts = {pk: len(t.photos.all()) for pk, t in tours.items()}
        routes = [t.route.name for t in tours.values()]

    assert tours[tour.pk].next_departure == NOW + timedelta(days=5)
    assert tours[without.pk].next_departure is None
    assert photo_counts == {tour.pk: 2, without.pk: 0}
    assert len(routes) == 2


def test_route_list_published_counts_published_tours(django_assert_num_queries):
    route = RouteFactory(order=2, name_en="Convención Valley")
    first = RouteFactory(order=1, name_en="Quillabamba")
    RouteFactory(is_published=False)
    TourFactory.create_batch(2, route=route)
    TourFactory(route=route, is_published=False)
    RoutePhotoFactory(route=route)

    with django_assert_num_queries(2):
        routes = list(selectors.route_list_published())
        photos = [len(r.photos.all()) for r in routes]

    assert routes == [first, route]
    assert [r.tour_count for r in routes] == [0, 2]
    assert photos == [0, 1]


def test_route_and_tour_get_published_raise_404_when_hidden():
    hidden_route = RouteFactory(is_published=False)
    tour_on_hidden_route = TourFactory(route=hidden_route)
    hidden_tour = TourFactory(is_published=False)
    with pytest.raises(Http404):
        selectors.route_get_published(slug=hidden_route.slug)
    with pytest.raises(Http404):
        selectors.route_get_published(slug="no-such-route")
    for slug in (tour_on_hidden_route.slug, hidden_tour.slug, "no-such-tour"):
        with pytest.raises(Http404):
            selectors.tour_get_published(slug=slug)


def test_tour_get_published_loads_in_three_queries(django_assert_num_queries):
    tour = TourFactory()
    ItineraryStopFactory.create_batch(3, tour=tour)
    TourPhotoFactory(tour=tour)
    with django_assert_num_queries(3):
        loaded = selectors.tour_get_published(slug=tour.slug)
        assert loaded.route.name
        assert [stop.farm.cooperative.name for stop in loaded.stops.all()]
        assert len(loaded.photos.all()) == 1


def test_farm_list_on_route_lists_each_published_farm_once():
    route = RouteFactory()
    tour_a, tour_b = TourFactory(route=route), TourFactory(route=route)
    shared = FarmFactory(name_en="B shared farm")
    only_a = FarmFactory(name_en="A farm")
    hidden = FarmFactory(is_published=False)
    via_unpublished_tour = FarmFactory()
    ItineraryStopFactory(tour=tour_a, farm=shared)
    ItineraryStopFactory(tour=tour_a, farm=shared, day=2)
    ItineraryStopFactory(tour=tour_b, farm=shared)
    ItineraryStopFactory(tour=tour_a, farm=only_a)
    ItineraryStopFactory(tour=tour_b, farm=hidden)
    ItineraryStopFactory(tour=TourFactory(route=route, is_published=False), farm=via_unpublished_tour)
    ItineraryStopFactory(farm=FarmFactory())  # another route

    assert list(selectors.farm_list_on_route(route=route)) == [only_a, shared]


def test_tour_list_visiting_farm_and_with_cooperative():
    cooperative = CooperativeFactory()
    farm = FarmFactory(cooperative=cooperative)
    visits = TourFactory(title_en="Visits the farm")
    ItineraryStopFactory(tour=visits, farm=farm)
    ItineraryStopFactory(tour=visits, farm=farm, day=2)
    shares = TourFactory(title_en="Shares with the cooperative")
    ShareRuleFactory(tour=shares, cooperative=cooperative)
    ItineraryStopFactory(tour=TourFactory(is_published=False), farm=farm)
    TourFactory()  # unrelated

    assert list(selectors.tour_list_visiting_farm(farm=farm)) == [visits]
    assert sorted(selectors.tour_list_with_cooperative(cooperative=cooperative), key=lambda t: t.pk) == [visits, shares]


# -- farm and cooperative selectors -----------------------------------------------------


def test_farm_get_published(django_assert_num_queries):
    farm = FarmFactory()
    FarmPhotoFactory(farm=farm, order=2)
    first = FarmPhotoFactory(farm=farm, order=1)
    hidden = FarmFactory(is_published=False)

    with django_assert_num_queries(2):
        loaded = farm_get_published(slug=farm.slug)
        assert loaded.cooperative.name
        assert next(iter(loaded.photos.all())) == first
    with pytest.raises(Http404):
        farm_get_published(slug=hidden.slug)
    with pytest.raises(Http404):
        farm_get_published(slug="no-such-farm")


def test_cooperative_selectors():
    cooperative = CooperativeFactory()
    cooperative.certifications.add(CertificationFactory(name_en="Organic"), CertificationFactory(name_en="Fairtrade"))
    hidden = CooperativeFactory(is_published=False)
    b_farm = FarmFactory(cooperative=cooperative, name_en="B farm")
    a_farm = FarmFactory(cooperative=cooperative, name_en="A farm")
    FarmFactory(cooperative=cooperative, is_published=False)
    fund = CommunityFundFactory(cooperative=cooperative, name_en="Women's chocolate makers")
    CommunityFundFactory(cooperative=cooperative, is_published=False)
    loose = CommunityFundFactory(cooperative=None, name_en="A loose fund")

    loaded = cooperative_get_published(slug=cooperative.slug)
    assert [c.name for c in loaded.certifications.all()] == ["Fairtrade", "Organic"]
    with pytest.raises(Http404):
        cooperative_get_published(slug=hidden.slug)
    assert list(farm_list_for_cooperative(cooperative=cooperative)) == [a_farm, b_farm]
    assert list(fund_list_for_cooperative(cooperative=cooperative)) == [fund]
    assert list(fund_list_published()) == [loose, fund]
