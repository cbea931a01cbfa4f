"""The catalog page cache (cacaotours/core/caching.py): what is kept, for whom, and what a hit answers."""

import time

import pytest
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from cacaotours.core.caching import CatalogPageCacheMiddleware, catalog_cache
from tests.factories import TourFactory
from tests.tours.test_catalog_pages import get

pytestmark = pytest.mark.django_db

SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy")


@pytest.fixture
def cached(settings):
    settings.CATALOG_CACHE_SECONDS = 60
    return TourFactory(slug="kept", title_en="Bean to bar", title_es="Del grano a la barra")


def test_a_hit_answers_the_same_page_and_headers_without_touching_the_database(client, cached):
    first, first_count = get(client, "/tours/kept/")
    second, second_count = get(client, "/tours/kept/")

    assert (first.status_code, second.status_code) == (200, 200)
    assert first_count > 0
    assert second_count == 0
    assert second.content == first.content
    for name in (*SECURITY_HEADERS, "Content-Type", "Content-Language", "Vary"):
        assert second[name] == first[name], name
    assert second["Content-Language"] == "en"
    assert "'unsafe-inline'" not in second["Content-Security-Policy"]
    assert second["X-Request-ID"] != first["X-Request-ID"]  # each request its own id
    assert first["Cache-Control"] == "max-age=60"
    max_age = int(second["Cache-Control"].removeprefix("max-age="))
    assert 0 <= max_age <= 60
    assert not second.cookies


def test_the_language_is_part_of_the_page_kept(client, cached):
    get(client, "/tours/kept/")
    spanish, count = get(client, "/es/tours/kept/")
    assert count > 0  # not the English page
    assert "Del grano a la barra" in spanish.content.decode()
    again, count = get(client, "/es/tours/kept/")
    assert count == 0
    assert again["Content-Language"] == "es"
    assert "Bean to bar" not in again.content.decode()


def test_the_query_string_is_part_of_the_key(client, cached):
    get(client, "/tours/kept/")
    _response, count = get(client, "/tours/kept/?utm_source=newsletter")
    assert count > 0


def test_signed_in_visitors_and_pending_messages_always_get_a_fresh_page(client, cached, django_user_model):
    get(client, "/tours/kept/")
    client.cookies[CookieStorage.cookie_name] = "a pending message"
    _response, count = get(client, "/tours/kept/")
    assert count > 0
    del client.cookies[CookieStorage.cookie_name]

    client.force_login(django_user_model.objects.create_user("ana@example.com", "pw-123456789"))
    response, count = get(client, "/tours/kept/")
    assert count > 0
    assert "Cache-Control" not in response  # and not kept by the browser either


def test_a_visitor_with_other_cookies_gets_the_kept_page(client, cached):
    get(client, "/tours/kept/")
    client.cookies["csrftoken"] = "x" * 32
    client.cookies["django_language"] = "es"
    response, count = get(client, "/tours/kept/")
    assert count == 0
    assert response["Content-Language"] == "en"  # the path decides the language


def test_not_found_and_unmarked_pages_are_never_kept(client, cached):
    for url in ("/tours/no-such-tour/", "/accounts/login/"):
        get(client, url)
        second, count = get(client, url)
        assert count > 0, url
        assert "Cache-Control" not in second or "max-age=60" not in second["Cache-Control"], url


def test_only_get_is_served_from_the_cache(client, cached):
    get(client, "/tours/kept/")
    with CaptureQueriesContext(connection) as queries:
        head = client.head("/tours/kept/")
    assert head.status_code == 200
    assert len(queries) > 0


def test_a_host_that_is_not_allowed_is_still_refused(client, cached):
    get(client, "/tours/kept/")
    response = client.get("/tours/kept/", HTTP_HOST="evil.example")
    assert response.status_code == 400


# -- what the middleware keeps: responses it may not keep ------------------------------------------


def run(view, path="/tours/kept/", **headers):
    """Two requests through the middleware alone; how many times the view ran."""
    calls = []

    def counted(request):
        calls.append(request)
        return view(request)

    middleware = CatalogPageCacheMiddleware(catalog_cache(counted))
    for _ in range(2):
        middleware(RequestFactory().get(path, **headers))
    return len(calls)


def page(**headers):
    def view(request):
        response = HttpResponse("<p>page</p>")
        response["Content-Language"] = "en"
        for name, value in headers.items():
            response[name.replace("_", "-")] = value
        return response

    return view


def test_a_plain_marked_page_is_kept(cached):
    assert run(page()) == 1
    assert run(page(Vary="Cookie, Accept-Language"), path="/tours/other/") == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Vary": "User-Agent"},
        {"Vary": "Cookie, Authorization"},
        {"Cache_Control": "private"},
        {"Cache_Control": "no-store"},
        {"Content_Language": "es"},  # Spanish at an English path
    ],
)
def test_a_page_that_varies_on_more_or_asks_not_to_be_kept_is_not_kept(cached, headers):
    assert run(page(**headers)) == 2


def test_a_page_that_sets_a_cookie_is_not_kept(cached):
    def view(request):
        response = page()(request)
        response.set_cookie("csrftoken", "secret-of-one-visitor")
        return response

    assert run(view) == 2


def test_an_unmarked_view_is_not_kept(cached):
    calls = []

    def view(request):
        calls.append(request)
        return page()(request)

    middleware = CatalogPageCacheMiddleware(view)
    for _ in range(2):
        middleware(RequestFactory().get("/tours/kept/"))
    assert len(calls) == 2


def test_turned_off_nothing_is_kept(settings):
    settings.CATALOG_CACHE_SECONDS = 0
    assert run(page()) == 2


def test_a_kept_page_expires(cached, monkeypatch):
    assert run(page()) == 1
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 30)
    response = CatalogPageCacheMiddleware(catalog_cache(page()))(RequestFactory().get("/tours/kept/"))
    assert response["Cache-Control"] in ("max-age=30", "max-age=29")
