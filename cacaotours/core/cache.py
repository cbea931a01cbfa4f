"""The Redis cache, failing soft: when Redis does not answer, the site works without it.

Django's ``RedisCache`` raises ``redis.ConnectionError`` from every ``cache.get`` while Redis is
down, so every page that reads the cache (the catalog's page and fragment caches, the catalog
version) answered 500 for as long as the outage lasted — found by the Redis fault benchmark
(bench/faults.py), which saw every tour page fail while bookings, checkouts and webhooks, which
need only PostgreSQL, went on. Here a Redis that cannot be reached (connection refused or
reset, or no answer within the socket timeouts set in settings) is a cache miss for reads and
a no-op for writes: pages are rendered from the database, slower, until Redis is back.

Only unreachability is forgiven; any other Redis error (a wrong type, a full memory) still
raises. While Redis is down, what relies on the cache works without it: allauth's rate limits
do not count (they fail open), and ``/healthz`` still reports the cache as failing. A warning
is logged at most once a minute per process.
"""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
WARNING_INTERVAL = 60.0
_last_warning = [float("-inf")]


def _unreachable(operation: str, exc: Exception) -> None:
    now = time.monotonic()
    if now - _last_warning[0] >= WARNING_INTERVAL:
        _last_warning[0] = now
        logger.warning("the cache is unreachable (%s: %s): serving without it", operation, exc)


class FailSoftRedisCacheClient(RedisCacheClient):
    """``RedisCacheClient`` whose operations answer as for a missing key when Redis is unreachable."""

    def add(self, key, value, timeout):
        try:
            return super().add(key, value, timeout)
        except UNREACHABLE as exc:
            _unreachable("add", exc)
            return False

    def get(self, key, default):
        try:
            return super().get(key, default)
        except UNREACHABLE as exc:
            _unreachable("get", exc)
            return default

    def set(self, key, value, timeout):
        try:
            super().set(key, value, timeout)
        except UNREACHABLE as exc:
            _unreachable("set", exc)

    def touch(self, key, timeout):
        try:
            return super().touch(key, timeout)
        except UNREACHABLE as exc:
            _unreachable("touch", exc)
            return False

    def delete(self, key):
        try:
            return super().delete(key)
        except UNREACHABLE as exc:
            _unreachable("delete", exc)
            return False

    def get_many(self, keys):
        try:
            return super().get_many(keys)
        except UNREACHABLE as exc:
            _unreachable("get_many", exc)
            return {}

    def has_key(self, key):
        try:
            return super().has_key(key)
        except UNREACHABLE as exc:
            _unreachable("has_key", exc)
            return False

    def incr(self, key, delta):
        try:
            return super().incr(key, delta)
        except UNREACHABLE as exc:
            _unreachable("incr", exc)
            raise ValueError(f"Key '{key}' not found (the cache is unreachable).") from exc

    def set_many(self, data, timeout):
        try:
            super().set_many(data, timeout)
        except UNREACHABLE as exc:
            _unreachable("set_many", exc)

    def delete_many(self, keys):
        try:
            super().delete_many(keys)
        except UNREACHABLE as exc:
            _unreachable("delete_many", exc)

    def clear(self):
        try:
            return super().clear()
        except UNREACHABLE as exc:
            _unreachable("clear", exc)
            return False


class FailSoftRedisCache(RedisCache):
    """Django's Redis cache backend with ``FailSoftRedisCacheClient``: ``BACKEND`` in ``CACHES``."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = FailSoftRedisCacheClient
