import html
import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from farms.models import FarmPhoto
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
    fake_photo_kwargs,
)
from tours.models import Departure, ItineraryStop, ShareRule, TourPhoto

pytestmark = pytest.mark.django_db

MAX_CATALOG_QUERIES = 6


@dataclass
class Catalog:
    cooperative: object
    fund: object
    farm: object
    route: object
    tours: list


def build_catalog(n_tours: int = 3, *, photos: bool = True) -> Catalog:
    """A cooperative with a fund and a host farm, one route and ``n_tours`` featured tours.

    Every tour has photos, two itinerary stops at the farm, departures and three share rules.
    """
    cooperative = CooperativeFactory(
        name_en="Agrobosque Cooperative", name_es="Cooperativa Agrobosque", slug="agrobosque"
    )
    cooperative.certifications.add(CertificationFactory(name_en="Organic", name_es="Orgánico"))
    fund = CommunityFundFactory(
        name_en="Women's chocolate makers", name_es="Mujeres chocolateras", slug="women", cooperative=cooperative
    )
    farm = FarmFactory(
        name_en="Don Manuel's Farm", name_es="Finca de Don Manuel", slug="don-manuel", cooperative=cooperative
    )
    route = RouteFactory(name_en="Convención Valley", name_es="Valle de La Convención", slug="convencion")
    if photos:
        FarmPhotoFactory(farm=farm)
        RoutePhotoFactory(route=route)
    catalog = Catalog(cooperative, fund, farm, route, [])
    add_tours(catalog, n_tours, photos=photos)
    return catalog


def add_tours(catalog: Catalog, count: int, *, photos: bool) -> None:
    start = len(catalog.tours)
    tours = [
        TourFactory(
            route=catalog.route,
            title_en=f"Cacao tour number {i}",
            title_es=f"Tour de cacao número {i}",
            slug=f"cacao-tour-{i}",
            adult_price=35000,
            is_featured=True,
        )
        for i in range(start, start + count)
    ]
    catalog.tours.extend(tours)
    soon = timezone.now() + timedelta(days=10)
    stops, departures, rules, photo_rows = [], [], [], []
    for index, tour in enumerate(tours):
        if photos:
            TourPhotoFactory(tour=tour)
            TourPhotoFactory(tour=tour)
        else:
            photo_rows += [TourPhoto(tour=tour, **fake_photo_kwargs(f"t{tour.pk}-{n}", n)) for n in range(2)]
        stops += [
            ItineraryStopFactory.build(tour=tour, farm=catalog.farm, day=1, order=order, title_en=f"Stop {order}")
            for order in (1, 2)
        ]
        departures += [
            DepartureFactory.build(tour=tour, starts_at=soon + timedelta(days=d, minutes=index)) for d in (0, 7)
        ]
        rules += [
            ShareRuleFactory.build(tour=tour, cooperative=catalog.cooperative, basis_points=1500),
            ShareRuleFactory.build(tour=tour, cooperative=None, fund=catalog.fund, basis_points=1000),
            ShareRuleFactory.build(tour=tour, cooperative=None, farm=catalog.farm, basis_points=500),
        ]
    ItineraryStop.objects.bulk_create(stops)
    Departure.objects.bulk_create(departures)
    ShareRule.objects.bulk_create(rules)
    TourPhoto.objects.bulk_create(photo_rows)
    if not photos:
        FarmPhoto.objects.bulk_create([FarmPhoto(farm=catalog.farm, **fake_photo_kwargs(f"f{n}", n)) for n in range(2)])


def catalog_urls(catalog: Catalog, prefix: str = "") -> dict[str, str]:
    return {
        "home": f"{prefix}/",
        "route": f"{prefix}/routes/{catalog.route.slug}/",
        "tour": f"{prefix}/tours/{catalog.tours[0].slug}/",
        "farm": f"{prefix}/farms/{catalog.farm.slug}/",
        "cooperative": f"{prefix}/cooperatives/{catalog.cooperative.slug}/",
    }


def get(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, len(queries.captured_queries)


def text(response) -> str:
    return html.unescape(response.content.decode())


# -- pages render, in both languages ----------------------------------------------------


def test_pages_render_in_english(client, media):
    catalog = build_catalog()
    tour = catalog.tours[0]
    expected = {
        "home": ["Cacao tour number 0", "Cacao tour number 2", "Convención Valley", "Women's chocolate makers"],
        "route": ["Convención Valley", "Cacao tour number 0", "Cacao tour number 2", "Don Manuel's Farm"],
        "tour": [
            "Cacao tour number 0",
            "Stop 1",
            "Stop 2",
            "Don Manuel's Farm",
            "Agrobosque Cooperative",
            "Women's chocolate makers",
            "S/ 350.00",
            "S/ 52.50",
            "S/ 35.00",
            "S/ 17.50",
            "S/ 245.00",
            "10 seats left",
        ],
        "farm": ["Don Manuel's Farm", "Cacao tour number 0", "Cacao tour number 2", "Agrobosque Cooperative"],
        "cooperative": [
            "Agrobosque Cooperative",
            "Women's chocolate makers",
            "Don Manuel's Farm",
            "Cacao tour number 1",
            "Organic",
        ],
    }
    for page, url in catalog_urls(catalog).items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Language"] == "en"
        body = text(response)
        assert '<html lang="en">' in body
        for snippet in expected[page]:
            assert snippet in body, (url, snippet)
        assert "Tour de cacao número 0" not in body, url
    assert tour.get_absolute_url() == "/tours/cacao-tour-0/"


def test_pages_render_in_spanish(client, media):
    catalog = build_catalog()
    expected = {
        "home": ["Tour de cacao número 0", "Valle de La Convención", "Mujeres chocolateras"],
        "route": ["Valle de La Convención", "Tour de cacao número 1", "Finca de Don Manuel"],
        "tour": ["Tour de cacao número 0", "Finca de Don Manuel", "Cooperativa Agrobosque", "S/ 350.00", "S/ 52.50"],
        "farm": ["Finca de Don Manuel", "Tour de cacao número 2"],
        "cooperative": ["Cooperativa Agrobosque", "Mujeres chocolateras", "Finca de Don Manuel", "Orgánico"],
    }
    links = dict.fromkeys(expected, 'href="/es/tours/cacao-tour-1/"')
    links["tour"] = 'href="/es/routes/convencion/"'
    for page, url in catalog_urls(catalog, prefix="/es").items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Language"] == "es"
        body = text(response)
        assert '<html lang="es">' in body
        for snippet in expected[page]:
            assert snippet in body, (url, snippet)
        assert "Cacao tour number 0" not in body, url
        # links inside the Spanish site stay in Spanish
        assert links[page] in body, (url, links[page])


def test_tour_page_without_departures_or_share_rules(client):
    tour = TourFactory(slug="quiet-tour", child_price=None)

    response = client.get("/tours/quiet-tour/")

    assert response.status_code == 200
    body = text(response)
    assert tour.title_en in body
    assert "S/ 350.00" in body


@pytest.mark.parametrize(
    "url",
    [
        "/tours/no-such-tour/",
        "/routes/no-such-route/",
        "/farms/no-such-farm/",
        "/cooperatives/no-such-coop/",
        "/es/tours/no-such-tour/",
        "/no/such/page/",
        "/es/no/such/page/",
    ],
)
def test_unknown_pages_are_styled_404(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert next(t.name for t in response.templates) == "404.html"
    assert "base.html" in [t.name for t in response.templates]
    assert f'<html lang="{"es" if url.startswith("/es/") else "en"}">' in response.content.decode()


def test_unpublished_content_is_not_found_and_not_listed(client, media):
    catalog = build_catalog(photos=False)
    hidden_tour = TourFactory(
        route=catalog.route, is_published=False, is_featured=True, title_en="Secret draft tour", slug="secret-draft"
    )
    ItineraryStopFactory(tour=hidden_tour, farm=catalog.farm)
    ShareRuleFactory(tour=hidden_tour, cooperative=catalog.cooperative)
    hidden_route = RouteFactory(is_published=False, slug="hidden-route", name_en="Hidden route")
    on_hidden_route = TourFactory(
        route=hidden_route, is_featured=True, slug="on-hidden-route", title_en="Tour on a hidden route"
    )
    FarmFactory(is_published=False, slug="hidden-farm")
    CooperativeFactory(is_published=False, slug="hidden-coop")

    for url in [
        "/tours/secret-draft/",
        "/tours/on-hidden-route/",
        "/routes/hidden-route/",
        "/farms/hidden-farm/",
        "/cooperatives/hidden-coop/",
        "/es/tours/secret-draft/",
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert next(t.name for t in response.templates) == "404.html"
    for url in catalog_urls(catalog).values():
        body = text(client.get(url))
        for hidden in ("Secret draft tour", "Tour on a hidden route", "Hidden route"):
            assert hidden not in body, (url, hidden)
    assert on_hidden_route.pk


# -- a fixed number of queries, whatever the size of the catalog ------------------------


def test_each_page_uses_the_same_small_number_of_queries_for_3_and_300_tours(client, media):
    catalog = build_catalog(3)
    small = {page: get(client, url) for page, url in catalog_urls(catalog).items()}
    for page, (response, _count) in small.items():
        assert response.status_code == 200, page

    add_tours(catalog, 297, photos=False)
    large = {page: get(client, url) for page, url in catalog_urls(catalog).items()}

    assert {page: count for page, (_r, count) in large.items()} == {page: count for page, (_r, count) in small.items()}
    for page, (response, count) in large.items():
        assert response.status_code == 200, page
        assert count <= MAX_CATALOG_QUERIES, (page, count)
    assert "Cacao tour number 299" in text(large["route"][0])
    assert "Cacao tour number 299" in text(large["home"][0])
    assert "Cacao tour number 299" in text(large["farm"][0])
    assert "Cacao tour number 299" in text(large["cooperative"][0])


def test_tour_page_queries_do_not_grow_with_stops_departures_and_photos(client, media):
    catalog = build_catalog(1, photos=False)
    tour = catalog.tours[0]
    _response, before = get(client, f"/tours/{tour.slug}/")

    farms = FarmFactory.create_batch(5, cooperative=CooperativeFactory())
    ItineraryStop.objects.bulk_create(
        [ItineraryStopFactory.build(tour=tour, farm=farm, day=2, order=n + 1) for n, farm in enumerate(farms)]
    )
    Departure.objects.bulk_create(
        [DepartureFactory.build(tour=tour, starts_at=timezone.now() + timedelta(days=20 + n)) for n in range(10)]
    )
    ShareRule.objects.bulk_create(
        [ShareRuleFactory.build(tour=tour, cooperative=None, farm=f, basis_points=100) for f in farms]
    )
    TourPhoto.objects.bulk_create([TourPhoto(tour=tour, **fake_photo_kwargs(f"x{n}", n + 5)) for n in range(8)])
    response, after = get(client, f"/tours/{tour.slug}/")

    assert response.status_code == 200
    assert after == before <= MAX_CATALOG_QUERIES


# -- the catalog cache ------------------------------------------------------------------


def test_anonymous_pages_are_served_from_the_cache(client, settings, media):
    settings.CATALOG_CACHE_SECONDS = 60
    catalog = build_catalog(photos=False)
    for url in [*catalog_urls(catalog).values(), *catalog_urls(catalog, prefix="/es").values()]:
        first, first_count = get(client, url)
        second, second_count = get(client, url)
        assert first.status_code == second.status_code == 200, url
        assert first_count > 0, url
        assert second_count == 0, url
        assert second.content == first.content, url


def test_cache_keeps_languages_apart(client, settings):
    settings.CATALOG_CACHE_SECONDS = 60
    TourFactory(slug="bilingual", title_en="Bean to bar", title_es="Del grano a la barra")
    assert "Bean to bar" in text(client.get("/tours/bilingual/"))
    spanish = text(client.get("/es/tours/bilingual/"))
    assert "Del grano a la barra" in spanish
    assert "Bean to bar" not in spanish


def test_visitors_with_a_session_always_get_a_fresh_page(client, settings, staff_user):
    settings.CATALOG_CACHE_SECONDS = 60
    TourFactory(slug="fresh")
    get(client, "/tours/fresh/")
    client.force_login(staff_user)
    response, count = get(client, "/tours/fresh/")
    assert response.status_code == 200
    assert count > 0


def test_without_cache_every_request_queries(client, settings):
    settings.CATALOG_CACHE_SECONDS = 0
    TourFactory(slug="uncached")
    get(client, "/tours/uncached/")
    _response, count = get(client, "/tours/uncached/")
    assert count > 0


# -- hello and healthz ------------------------------------------------------------------


def test_hello(client):
    response, count = get(client, "/hello/")
    assert response.status_code == 200
    assert response.content == b"hello"
    assert response["Content-Type"] == "text/plain"
    assert count == 0


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_reports_a_broken_cache(client, monkeypatch):
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "set", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "error", "database": "ok", "cache": "error: ConnectionError"}


def test_hello_and_healthz_are_get_only(client):
    assert client.post("/hello/").status_code == 405
    assert client.post("/healthz").status_code == 405
