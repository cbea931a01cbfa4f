import mimetypes
import posixpath

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.static import serve

from . import login_limits


@require_GET
def hello(request):
    """The smallest possible Django response: the benchmark's baseline."""
    return HttpResponse("hello", content_type="text/plain")


@never_cache
@require_GET
def healthz(request):
    """Liveness + readiness: the database (PostgreSQL) answers, and the cache (Redis when configured) does.

    200 ``{"status": "ok", "database": "ok", "cache": "ok"}`` or 503 with ``"error: <exception>"``
    for the part that failed.
    """
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        cache.set("healthz", "1", 5)
        checks["cache"] = "ok" if cache.get("healthz") == "1" else "error: no round trip"
    except Exception as exc:
        checks["cache"] = f"error: {exc.__class__.__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico on pages without an icon link (the admin): the site's SVG icon."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


def admin_login(request, extra_context=None):
    """The admin's sign-in page, with failed attempts limited per IP and per address (login_limits)."""
    if request.method != "POST":
        return admin.site.login(request, extra_context)
    ip = login_limits.client_ip(request)
    username = request.POST.get("username", "")
    if login_limits.admin_login_blocked(ip=ip, username=username):
        return _admin_login_refused(request, username)
    response = admin.site.login(request, extra_context)
    if response.status_code == 302 and request.user.is_authenticated:
        login_limits.admin_login_success_record(ip=ip, username=username)
    else:
        login_limits.admin_login_failure_record(ip=ip, username=username)
    return response


def _admin_login_refused(request, username: str):
    minutes = max(1, round(settings.ADMIN_LOGIN_WINDOW_SECONDS / 60))
    form = AdminAuthenticationForm(request, data={"username": username})
    form.errors.clear()
    form.add_error(
        None,
        ngettext(
            "Too many failed sign-in attempts. For your security, signing in is paused: "
            "try again in %(minutes)s minute.",
            "Too many failed sign-in attempts. For your security, signing in is paused: "
            "try again in %(minutes)s minutes.",
            minutes,
        )
        % {"minutes": minutes},
    )
    context = {
        **admin.site.each_context(request),
        "title": _("Log in"),
        "subtitle": None,
        "app_path": request.get_full_path(),
        "form": form,
        "username": username,
        REDIRECT_FIELD_NAME: request.POST.get(REDIRECT_FIELD_NAME, ""),
    }
    response = TemplateResponse(request, "admin/login.html", context, status=429)
    add_never_cache_headers(response)
    return response


# Served inline only as images; anything else is a download. Never rendered as a page or a script.
INLINE_MEDIA_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif", "image/avif"}
MEDIA_CSP = "default-src 'none'; img-src 'self'; sandbox"


def media_serve(request, path: str):
    """Uploaded files with DEBUG (production: the reverse proxy does the same, docs/operations.md)."""
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    media_headers(response, path)
    return response


def media_headers(response, path: str) -> None:
    content_type, _encoding = mimetypes.guess_type(path)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_CSP
    if content_type not in INLINE_MEDIA_TYPES:
        response["Content-Type"] = "application/octet-stream"
        response["Content-Disposition"] = content_disposition_header(True, posixpath.basename(path))


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # No context processors that could fail again: a plain render of a static template.
    from django.template import loader

    template = loader.get_template("500.html")
    return HttpResponse(template.render({}), status=500)
