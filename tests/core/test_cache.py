"""The fail-soft Redis cache (cacaotours/core/cache.py): a Redis that does not answer is a cache miss.

Found by the Redis fault benchmark (bench/faults.py): with Django's RedisCache every catalog page
answered 500 while Redis was down, although the database could serve it.
"""

import json
import logging
import os
import socket

import pytest
import redis
from django.core.cache import cache

from tests.tours.test_catalog_pages import build_catalog, catalog_urls

pytestmark = pytest.mark.django_db


def redis_cache(location: str, **options) -> dict:
    return {
        "default": {
            "BACKEND": "cacaotours.core.cache.FailSoftRedisCache",
            "LOCATION": location,
            "KEY_PREFIX": "cache-test",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0, **options},
        }
    }


@pytest.fixture
def warnings_each_time(monkeypatch):
    monkeypatch.setattr("cacaotours.core.cache._last_warning", [float("-inf")])


@pytest.fixture
def redis_down(settings, warnings_each_time):
    """The cache points at a port where nothing listens: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{port}/0")


def test_an_unreachable_redis_is_a_miss_for_reads_and_nothing_for_writes(redis_down, caplog):
    with caplog.at_level(logging.WARNING, logger="cacaotours.core.cache"):
        assert cache.get("key", "default") == "default"
        assert cache.set("key", 1) is None
        assert cache.add("key", 1) is False
        assert cache.get_or_set("key", 5) == 5
        assert cache.get_many(["key", "other"]) == {}
        assert cache.has_key("key") is False
        assert cache.touch("key") is False
        assert cache.delete("key") is False
        assert cache.set_many({"key": 1}) == []
        assert cache.delete_many(["key"]) is None
        with pytest.raises(ValueError, match="not found"):
            cache.incr("key")
        assert cache.clear() is False

    [record] = caplog.records  # once a minute per process, not once per call
    assert record.getMessage().startswith("the cache is unreachable (get: ")


def test_catalog_pages_are_served_from_the_database_while_redis_is_down(client, settings, redis_down):
    catalog = build_catalog(photos=False)
    urls = catalog_urls(catalog)
    settings.CATALOG_CACHE_SECONDS = 0
    settings.CATALOG_FRAGMENT_SECONDS = 0
    plain = {page: client.get(url).content for page, url in urls.items()}

    settings.CATALOG_CACHE_SECONDS = 60
    settings.CATALOG_FRAGMENT_SECONDS = 600
    for page, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, page
        assert response.content == plain[page], page


def test_healthz_still_reports_redis_down(client, redis_down):
    response = client.get("/healthz")

    assert (response.status_code, json.loads(response.content)) == (
        503,
        {"status": "error", "database": "ok", "cache": "error: no round trip"},
    )


def test_a_redis_that_does_not_answer_is_a_miss_after_the_socket_timeout(settings, warnings_each_time):
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        settings.CACHES = redis_cache(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", socket_timeout=0.2)

        assert cache.get("key", "default") == "default"
        assert cache.add("key", 1) is False


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL")
def test_with_redis_up_it_is_djangos_redis_cache_and_other_errors_still_raise(settings):
    settings.CACHES = redis_cache(os.environ["REDIS_URL"])
    raw = redis.Redis.from_url(os.environ["REDIS_URL"])
    key = cache.make_key("a-list")
    try:
        cache.set("key", {"seats": 3}, 30)
        assert cache.get("key") == {"seats": 3}
        assert cache.add("counter", 1) is True
        assert cache.incr("counter") == 2

        raw.rpush(key, "x")  # a value of the wrong type is a bug to see, not an outage to hide
        with pytest.raises(redis.exceptions.ResponseError):
            cache.get("a-list")
    finally:
        raw.delete(key, cache.make_key("key"), cache.make_key("counter"))
        raw.close()
