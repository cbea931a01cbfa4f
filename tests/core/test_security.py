"""Production hardening: security headers and cookies, CSP, the admin's sign-in limit and path,
the request log, /healthz, and how uploaded files are served."""

import importlib
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.core.cache.backends.redis import RedisCache
from django.test import RequestFactory
from django.urls import clear_url_caches
from django.utils.module_loading import import_string

from cacaotours.core import middleware
from cacaotours.core.views import media_serve
from tests.factories import UserFactory

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self' https://checkout.stripe.com https://connect.stripe.com",
}


def directives(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


# -- production settings ------------------------------------------------------------------------

PRODUCTION_PROBE = """
import io, json
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client

out = io.StringIO()
call_command("check", deploy=True, fail_level="WARNING", stdout=out, stderr=out)
client = Client()
https = client.get("/hello/", secure=True, HTTP_HOST="example.com")
plain = client.get("/hello/", HTTP_HOST="example.com")
names = ("DEBUG", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_SECURE", "CSRF_COOKIE_HTTPONLY",
         "LANGUAGE_COOKIE_SECURE", "LANGUAGE_COOKIE_HTTPONLY", "X_FRAME_OPTIONS", "SECURE_SSL_REDIRECT",
         "SECURE_REDIRECT_EXEMPT", "ADMIN_URL")
print(json.dumps({
    "check": out.getvalue().strip(),
    "settings": {name: getattr(settings, name) for name in names},
    "https": {"status": https.status_code, "headers": dict(https.headers)},
    "plain": {"status": plain.status_code, "location": plain.get("Location")},
}))
"""


def production(**env) -> dict:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cacaotours.settings.production",
        "SECRET_KEY": "test-only-" + "".join(chr(65 + (i * 7) % 26) for i in range(60)),
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/not_used",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "STRIPE_SECRET_KEY": "sk_test_dummy",
        "ALLOWED_HOSTS": "example.com",
        "SITE_URL": "https://example.com",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE],
        env=environment,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_pass_the_deploy_check_and_send_the_security_headers():
    probe = production(ADMIN_URL="/kallpa-ops")

    assert probe["check"] == "System check identified no issues (0 silenced)."
    assert probe["settings"] == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "LANGUAGE_COOKIE_SECURE": True,
        "LANGUAGE_COOKIE_HTTPONLY": True,
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_SSL_REDIRECT": True,
        "SECURE_REDIRECT_EXEMPT": ["^healthz$"],
        "ADMIN_URL": "kallpa-ops/",
    }
    headers = probe["https"]["headers"]
    assert probe["https"]["status"] == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert directives(headers["Content-Security-Policy"]) == CSP
    assert probe["plain"] == {"status": 301, "location": "https://example.com/hello/"}


# -- Content-Security-Policy --------------------------------------------------------------------


@pytest.mark.django_db
def test_every_page_carries_the_csp_without_unsafe_inline(client):
    for path in ("/", "/accounts/login/", "/es/accounts/signup/", f"/{django_settings.ADMIN_URL}login/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert directives(response["Content-Security-Policy"]) == CSP, path
        assert "unsafe" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_templates_have_no_inline_script_handler_or_style_attribute():
    """E-mails are exempt (mail clients need inline styles; they are never served as pages)."""
    import re

    offenders = []
    for path in sorted(Path(django_settings.BASE_DIR, "templates").rglob("*.html")):
        if "/email/" in str(path):
            continue
        text = re.sub(r"{#.*?#}", "", path.read_text())
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+=", text):
            offenders.append(f"{path}: inline script")
        if re.search(r"\sstyle=", text) or "<style" in text:
            offenders.append(f"{path}: inline style")
    assert offenders == []


# -- the admin's sign-in: rate limited, at ADMIN_URL ------------------------------------------


@pytest.fixture
def admin_login_url():
    return f"/{django_settings.ADMIN_URL}login/"


@pytest.fixture
def staff(db):
    return UserFactory(email="ops@kallpa.example", is_staff=True, is_superuser=True, password="right-pass-2026")


def attempt(client, url, email, password, ip="203.0.113.7"):
    return client.post(url, {"username": email, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip)


def test_the_admin_sign_in_pauses_an_address_after_five_failures(client, staff, admin_login_url):
    for _ in range(5):
        assert attempt(client, admin_login_url, staff.email, "wrong").status_code == 200

    refused = attempt(client, admin_login_url, staff.email, "right-pass-2026")

    assert refused.status_code == 429
    assert "Too many failed sign-in attempts. For your security, signing in is paused: try again in 15 minutes." in (
        refused.content.decode()
    )
    assert SESSION_KEY not in client.session
    # another address from another IP is not affected
    other = UserFactory(email="ops2@kallpa.example", is_staff=True, password="other-pass-2026")
    assert attempt(client, admin_login_url, other.email, "other-pass-2026", ip="198.51.100.1").status_code == 302


def test_the_admin_sign_in_pauses_an_ip_after_ten_failures_whatever_the_address(client, staff, admin_login_url):
    for n in range(10):
        assert attempt(client, admin_login_url, f"guess{n}@example.com", "wrong").status_code == 200

    assert attempt(client, admin_login_url, staff.email, "right-pass-2026").status_code == 429
    assert SESSION_KEY not in client.session
    assert attempt(client, admin_login_url, staff.email, "right-pass-2026", ip="198.51.100.1").status_code == 302


def test_a_successful_admin_sign_in_clears_the_address_count(client, staff, admin_login_url):
    for _ in range(4):
        attempt(client, admin_login_url, staff.email, "wrong")
    assert attempt(client, admin_login_url, staff.email, "right-pass-2026").status_code == 302
    client.logout()

    for _ in range(4):
        assert attempt(client, admin_login_url, staff.email, "wrong").status_code == 200
    assert attempt(client, admin_login_url, staff.email, "right-pass-2026").status_code == 302


def test_the_pause_ends_with_the_window(client, staff, admin_login_url, settings):
    settings.ADMIN_LOGIN_WINDOW_SECONDS = 1
    for _ in range(5):
        attempt(client, admin_login_url, staff.email, "wrong")
    assert attempt(client, admin_login_url, staff.email, "right-pass-2026").status_code == 429

    time.sleep(1.2)

    assert attempt(client, admin_login_url, staff.email, "right-pass-2026").status_code == 302


def test_the_admin_sign_in_page_and_the_admin_itself_still_work(client, staff, admin_login_url):
    page = client.get(admin_login_url)
    assert page.status_code == 200
    assert b'name="username"' in page.content
    assert client.get(f"/{django_settings.ADMIN_URL}").status_code == 302  # to the sign-in


@pytest.fixture
def admin_at_custom_path(settings):
    """Reload the URLconf with ADMIN_URL=kallpa-ops/ (it is read when the URLconf is imported)."""
    import cacaotours.urls

    original = settings.ADMIN_URL
    settings.ADMIN_URL = "kallpa-ops/"
    importlib.reload(cacaotours.urls)
    clear_url_caches()
    yield
    settings.ADMIN_URL = original
    importlib.reload(cacaotours.urls)
    clear_url_caches()


def test_the_admin_lives_at_admin_url(client, staff, admin_at_custom_path, settings):
    assert settings.ADMIN_URL == "kallpa-ops/"
    assert client.get("/admin/").status_code == 404
    assert client.get("/kallpa-ops/")["Location"] == "/kallpa-ops/login/?next=/kallpa-ops/"
    assert client.get("/es/kallpa-ops/login/").status_code == 200
    response = client.post("/kallpa-ops/login/", {"username": staff.email, "password": "right-pass-2026"})
    assert response.status_code == 302
    assert client.get("/kallpa-ops/").status_code == 200


# -- the request log ------------------------------------------------------------------------


@pytest.fixture
def request_log():
    """The request logger does not propagate to the root logger: listen to it directly."""
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep(level=logging.INFO)
    logger = logging.getLogger("cacaotours.request")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def json_line(record) -> dict:
    from cacaotours.core.jsonlog import JsonFormatter

    line = json.loads(JsonFormatter().format(record))
    assert {"time", "level", "logger", "message"} <= set(line)
    return {key: value for key, value in line.items() if key not in {"time", "duration_ms"}}


@pytest.mark.django_db
def test_each_request_writes_one_json_line(client, request_log):
    response = client.get("/hello/?secret=1", HTTP_X_REQUEST_ID="lb-4f2a.9")

    assert response["X-Request-ID"] == "lb-4f2a.9"
    [record] = request_log
    assert json_line(record) == {
        "level": "INFO",
        "logger": "cacaotours.request",
        "message": "GET /hello/ 200",
        "event": "request",
        "method": "GET",
        "path": "/hello/",
        "status": 200,
        "user_id": None,
        "request_id": "lb-4f2a.9",
    }
    assert isinstance(record.fields["duration_ms"], float)
    assert record.fields["duration_ms"] >= 0


@pytest.mark.django_db
def test_the_log_line_has_the_user_and_a_fresh_id_when_the_incoming_one_is_unusable(client, request_log):
    user = UserFactory()
    client.force_login(user)

    response = client.get("/nowhere/", HTTP_X_REQUEST_ID="not an id; rm -rf")

    [record] = request_log
    assert record.fields["status"] == 404
    assert record.fields["user_id"] == user.pk
    assert len(record.fields["request_id"]) == 32
    assert response["X-Request-ID"] == record.fields["request_id"]


@pytest.mark.django_db
def test_secrets_in_paths_are_redacted(client, request_log):
    client.get("/es/portal/invitation/s3cr3t-t0ken-value/")
    client.get("/accounts/password/reset/key/1a-set-password-key/")

    assert [r.fields["path"] for r in request_log] == [
        "/es/portal/invitation/[redacted]/",
        "/accounts/password/reset/key/[redacted]-[redacted]/",
    ]
    assert middleware.REDACTED == "[redacted]"


# -- /healthz -----------------------------------------------------------------------------------


def test_healthz_names_a_failed_database(client, monkeypatch):
    from django.db import OperationalError, connection

    def down():
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", down)
    response = client.get("/healthz")

    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "error", "database": "error: OperationalError", "cache": "ok"}


@pytest.mark.django_db
def test_healthz_names_a_redis_that_does_not_answer(client, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }

    response = client.get("/healthz")

    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "error", "database": "ok", "cache": "error: ConnectionError"}


@pytest.mark.postgres
@pytest.mark.django_db
def test_healthz_checks_postgresql_and_redis_when_configured(client):
    assert django_settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    if not django_settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    # Django's Redis cache (failing soft when Redis is unreachable: cacaotours/core/cache.py)
    assert issubclass(import_string(django_settings.CACHES["default"]["BACKEND"]), RedisCache)

    response = client.get("/healthz")

    assert (response.status_code, json.loads(response.content)) == (
        200,
        {"status": "ok", "database": "ok", "cache": "ok"},
    )


# -- uploaded files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "body", "content_type", "disposition"),
    [
        ("photos/hero.webp", b"RIFF....WEBP", "image/webp", 'inline; filename="hero.webp"'),
        ("photos/card.jpg", b"\xff\xd8\xff", "image/jpeg", 'inline; filename="card.jpg"'),
        (
            "photos/evil.html",
            b"<script>alert(1)</script>",
            "application/octet-stream",
            'attachment; filename="evil.html"',
        ),
        ("photos/logo.svg", b"<svg onload=alert(1)>", "application/octet-stream", 'attachment; filename="logo.svg"'),
        ("photos/notes", b"hello", "application/octet-stream", 'attachment; filename="notes"'),
    ],
)
def test_media_is_served_as_images_or_downloads_never_as_pages(media, name, body, content_type, disposition):
    path = Path(media) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)

    response = media_serve(RequestFactory().get(f"/media/{name}"), name)

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response.get("Content-Disposition") == disposition
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; img-src 'self'; sandbox"


def test_favicon_ico_points_at_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (301, "/static/img/favicon.svg")


def test_the_admin_is_back_at_its_usual_path_after_the_custom_path_test(client, staff):
    """Guards the fixture above: the URLconf it reloads is restored for the tests that follow."""
    assert client.get(f"/{django_settings.ADMIN_URL}")["Location"].startswith(f"/{django_settings.ADMIN_URL}login/")
