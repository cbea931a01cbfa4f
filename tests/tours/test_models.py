from datetime import UTC, datetime, time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from cacaotours.core.money import Money
from tests.factories import (
    CommunityFundFactory,
    CooperativeFactory,
    DepartureFactory,
    FarmFactory,
    ItineraryStopFactory,
    RouteFactory,
    ShareRuleFactory,
    TourFactory,
)
from tours.models import Departure, ItineraryStop, Route, ShareRule, Tour

pytestmark = pytest.mark.django_db


def assert_refused(factory, model, **fields):
    before = model.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        factory(**fields)
    assert model.objects.count() == before


# -- routes and tours -------------------------------------------------------------------


def test_route_slug_is_unique():
    RouteFactory(slug="convencion-valley")
    assert_refused(RouteFactory, Route, slug="convencion-valley")


def test_tour_slug_is_unique():
    TourFactory(slug="quillabamba-cacao-day")
    assert_refused(TourFactory, Tour, slug="quillabamba-cacao-day")


@pytest.mark.parametrize(
    "fields",
    [
        {"min_group": 0, "max_group": 4},
        {"min_group": 6, "max_group": 5},
        {"adult_price": 0},
        {"duration_days": 0},
        {"partial_refund_percent": 101},
        {"full_refund_days": 7, "partial_refund_days": 8},
    ],
    ids=["min-group-0", "max-below-min", "free-adult", "zero-days", "refund-over-100", "refund-windows-reversed"],
)
def test_tour_constraints(fields):
    route = RouteFactory()
    assert_refused(TourFactory, Tour, route=route, **fields)


def test_tour_edge_values_are_accepted():
    tour = TourFactory(
        min_group=4, max_group=4, adult_price=1, partial_refund_percent=100, full_refund_days=7, partial_refund_days=7
    )
    tour.full_clean()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"min_group": 6, "max_group": 5}, "The maximum group must be at least the minimum."),
        (
            {"full_refund_days": 7, "partial_refund_days": 8},
            "The partial-refund window must end before the full-refund window.",
        ),
    ],
)
def test_tour_full_clean_explains(fields, message):
    tour = TourFactory.build(route=RouteFactory(), **fields)
    with pytest.raises(ValidationError) as excinfo:
        tour.full_clean()
    assert message in excinfo.value.messages


def test_tour_money_and_lists():
    tour = TourFactory(
        adult_price=35000,
        child_price=None,
        currency="USD",
        languages="es, en,qu,",
        includes_en="Guide\n\n  Lunch  \nChocolate tasting\n",
        what_to_bring_en="",
        what_to_bring_es="",
    )
    assert tour.adult == Money(35000, "USD")
    assert tour.child is None
    assert TourFactory(child_price=17500).child == Money(17500, "PEN")
    assert tour.language_codes == ["es", "en", "qu"]
    assert tour.includes_list == ["Guide", "Lunch", "Chocolate tasting"]
    assert tour.what_to_bring_list == []
    assert str(tour) == tour.title_en
    assert tour.get_absolute_url() == f"/tours/{tour.slug}/"


def test_route_cannot_be_deleted_while_it_has_tours():
    tour = TourFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        tour.route.delete()
    assert Route.objects.count() == 1


# -- itinerary stops --------------------------------------------------------------------


def test_stop_order_is_unique_per_tour_and_day():
    stop = ItineraryStopFactory(day=1, order=1)
    assert_refused(ItineraryStopFactory, ItineraryStop, tour=stop.tour, day=1, order=1, farm=stop.farm)
    ItineraryStopFactory(tour=stop.tour, day=2, order=1, farm=stop.farm)
    ItineraryStopFactory(day=1, order=1, farm=stop.farm)  # another tour
    assert ItineraryStop.objects.count() == 3


def test_stop_full_clean_explains_duplicate_order():
    stop = ItineraryStopFactory(day=1, order=1)
    duplicate = ItineraryStopFactory.build(tour=stop.tour, day=1, order=1, farm=stop.farm)
    with pytest.raises(ValidationError) as excinfo:
        duplicate.full_clean()
    assert "Two stops of the same day cannot have the same order." in excinfo.value.messages


@pytest.mark.parametrize("fields", [{"day": 0}, {"order": 0}])
def test_stop_day_and_order_start_at_1(fields):
    assert_refused(ItineraryStopFactory, ItineraryStop, **fields)


def test_stop_str():
    stop = ItineraryStopFactory(day=2, order=3, title_en="Chocolate tasting", time=time(15, 30))
    assert str(stop) == "Day 2 · 3. Chocolate tasting"


def test_farm_on_an_itinerary_cannot_be_deleted():
    stop = ItineraryStopFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        stop.farm.delete()
    assert ItineraryStop.objects.count() == 1


# -- departures -------------------------------------------------------------------------


@pytest.mark.parametrize("capacity", [0])
def test_departure_capacity_must_be_positive(capacity):
    assert_refused(DepartureFactory, Departure, capacity=capacity)


def test_departure_capacity_full_clean_message():
    departure = DepartureFactory.build(tour=TourFactory(), capacity=0)
    with pytest.raises(ValidationError) as excinfo:
        departure.full_clean()
    assert "Capacity must be at least 1." in excinfo.value.messages


def test_departure_start_is_unique_per_tour():
    departure = DepartureFactory()
    assert_refused(DepartureFactory, Departure, tour=departure.tour, starts_at=departure.starts_at)
    DepartureFactory(starts_at=departure.starts_at)  # same time, other tour
    assert Departure.objects.count() == 2


def test_departure_str_shows_lima_time():
    departure = DepartureFactory(
        tour=TourFactory(title_en="Quillabamba Cacao Day"), starts_at=datetime(2026, 12, 5, 13, 0, tzinfo=UTC)
    )
    assert str(departure) == "Quillabamba Cacao Day · Sat 5 Dec 2026, 08:00"


def test_tour_with_departures_cannot_be_deleted():
    departure = DepartureFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        departure.tour.delete()
    assert Tour.objects.count() == 1


# -- share rules ------------------------------------------------------------------------


@pytest.mark.parametrize("basis_points", [0, 10_001, 20_000])
def test_share_rule_basis_points_between_1_and_10000(basis_points):
    assert_refused(ShareRuleFactory, ShareRule, basis_points=basis_points)


@pytest.mark.parametrize("basis_points", [1, 10_000])
def test_share_rule_basis_points_limits_are_accepted(basis_points):
    assert ShareRuleFactory(basis_points=basis_points).basis_points == basis_points


def test_share_rule_needs_exactly_one_recipient():
    tour, cooperative, fund, farm = TourFactory(), CooperativeFactory(), CommunityFundFactory(), FarmFactory()
    assert_refused(ShareRuleFactory, ShareRule, tour=tour, cooperative=None)
    assert_refused(ShareRuleFactory, ShareRule, tour=tour, cooperative=cooperative, fund=fund)
    assert_refused(ShareRuleFactory, ShareRule, tour=tour, cooperative=cooperative, farm=farm)
    assert_refused(ShareRuleFactory, ShareRule, tour=tour, cooperative=None, fund=fund, farm=farm)
    assert_refused(ShareRuleFactory, ShareRule, tour=tour, cooperative=cooperative, fund=fund, farm=farm)


def test_share_rule_full_clean_explains_recipient():
    rule = ShareRuleFactory.build(tour=TourFactory(), cooperative=None)
    with pytest.raises(ValidationError) as excinfo:
        rule.full_clean()
    assert "Choose exactly one recipient: a cooperative, a fund or a farm." in excinfo.value.messages


def test_share_rule_recipient_is_unique_per_tour():
    rule = ShareRuleFactory()
    fund_rule = ShareRuleFactory(tour=rule.tour, cooperative=None, fund=CommunityFundFactory())
    farm_rule = ShareRuleFactory(tour=rule.tour, cooperative=None, farm=FarmFactory())
    assert_refused(ShareRuleFactory, ShareRule, tour=rule.tour, cooperative=rule.cooperative)
    assert_refused(ShareRuleFactory, ShareRule, tour=rule.tour, cooperative=None, fund=fund_rule.fund)
    assert_refused(ShareRuleFactory, ShareRule, tour=rule.tour, cooperative=None, farm=farm_rule.farm)
    ShareRuleFactory(cooperative=rule.cooperative)  # the same cooperative on another tour
    assert ShareRule.objects.count() == 4


@pytest.mark.parametrize(
    ("basis_points", "percent"),
    [(1500, "15%"), (1250, "12.5%"), (1, "0.01%"), (10_000, "100%"), (333, "3.33%"), (1010, "10.1%")],
)
def test_share_rule_percent_display(basis_points, percent):
    assert ShareRule(basis_points=basis_points).percent_display == percent


def test_share_rule_str_and_recipient():
    cooperative = CooperativeFactory(name_en="Agrobosque Cooperative")
    fund = CommunityFundFactory(name_en="Women's chocolate makers")
    farm = FarmFactory(name_en="Don Manuel's Farm", host_family="Huamán family")
    rules = [
        ShareRuleFactory(cooperative=cooperative, basis_points=1500),
        ShareRuleFactory(cooperative=None, fund=fund, basis_points=1000),
        ShareRuleFactory(cooperative=None, farm=farm, basis_points=250),
    ]
    assert [str(rule) for rule in rules] == [
        "Agrobosque Cooperative · 15%",
        "Women's chocolate makers · 10%",
        "Don Manuel's Farm (Huamán family) · 2.5%",
    ]
    assert [rule.recipient for rule in rules] == [cooperative, fund, farm]
    assert [rule.recipient_kind for rule in rules] == ["cooperative", "fund", "farm"]


def test_recipient_with_share_rules_cannot_be_deleted():
    rule = ShareRuleFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        rule.cooperative.delete()
    assert ShareRule.objects.count() == 1
