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

import functools
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


def _fail_soft(method, fallback):
    """``method`` of RedisCacheClient; when Redis is unreachable, ``fallback(*args)`` answers instead."""

    @functools.wraps(method)
    def operation(self, *args):
        try:
            return method(self, *args)
        except UNREACHABLE as exc:
            _unreachable(method.__name__, exc)
            return fallback(*args)

    return operation


def _missing_key(key, delta):
    raise ValueError(f"Key '{key}' not found (the cache is unreachable).")


class FailSoftRedisCacheClient(RedisCacheClient):
    """``RedisCacheClient`` whose operations answer as for a missing key when Redis is unreachable."""

    add = _fail_soft(RedisCacheClient.add, lambda key, value, timeout: False)
    get = _fail_soft(RedisCacheClient.get, lambda key, default: default)
    set = _fail_soft(RedisCacheClient.set, lambda key, value, timeout: None)
    touch = _fail_soft(RedisCacheClient.touch, lambda key, timeout: False)
    delete = _fail_soft(RedisCacheClient.delete, lambda key: False)
    get_many = _fail_soft(RedisCacheClient.get_many, lambda keys: {})
    has_key = _fail_soft(RedisCacheClient.has_key, lambda key: False)
    incr = _fail_soft(RedisCacheClient.incr, _missing_key)  # as for a missing key: callers handle ValueError
    set_many = _fail_soft(RedisCacheClient.set_many, lambda data, timeout: None)
    delete_many = _fail_soft(RedisCacheClient.delete_many, lambda keys: None)
    clear = _fail_soft(RedisCacheClient.clear, lambda: False)


class FailSoftRedisCache(RedisCache):
    """Django's Redis cache backend with ``FailSoftRedisCacheClient``: ``BACKEND`` in ``CACHES``."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = FailSoftRedisCacheClient
