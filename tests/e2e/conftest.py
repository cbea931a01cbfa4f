"""Real-browser end-to-end tests (``make e2e``; ``make test`` deselects them with ``-m "not e2e"``).

Playwright for Python drives Debian's Chromium (``/usr/bin/chromium``: Playwright cannot download
its own browser here) against pytest-django's ``live_server``, a thread of this process serving
the app on the test database (PostgreSQL in CI). So the tests and the server share settings,
the locmem e-mail outbox and eager Celery: what the browser does is checked in the database
and in the outbox right away. Data is made with factories and services; everything a person
does goes through the browser.

Layout (one module per kind of user):

* ``conftest.py``  browser launch, the live site (``site``), screenshots and page problems (``Flow``)
* ``data.py``      the catalog, people and paid bookings the flows start from
* ``checks.py``    axe-core and the Nu HTML checker
* ``test_traveller.py``, ``test_leader.py``, ``test_staff.py``, ``test_pages.py``

Each flow saves a screenshot of every step in ``e2e-artifacts/<flow>/<NN>-<step>.png`` (git-ignored).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(django_settings.BASE_DIR) / "e2e-artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
HERE = Path(__file__).parent


@pytest.fixture(scope="session", autouse=True)
def _orm_beside_playwright():
    """Playwright's sync API runs an event loop in this thread; the tests' ORM calls stay synchronous.

    Set here (and by ``make e2e``) for the browser tests only, so ``make test`` keeps Django's check.
    """
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (or set E2E_CHROMIUM)", pytrace=False)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "timezone_id": "America/Lima"}


class Site:
    """The live server, with the settings of a laptop without Stripe keys: the simulated checkout."""

    def __init__(self, url: str):
        self.url = url

    def __call__(self, path: str) -> str:
        return f"{self.url}{path}"


@pytest.fixture
def site(live_server, transactional_db, settings, mailoutbox):
    settings.SITE_URL = live_server.url
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_PUBLISHABLE_KEY = ""
    settings.STRIPE_API_BASE = ""
    settings.SIMULATED_CHECKOUT = True
    settings.BOOKING_HOLD_MINUTES = 15
    settings.CELERY_TASK_ALWAYS_EAGER = True
    return Site(live_server.url)


class Flow:
    """One person's way through the site in one browser tab: screenshots and problems.

    A problem is a page error (an uncaught exception), a console message about the
    Content-Security-Policy, or a same-origin sub-resource (script, style, image, font, fetch)
    answered with 4xx/5xx. ``check()`` fails the test if any was seen.
    """

    def __init__(self, page, name: str, site: Site):
        self.page = page
        self.name = name
        self.site = site
        self.step = 0
        self.problems: list[str] = []
        self.folder = ARTIFACTS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: page error: {error}"))
        page.on("console", self._console)
        page.on("response", self._response)

    def _console(self, message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.problems.append(f"{self.page.url}: {message.text}")

    def _response(self, response):
        request = response.request
        if response.status >= 400 and request.resource_type != "document" and request.url.startswith(self.site.url):
            self.problems.append(f"{self.page.url}: {response.status} for {request.resource_type} {request.url}")

    def go(self, path: str):
        response = self.page.goto(self.site(path))
        self.page.wait_for_load_state("load")
        return response

    def shot(self, step: str) -> Path:
        self.step += 1
        path = self.folder / f"{self.step:02d}-{re.sub(r'[^a-z0-9]+', '-', step.lower()).strip('-')}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def check(self):
        assert self.problems == []


def signed_in(context, site: Site, user) -> None:
    """Give the browser context a session of ``user`` (for page checks; the flows sign in by hand)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": site.url}])


@pytest.fixture
def open_flow(new_context, site):
    """``open_flow(name, viewport=DESKTOP, user=None, **context_options)`` → a Flow in a fresh browser
    context (its own cookies), signed in as ``user`` when given."""

    def _open(name: str, viewport: dict = DESKTOP, user=None, **options) -> Flow:
        phone = viewport["width"] < 600
        context = new_context(viewport=viewport, is_mobile=phone, has_touch=phone, **options)
        if user is not None:
            signed_in(context, site, user)
        return Flow(context.new_page(), name, site)

    return _open
