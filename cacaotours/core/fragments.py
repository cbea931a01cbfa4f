"""Cached fragments of catalog pages: the parts that change only when staff edit content.

A view creates one ``PageFragments`` per page and passes it to the template as
``fragments``; the template wraps each slow-changing part in
``{% catalogfragment fragments "name" %}…{% endcatalogfragment %}`` (see
``cacaotours.core.templatetags.catalog``) and leaves live parts (seats left) outside.
All fragments of a page share one cache entry (one cache read per page), keyed on

- the catalog version (``cacaotours.core.catalog_version``): a content edit in the admin
  retires every fragment at once;
- the active language: Spanish and English fragments are separate;
- a digest of the project's templates and template tags, so a deploy that changes them
  starts with fresh fragments (a deploy that changes only Python code that shows content,
  such as a model's ``__str__`` or money formatting, should call ``catalog_changed()``);
- what the view passes: the object's pk and ``updated_at`` (an edit of the object itself
  shows at once even when saved outside the admin), or a digest of live data
  (``data_digest(departures)``: that fragment is rendered again whenever the data changes,
  and only then).

A fragment is rendered only on a miss, so querysets and lazy objects that only it uses are
never evaluated when it is cached. Nothing user- or request-specific may go inside a
fragment (it is shared by every visitor), and nothing defined inside one (``{% url … as x %}``)
may be used outside it. ``CATALOG_FRAGMENT_SECONDS = 0`` turns caching off: every fragment is
rendered every time.
"""

from __future__ import annotations

import hashlib
import pickle
import time
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from .catalog_version import catalog_version

MAX_KEY_LENGTH = 200


def _part(value) -> str:
    if isinstance(value, datetime):
        return str(value.timestamp())
    return str(value)


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the project's templates and of the template tags, read once per process."""
    digest = hashlib.sha256()
    roots = [Path(folder) for engine in settings.TEMPLATES for folder in engine.get("DIRS", [])]
    roots.append(Path(__file__).resolve().parent / "templatetags")
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in {".html", ".txt", ".py"} and path.is_file():
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def data_digest(objects) -> str:
    """A digest of the field values (annotations included) of model instances, e.g. departures with seats left."""
    rows = [[item for item in vars(obj).items() if not item[0].startswith("_")] for obj in objects]
    return hashlib.sha256(pickle.dumps(rows, protocol=5)).hexdigest()[:16]


class PageFragments:
    """The cached fragments of one page, for the active language and catalog version."""

    def __init__(self, page: str, *parts, seconds: int | None = None, version: int | None = None):
        self.seconds = settings.CATALOG_FRAGMENT_SECONDS if seconds is None else seconds
        self.version = None
        self.key = ""
        if self.seconds:
            self.version = catalog_version() if version is None else version
            language = translation.get_language() or settings.LANGUAGE_CODE
            key = ":".join(["catalog:fragments", str(self.version), code_digest(), language, page, *map(_part, parts)])
            if len(key) > MAX_KEY_LENGTH:
                key = f"catalog:fragments:{hashlib.sha256(key.encode()).hexdigest()}"
            self.key = key
        self._entries: dict[str, tuple[str, float | None]] | None = None

    def derive(self, page: str, *parts) -> PageFragments:
        """Fragments under another key, with the same version (no second cache read for it)."""
        return PageFragments(page, *parts, seconds=self.seconds, version=self.version)

    @property
    def enabled(self) -> bool:
        return bool(self.key)

    def _load(self) -> dict[str, tuple[str, float | None]]:
        if self._entries is None:
            self._entries = (cache.get(self.key) if self.key else None) or {}
        return self._entries

    def get(self, name: str) -> str | None:
        """The cached HTML of fragment ``name``, or None when it must be rendered."""
        if not self.key:
            return None
        entry = self._load().get(name)
        if entry is None:
            return None
        html, expires_at = entry
        if expires_at is not None and time.time() >= expires_at:
            return None
        return html

    def set(self, name: str, html: str, *, expires_at: float | None = None) -> None:
        """Store fragment ``name``; ``expires_at`` (a Unix time) retires it early, e.g. when a date it shows passes."""
        if not self.key:
            return
        entries = self._load()
        entries[name] = (str(html), expires_at)
        cache.set(self.key, entries, self.seconds)
