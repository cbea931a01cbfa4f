"""Whole-page caching for anonymous catalog visitors.

Two halves: the ``catalog_cache`` view decorator marks a page as one that may be kept, and
``CatalogPageCacheMiddleware`` — high in the middleware list, just after the request log and
SecurityMiddleware — keeps it and serves it. A hit is answered there, before sessions,
language, CSRF, authentication, messages and CSP run again for the same bytes: the stored
response is the finished one (its Content-Security-Policy, X-Frame-Options, Vary and
Content-Language included), so a hit costs one cache read, like ``/hello/``.

What is kept, and for whom:

- only GET requests without a session cookie or a pending message (the messages cookie):
  signed-in visitors always get a fresh page, and a message is shown to its owner only;
- only responses the decorator marked, with status 200, that set no cookie (a page that uses
  a CSRF token sends the cookie, so it is never kept with somebody's token in it) and that vary
  on nothing but ``Cookie`` and ``Accept-Language`` (covered by the rules above and below);
- keyed on scheme, host, path and query string. The language is in the path (English without
  a prefix, Spanish under ``/es/``); a response in another language than its path's is not kept.

``CATALOG_CACHE_SECONDS = 0`` turns it off. The cache is Redis when ``REDIS_URL`` is set
(fail-soft: a Redis that does not answer is a miss), else local memory.
"""

import hashlib
import time
from functools import wraps

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.http import HttpResponse
from django.utils.cache import cc_delim_re, patch_response_headers
from django.utils.translation import get_language_from_path

MESSAGES_COOKIE = CookieStorage.cookie_name
MARK = "_catalog_cacheable"
KEY_PREFIX = "catalog-page:"
# Vary headers a kept page may carry: anonymous visitors' cookies don't change a catalog page
# (sessions and messages bypass the cache; pages with a CSRF token set a cookie and are not
# kept), and the language comes from the path.
HARMLESS_VARY = {"cookie", "accept-language"}
# Set on the way out by the middleware above this one, on every response: never stored.
NOT_STORED = {"x-request-id", "expires", "cache-control"}


def catalog_cache(view):
    """Let ``CatalogPageCacheMiddleware`` keep this page for anonymous visitors."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        setattr(response, MARK, True)
        return response

    return wrapper


def _cache_key(request) -> str | None:
    try:
        host = request.get_host()
    except DisallowedHost:
        return None  # the stack below answers 400
    url = f"{request.scheme}://{host}{request.get_full_path()}"
    return KEY_PREFIX + hashlib.sha256(url.encode()).hexdigest()


def _eligible(request) -> bool:
    cookies = request.COOKIES
    return request.method == "GET" and settings.SESSION_COOKIE_NAME not in cookies and MESSAGES_COOKIE not in cookies


def _storable(request, response) -> bool:
    if not getattr(response, MARK, False) or response.status_code != 200 or response.streaming or response.cookies:
        return False
    if {"private", "no-store", "no-cache"} & {
        v.split("=")[0].strip().lower() for v in cc_delim_re.split(response.get("Cache-Control", ""))
    }:
        return False
    vary = {v.strip().lower() for v in cc_delim_re.split(response.get("Vary", "")) if v.strip()}
    if not vary <= HARMLESS_VARY:
        return False
    language = get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
    return response.get("Content-Language") == language


class CatalogPageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        seconds = settings.CATALOG_CACHE_SECONDS
        if not seconds or not _eligible(request):
            return self.get_response(request)
        key = _cache_key(request)
        if key is None:
            return self.get_response(request)
        kept = cache.get(key)
        if kept is not None:
            expires_at, status, headers, content = kept
            response = HttpResponse(content, status=status)
            for name, value in headers:
                response[name] = value
            patch_response_headers(response, max(0, round(expires_at - time.time())))
            return response
        response = self.get_response(request)
        if _storable(request, response):
            headers = [(name, value) for name, value in response.items() if name.lower() not in NOT_STORED]
            cache.set(key, (time.time() + seconds, response.status_code, headers, response.content), seconds)
            patch_response_headers(response, seconds)
        return response
