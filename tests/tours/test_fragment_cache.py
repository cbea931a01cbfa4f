"""The catalog fragment cache: cached content stays correct, seats stay live, queries stay few."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.template import Context, Template
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time

from cacaotours.core.catalog_version import CATALOG_VERSION_KEY, catalog_changed, catalog_version
from cacaotours.core.fragments import PageFragments, data_digest
from tests.factories import DepartureFactory, TourFactory
from tests.helpers import form_values
from tests.tours.test_catalog_pages import MAX_CATALOG_QUERIES, add_tours, build_catalog, catalog_urls, get, text
from tours import selectors
from tours.models import Departure, SeatHold, Tour
from tours.services import departure_seats_hold

pytestmark = pytest.mark.django_db


@pytest.fixture
def fragments_on(settings):
    settings.CATALOG_FRAGMENT_SECONDS = 600


def hold(*, departure, units, expires_at=None, released_at=None) -> SeatHold:
    return SeatHold.objects.create(departure=departure, units=units, expires_at=expires_at, released_at=released_at)


def all_urls(catalog) -> list[str]:
    return [*catalog_urls(catalog).values(), *catalog_urls(catalog, prefix="/es").values()]


# -- the same pages, fewer queries ------------------------------------------------------


def test_cached_pages_are_the_pages_rendered_without_fragments(client, settings):
    catalog = build_catalog(photos=False)
    settings.CATALOG_FRAGMENT_SECONDS = 0
    plain = {url: client.get(url).content for url in all_urls(catalog)}

    settings.CATALOG_FRAGMENT_SECONDS = 600
    for url in all_urls(catalog):
        cold, _ = get(client, url)
        warm, _ = get(client, url)
        assert cold.status_code == warm.status_code == 200, url
        assert cold.content == warm.content == plain[url], url


def test_cached_pages_skip_the_queries_of_their_fragments(client, fragments_on):
    catalog = build_catalog(photos=False)
    cold = {page: get(client, url)[1] for page, url in catalog_urls(catalog).items()}
    warm = {page: get(client, url)[1] for page, url in catalog_urls(catalog).items()}

    assert all(count <= MAX_CATALOG_QUERIES for count in cold.values()), cold
    # home: nothing; tour: the departures with their seats left; the others: the object itself.
    assert warm == {"home": 0, "route": 1, "tour": 1, "farm": 2, "cooperative": 2}


def test_query_counts_with_fragments_are_the_same_for_3_and_300_tours(client, fragments_on):
    catalog = build_catalog(3, photos=False)
    urls = catalog_urls(catalog)
    small_cold = {page: get(client, url)[1] for page, url in urls.items()}
    small_warm = {page: get(client, url)[1] for page, url in urls.items()}

    add_tours(catalog, 297, photos=False)
    catalog_changed()  # what the admin does; bulk_create in a test does not
    cache.delete(CATALOG_VERSION_KEY)  # the test transaction never commits: retire the fragments by hand
    large_cold = {page: get(client, url) for page, url in urls.items()}
    large_warm = {page: get(client, url)[1] for page, url in urls.items()}

    assert {page: count for page, (_r, count) in large_cold.items()} == small_cold
    assert large_warm == small_warm
    assert max(small_cold.values()) <= MAX_CATALOG_QUERIES
    assert "Cacao tour number 299" in text(large_cold["home"][0])
    assert "Cacao tour number 299" in text(client.get(urls["route"]))  # served from the fragment


def test_tour_page_without_departures_is_cached_too(client, fragments_on):
    TourFactory(slug="quiet", title_en="A quiet tour")
    first, _ = get(client, "/tours/quiet/")
    second, count = get(client, "/tours/quiet/")
    assert first.content == second.content
    assert "A quiet tour" in text(second)
    assert count == 2  # no upcoming departures, then the tour itself (is it published?)


# -- content edits show at once ---------------------------------------------------------


def test_a_tour_title_changed_in_the_admin_shows_at_once(client, staff_user, fragments_on):
    catalog = build_catalog(1, photos=False)
    tour = catalog.tours[0]
    visitor = Client()
    assert "Cacao tour number 0" in text(visitor.get(f"/tours/{tour.slug}/"))
    assert get(visitor, f"/tours/{tour.slug}/")[1] == 1  # cached

    client.force_login(staff_user)
    data = form_values(client.get(f"/admin/tours/tour/{tour.pk}/change/").content.decode(), "tour_form")
    data["title_en"] = "Bean to bar with Don Manuel"
    assert client.post(f"/admin/tours/tour/{tour.pk}/change/", data).status_code == 302

    body = text(visitor.get(f"/tours/{tour.slug}/"))
    assert "Bean to bar with Don Manuel" in body
    assert "Cacao tour number 0" not in body
    assert "<title>Bean to bar with Don Manuel · Kallpa Travel</title>" in body


def test_a_farm_renamed_in_the_admin_shows_at_once_on_the_tour_page(
    client, staff_user, fragments_on, django_capture_on_commit_callbacks
):
    catalog = build_catalog(1, photos=False)
    url = f"/tours/{catalog.tours[0].slug}/"
    assert "Don Manuel's Farm" in text(client.get(url))
    assert get(client, url)[1] == 1  # cached; the farm is not part of the key, the catalog version is

    admin = Client()
    admin.force_login(staff_user)
    data = form_values(admin.get(f"/admin/farms/farm/{catalog.farm.pk}/change/").content.decode(), "farm_form")
    data["name_en"] = "Finca Manuel, Quellouno"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert admin.post(f"/admin/farms/farm/{catalog.farm.pk}/change/", data).status_code == 302
    assert callbacks  # catalog_changed() runs after the commit

    body = text(client.get(url))
    assert "Finca Manuel, Quellouno" in body
    assert "Don Manuel's Farm" not in body


def test_an_edit_saved_outside_the_admin_shows_at_once(client, fragments_on):
    catalog = build_catalog(1, photos=False)
    tour = catalog.tours[0]
    url = f"/tours/{tour.slug}/"
    client.get(url)
    tour.title_en = "Renamed in a shell"
    tour.save()  # updated_at is part of the key
    assert "Renamed in a shell" in text(client.get(url))


def test_unpublishing_is_immediate_even_with_the_page_cached(client, fragments_on):
    catalog = build_catalog(1, photos=False)
    url = f"/tours/{catalog.tours[0].slug}/"
    assert client.get(url).status_code == 200
    Tour.objects.update(is_published=False)  # no admin, no version bump, no save()
    assert client.get(url).status_code == 404


def test_languages_have_their_own_fragments(client, fragments_on):
    catalog = build_catalog(1, photos=False)
    english = text(client.get(f"/tours/{catalog.tours[0].slug}/"))
    spanish = text(client.get(f"/es/tours/{catalog.tours[0].slug}/"))
    assert "Cacao tour number 0" in english and "Tour de cacao número 0" not in english
    assert "Tour de cacao número 0" in spanish and "Cacao tour number 0" not in spanish
    assert 'href="/es/routes/convencion/"' in spanish


# -- live parts stay live ---------------------------------------------------------------


def test_seats_left_drop_on_the_next_request(client, fragments_on):
    catalog = build_catalog(1, photos=False)
    url = f"/tours/{catalog.tours[0].slug}/"
    departure = Departure.objects.filter(tour=catalog.tours[0]).order_by("starts_at").first()
    assert "10 seats left" in text(client.get(url))
    assert "10 seats left" in text(client.get(url))  # cached

    departure_seats_hold(departure_id=departure.pk, units=3, expires_at=timezone.now() + timedelta(minutes=15))

    body = text(client.get(url))
    assert "7 seats left" in body
    assert body.count("10 seats left") == 1  # the other departure


def test_an_expired_hold_frees_its_seats_on_the_next_request(client, fragments_on):
    catalog = build_catalog(1, photos=False)
    url = f"/tours/{catalog.tours[0].slug}/"
    departure = Departure.objects.filter(tour=catalog.tours[0]).order_by("starts_at").first()
    departure_seats_hold(departure_id=departure.pk, units=10, expires_at=timezone.now() + timedelta(minutes=15))
    assert "Sold out" in text(client.get(url))
    with freeze_time(timezone.now() + timedelta(minutes=16)):
        body = text(client.get(url))
    assert "Sold out" not in body
    assert body.count("10 seats left") == 2


def test_the_next_departure_on_tour_cards_moves_on_when_it_passes(client, fragments_on):
    now = timezone.now().replace(microsecond=0)
    with freeze_time(now) as frozen:
        tour = TourFactory(is_featured=True, title_en="Harvest morning")
        DepartureFactory(tour=tour, starts_at=now + timedelta(hours=1))
        later = DepartureFactory(tour=tour, starts_at=now + timedelta(days=10))
        soon_label = f"Next: {timezone.localtime(now + timedelta(hours=1)):%-d %b}"
        later_label = f"Next: {timezone.localtime(later.starts_at):%-d %b}"
        assert soon_label in text(client.get("/"))
        assert get(client, "/")[1] == 0  # cached

        frozen.move_to(now + timedelta(hours=2))
        body = text(client.get("/"))
    assert later_label in body
    assert soon_label not in body


def test_the_footer_is_memoized_per_language_and_year(client):
    TourFactory(slug="any")
    assert '<h2 id="footer-explore">Explore</h2>' in text(client.get("/tours/any/"))
    assert '<h2 id="footer-explore">Explorar</h2>' in text(client.get("/es/tours/any/"))
    with freeze_time("2031-01-01 12:00:00"):
        assert "© 2031 Kallpa Travel" in text(client.get("/tours/any/"))
    assert f"© {timezone.localdate().year} Kallpa Travel" in text(client.get("/tours/any/"))


# -- the building blocks ----------------------------------------------------------------


def test_catalog_changed_bumps_the_version_after_the_commit(django_capture_on_commit_callbacks):
    before = catalog_version()
    with django_capture_on_commit_callbacks() as callbacks:
        catalog_changed()
        assert catalog_version() == before
    assert len(callbacks) == 1
    callbacks[0]()
    assert catalog_version() == before + 1


def test_a_lost_version_starts_above_every_version_used_before(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        catalog_changed()
    used = catalog_version()
    cache.delete(CATALOG_VERSION_KEY)  # evicted, or the cache was flushed
    assert catalog_version() > used


def test_a_fragment_without_page_fragments_is_always_rendered(settings):
    settings.CATALOG_FRAGMENT_SECONDS = 600
    page = Template('{% load catalog %}{% catalogfragment fragments "x" %}{{ n }}{% endcatalogfragment %}')
    assert page.render(Context({"n": 1})) == "1"
    assert page.render(Context({"n": 2})) == "2"
    fragments = PageFragments("test")
    assert page.render(Context({"n": 3, "fragments": fragments})) == "3"
    assert page.render(Context({"n": 4, "fragments": PageFragments("test")})) == "3"  # cached


def test_fragments_are_off_with_zero_seconds(settings):
    settings.CATALOG_FRAGMENT_SECONDS = 0
    fragments = PageFragments("tour", 1)
    fragments.set("main", "<p>x</p>")
    assert not fragments.enabled
    assert fragments.get("main") is None


def test_a_fragment_expires_at_the_time_it_was_given(settings):
    settings.CATALOG_FRAGMENT_SECONDS = 600
    now = timezone.now()
    with freeze_time(now):
        PageFragments("home").set("content", "<p>x</p>", expires_at=(now + timedelta(minutes=5)).timestamp())
        assert PageFragments("home").get("content") == "<p>x</p>"
    with freeze_time(now + timedelta(minutes=6)):
        assert PageFragments("home").get("content") is None


def test_data_digest_changes_with_seats_left():
    catalog = build_catalog(1, photos=False)
    slug = catalog.tours[0].slug
    before = data_digest(selectors.departure_list_upcoming_of_published(slug=slug))
    assert data_digest(selectors.departure_list_upcoming_of_published(slug=slug)) == before
    departure = Departure.objects.filter(tour=catalog.tours[0]).first()
    hold(departure=departure, units=1, expires_at=timezone.now() + timedelta(minutes=5))
    assert data_digest(selectors.departure_list_upcoming_of_published(slug=slug)) != before


def departures_seen(departures) -> list[tuple]:
    return [(d.pk, d.starts_at, d.status, d.capacity, d.seats_taken, d.seats_left) for d in departures]


@pytest.mark.parametrize("prepared", [True, False], ids=["compiled-once", "orm"])
def test_departures_of_a_published_tour_match_departure_list_upcoming(monkeypatch, prepared):
    now = timezone.now()
    tour = TourFactory(slug="busy")
    other = TourFactory(slug="other")
    full, some, quiet = (DepartureFactory(tour=tour, starts_at=now + timedelta(days=d), capacity=8) for d in (3, 4, 5))
    DepartureFactory(tour=tour, starts_at=now + timedelta(days=6), status=Departure.Status.CLOSED)
    DepartureFactory(tour=tour, starts_at=now + timedelta(days=7), status=Departure.Status.CANCELLED)
    DepartureFactory(tour=tour, starts_at=now - timedelta(days=1))
    DepartureFactory(tour=tour, starts_at=now + timedelta(days=selectors.UPCOMING_DAYS + 1))
    DepartureFactory(tour=other, starts_at=now + timedelta(days=3))
    hold(departure=full, units=8, expires_at=None)
    hold(departure=full, units=2, expires_at=now + timedelta(minutes=5))
    hold(departure=some, units=3, expires_at=now + timedelta(minutes=5))
    hold(departure=some, units=4, expires_at=now - timedelta(minutes=1))
    hold(departure=quiet, units=5, released_at=now)
    if not prepared:
        monkeypatch.setattr(selectors, "_departures_upcoming_of_published_sql", lambda alias, limit: None)
    else:
        assert selectors._departures_upcoming_of_published_sql("default", 12) is not None

    departures = selectors.departure_list_upcoming_of_published(slug="busy")

    assert departures_seen(departures) == departures_seen(selectors.departure_list_upcoming(tour=tour))
    assert [(d.seats_taken, d.seats_left) for d in departures] == [(10, 0), (3, 5), (0, 8), (0, 10)]
    assert len(selectors.departure_list_upcoming_of_published(slug="busy", limit=2)) == 2
    Tour.objects.filter(pk=tour.pk).update(is_published=False)
    assert selectors.departure_list_upcoming_of_published(slug="busy") == []
    assert selectors.departure_list_upcoming_of_published(slug="no-such-tour") == []


def test_departures_query_takes_one_query(django_assert_num_queries):
    catalog = build_catalog(1, photos=False)
    with django_assert_num_queries(1):
        departures = selectors.departure_list_upcoming_of_published(slug=catalog.tours[0].slug)
    assert len(departures) == 2
    assert departures[0].tour_id == catalog.tours[0].pk
