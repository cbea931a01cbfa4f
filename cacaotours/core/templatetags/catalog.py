"""Template helpers for the public catalog: fragments, icons, photos, language links, durations, shares.

Nothing here queries the database: tags only read what the views already loaded
(prefetched photos, annotated departures, the money breakdown) or pass lazily; cached
fragments are read from and written to the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse, translate_url
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

register = template.Library()

GUIDE_LANGUAGES = {
    "es": gettext_lazy("Spanish"),
    "en": gettext_lazy("English"),
    "qu": gettext_lazy("Quechua"),
    "de": gettext_lazy("German"),
    "fr": gettext_lazy("French"),
    "pt": gettext_lazy("Portuguese"),
}

SHARE_KINDS = {
    "farm": gettext_lazy("Host farm"),
    "cooperative": gettext_lazy("Cooperative"),
    "fund": gettext_lazy("Community fund"),
    "operator": gettext_lazy("Tour operator"),
}


# -- cached fragments ------------------------------------------------------------------


class CatalogFragmentNode(template.Node):
    def __init__(self, nodelist, fragments, name, expires):
        self.nodelist = nodelist
        self.fragments = fragments
        self.name = name
        self.expires = expires

    def render(self, context):
        fragments = self.fragments.resolve(context)
        name = self.name.resolve(context)
        if not getattr(fragments, "enabled", False):  # no PageFragments in the context, or caching off
            return self.nodelist.render(context)
        html = fragments.get(name)
        if html is None:
            html = self.nodelist.render(context)
            expires = self.expires.resolve(context) if self.expires is not None else None
            if isinstance(expires, datetime):
                expires = expires.timestamp()
            fragments.set(name, html, expires_at=expires)
        return mark_safe(html)  # this template's own output, escaped as usual when it was rendered


@register.tag("catalogfragment")
def do_catalogfragment(parser, token):
    """Cache the enclosed template output in the page's ``PageFragments`` (``cacaotours.core.fragments``).

    ``{% catalogfragment fragments "main" %}…{% endcatalogfragment %}``, or with
    ``expires=<datetime or None>`` (read after rendering, only on a miss) to retire it when a
    date it shows passes: ``{% catalogfragment fragments "tours" expires=tours|soonest:"next_departure" %}``.
    The content is rendered only when it is not cached, so what only it uses is never loaded
    on a hit. Without ``fragments`` (None) or with fragment caching off it is always rendered.
    """
    bits = token.split_contents()
    if len(bits) not in (3, 4):
        raise template.TemplateSyntaxError(f"'{bits[0]}' takes a PageFragments, a name and optionally expires=…")
    expires = None
    if len(bits) == 4:
        if not bits[3].startswith("expires="):
            raise template.TemplateSyntaxError(f"'{bits[0]}': the optional last argument is expires=…")
        expires = parser.compile_filter(bits[3].removeprefix("expires="))
    nodelist = parser.parse(("endcatalogfragment",))
    parser.delete_first_token()
    return CatalogFragmentNode(nodelist, parser.compile_filter(bits[1]), parser.compile_filter(bits[2]), expires)


class MemoizeNode(template.Node):
    MAX_ENTRIES = 64

    def __init__(self, nodelist, vary_on):
        self.nodelist = nodelist
        self.vary_on = vary_on
        self.rendered: dict[tuple, str] = {}  # on the compiled node: a reloaded template starts afresh

    def render(self, context):
        key = (translation.get_language(), *(str(value.resolve(context)) for value in self.vary_on))
        html = self.rendered.get(key)
        if html is None:
            html = self.nodelist.render(context)
            if len(self.rendered) >= self.MAX_ENTRIES:
                self.rendered.clear()
            self.rendered[key] = html
        return mark_safe(html)  # this template's own output, escaped as usual when it was rendered


@register.tag("memoize")
def do_memoize(parser, token):
    """Render the content once per process for each language and combination of the values given.

    ``{% memoize CONTACT_EMAIL year %}…{% endmemoize %}``. Only for content that depends on
    nothing but the active language and those values: no request, user, database or time
    (pass what varies, like the year).
    """
    bits = token.split_contents()
    nodelist = parser.parse(("endmemoize",))
    parser.delete_first_token()
    return MemoizeNode(nodelist, [parser.compile_filter(bit) for bit in bits[1:]])


@register.filter
def soonest(items, attribute: str):
    """The earliest non-empty ``attribute`` of ``items`` (e.g. the next departure of a list of tours), or None."""
    values = [value for value in (getattr(item, attribute, None) for item in items) if value is not None]
    return min(values, default=None)


# -- icons -----------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _static_url(path: str) -> str:
    return static(path)


@receiver(setting_changed)
def _static_settings_changed(*, setting, **kwargs):
    if setting in {"STATIC_URL", "STORAGES", "STATICFILES_STORAGE"}:
        _static_url.cache_clear()


FUND_ICONS = {"reforestation": "tree", "women": "hands", "youth": "sprout", "water": "drop"}


@register.filter
def fund_icon(purpose: str) -> str:
    """The sprite icon of a community fund's purpose."""
    return FUND_ICONS.get(purpose, "book")


@register.simple_tag
def icon_href(name: str) -> str:
    """``<use href="{% icon_href 'pin' %}">``: the sprite's static URL (looked up once per process) + ``#name``."""
    return f"{_static_url('img/icons.svg')}#{name}"


# -- languages -------------------------------------------------------------------------


@dataclass(frozen=True)
class LanguageLink:
    code: str
    name: str
    url: str
    is_current: bool


def _home_url(language: str) -> str:
    with translation.override(language):
        try:
            return reverse("tours:home")
        except NoReverseMatch:  # pragma: no cover - the catalog is always installed
            return "/"


def _translate_path(request, full_path: str, code: str) -> str:
    """``translate_url(full_path, code)``, reusing the URL match of the request instead of resolving again."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.url_name:
        return translate_url(full_path, code)
    if code == translation.get_language():
        return full_path  # this very page
    name = f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name
    with translation.override(code):
        try:
            path = reverse(name, args=match.args, kwargs=match.kwargs)
        except NoReverseMatch:
            return full_path
    parsed = urlsplit(full_path)
    return urlunsplit(("", "", path, parsed.query, parsed.fragment))


@register.simple_tag(takes_context=True)
def language_links(context) -> list[LanguageLink]:
    """The current page in every language, as plain GET links (cacheable, no form or CSRF).

    ``{% language_links as links %}``. A path that does not resolve (a 404 page) links to
    the home page of the other language instead of to itself.
    """
    request = context.get("request")
    current = translation.get_language() or settings.LANGUAGE_CODE
    links = []
    for code, _name in settings.LANGUAGES:
        info = translation.get_language_info(code)
        if request is None:
            url = _home_url(code)
        else:
            full_path = request.get_full_path()
            url = _translate_path(request, full_path, code)
            if url == full_path and code != current:
                url = _home_url(code)
        links.append(LanguageLink(code=code, name=info["name_local"], url=url, is_current=code == current))
    return links


@register.filter
def guide_languages(codes) -> str:
    """``["es", "en"]`` → ``"Spanish, English"`` in the active language."""
    names = [str(GUIDE_LANGUAGES.get(code, code.upper())) for code in codes]
    return ", ".join(names)


# -- photos ----------------------------------------------------------------------------


@register.simple_tag
def rendition_url(photo, name: str = "card", fmt: str = "jpeg") -> str:
    """``{% rendition_url photo "hero" "webp" %}``."""
    return photo.rendition_url(name, fmt) if photo else ""


@register.inclusion_tag("includes/picture.html")
def picture(photo, rendition="card", sizes="100vw", loading="lazy", css_class="", priority=False):
    """A ``<picture>`` with WebP and JPEG ``srcset``, intrinsic size and alt text.

    ``{% picture photo "hero" sizes="(min-width: 60rem) 60vw, 100vw" loading="eager" priority=True %}``
    """
    return {
        "photo": photo,
        "src": photo.rendition_url(rendition, "jpeg"),
        "webp_srcset": photo.srcset("webp"),
        "jpeg_srcset": photo.srcset("jpeg"),
        "sizes": sizes,
        "loading": loading,
        "css_class": css_class,
        "priority": priority,
    }


@register.filter
def first_item(items):
    """The first element of an already-loaded list or prefetched queryset, or None.

    Use on ``obj.photos.all`` only where the photos were prefetched: indexing a
    prefetched queryset reads its cache, an unfetched one would query.
    """
    for item in items:
        return item
    return None


# -- tours -----------------------------------------------------------------------------


@register.filter
def tour_duration(tour) -> str:
    if tour.duration_days <= 1 and tour.duration_hours:
        hours = tour.duration_hours
        return ngettext("%(count)s hour", "%(count)s hours", hours) % {"count": hours}
    days = tour.duration_days
    if days <= 1:
        return _("1 day")
    nights = days - 1
    return ngettext("%(days)s days, %(nights)s night", "%(days)s days, %(nights)s nights", nights) % {
        "days": days,
        "nights": nights,
    }


@register.filter
def group_size(tour) -> str:
    if tour.min_group <= 1:
        return ngettext("Up to %(count)s traveller", "Up to %(count)s travellers", tour.max_group) % {
            "count": tour.max_group
        }
    return _("%(min)s–%(max)s travellers") % {"min": tour.min_group, "max": tour.max_group}


@register.filter
def cancellation_terms(tour) -> list[str]:
    """The refund rules of a tour as short sentences, most generous first."""
    full = tour.full_refund_days
    partial = tour.partial_refund_days
    percent = tour.partial_refund_percent
    terms = [
        ngettext(
            "Full refund if you cancel at least %(days)s day before departure.",
            "Full refund if you cancel at least %(days)s days before departure.",
            full,
        )
        % {"days": full}
    ]
    if 0 < percent < 100 and partial < full:
        terms.append(
            ngettext(
                "%(percent)s%% refund if you cancel at least %(days)s day before departure.",
                "%(percent)s%% refund if you cancel at least %(days)s days before departure.",
                partial,
            )
            % {"days": partial, "percent": percent}
        )
    terms.append(_("No refund for later cancellations or no-shows."))
    return terms


# -- money -----------------------------------------------------------------------------


def percent_from_basis_points(basis_points: int) -> str:
    whole, frac = divmod(int(basis_points), 100)
    return f"{whole}%" if not frac else f"{whole}.{frac:02d}".rstrip("0") + "%"


@register.filter
def percent(basis_points) -> str:
    """``1500`` → ``"15%"``, ``1250`` → ``"12.5%"``."""
    if basis_points in (None, ""):
        return ""
    return percent_from_basis_points(basis_points)


@register.filter
def share_kind(kind: str) -> str:
    return str(SHARE_KINDS.get(kind, kind))


@dataclass(frozen=True)
class Segment:
    kind: str
    name: str
    basis_points: int
    offset: int
    percent: str
    index: int


@register.simple_tag
def breakdown_segments(breakdown) -> list[Segment]:
    """Stacked-bar segments (in basis points, offset from the left) for a MoneyBreakdown.

    The operator's remainder is the last segment. ``{% breakdown_segments breakdown as segments %}``
    """
    segments = []
    offset = 0
    for index, line in enumerate(breakdown.lines, start=1):
        share = percent_from_basis_points(line.basis_points)
        segments.append(Segment(line.kind, line.name, line.basis_points, offset, share, index))
        offset += line.basis_points
    operator_bp = max(0, 10_000 - offset)
    if operator_bp:
        segments.append(
            Segment("operator", "Kallpa Travel", operator_bp, offset, percent_from_basis_points(operator_bp), 0)
        )
    return segments


@register.filter
def operator_percent(breakdown) -> str:
    return percent_from_basis_points(max(0, 10_000 - breakdown.community_basis_points))


# -- home ------------------------------------------------------------------------------


@register.filter
def cooperatives_of(funds) -> list:
    """The distinct managing cooperatives of already-loaded funds, in order of appearance."""
    seen = {}
    for fund in funds:
        cooperative = fund.cooperative
        if cooperative is not None and cooperative.pk not in seen and cooperative.is_published:
            seen[cooperative.pk] = cooperative
    return list(seen.values())
