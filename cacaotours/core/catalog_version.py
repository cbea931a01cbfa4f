"""The catalog version: one number that changes whenever staff change public catalog content.

Cached catalog fragments (``cacaotours.core.fragments``) carry the version in their cache key,
so bumping it retires every fragment at once, in every process that shares the cache (Redis in
production; with the local-memory cache each process has its own version, and fragments expire
after ``CATALOG_FRAGMENT_SECONDS`` anyway).

Call ``catalog_changed()`` after any write that changes what the catalog shows: routes, tours,
itinerary stops, share rules, departures' dates or status, farms, cooperatives, community funds,
certifications and their photos. The admin does it through ``CatalogVersionAdminMixin``;
``load_demo`` and data migrations should call it at their end. Seats left are never cached, so
bookings and holds need not call it.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.db import transaction

CATALOG_VERSION_KEY = "catalog:version"


def _fresh_version() -> int:
    # Microseconds since the epoch: a version lost with the cache (eviction, restart, flush) starts again
    # above every number used before it (each edit adds only 1), so no old fragment comes back.
    return time.time_ns() // 1_000


def catalog_version() -> int:
    """The current catalog version (one cache read)."""
    version = cache.get(CATALOG_VERSION_KEY)
    if version is None:
        cache.add(CATALOG_VERSION_KEY, _fresh_version(), timeout=None)
        version = cache.get(CATALOG_VERSION_KEY) or _fresh_version()
    return version


def _bump() -> None:
    try:
        cache.incr(CATALOG_VERSION_KEY)
    except ValueError:  # no version yet, or it was evicted: any fresh one is newer than all before
        cache.set(CATALOG_VERSION_KEY, _fresh_version(), timeout=None)


def catalog_changed() -> None:
    """Retire every cached catalog fragment once the current transaction commits.

    After the commit, not before: a page rendered between the bump and the commit would
    otherwise store the old content under the new version.
    """
    transaction.on_commit(_bump)


class CatalogVersionAdminMixin:
    """ModelAdmin mixin: every save or delete (inlines included) calls ``catalog_changed()``.

    Put it first in the bases: ``class TourAdmin(CatalogVersionAdminMixin, PhotoFormsetMixin, TranslationAdmin)``.
    """

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        catalog_changed()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        catalog_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        catalog_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        catalog_changed()
