"""Whole-page caching for anonymous catalog visitors."""

from functools import wraps

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.views.decorators.cache import cache_page

MESSAGES_COOKIE = CookieStorage.cookie_name


def catalog_cache(view):
    """Cache the page for ``CATALOG_CACHE_SECONDS`` for visitors without a session.

    Signed-in visitors (anyone with a session cookie) and visitors with a pending message
    (the messages cookie) always get a fresh page, so a message is shown to its owner and
    never cached for others; the cache key includes the URL, so each language has its own copy.
    """
    cached_views = {}

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        seconds = settings.CATALOG_CACHE_SECONDS
        if not seconds or settings.SESSION_COOKIE_NAME in request.COOKIES or MESSAGES_COOKIE in request.COOKIES:
            return view(request, *args, **kwargs)
        if seconds not in cached_views:
            cached_views[seconds] = cache_page(seconds, key_prefix="catalog")(view)
        return cached_views[seconds](request, *args, **kwargs)

    return wrapper
