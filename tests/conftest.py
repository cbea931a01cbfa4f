"""Shared fixtures and the PostgreSQL-only marker.

Tests marked ``@pytest.mark.postgres`` need PostgreSQL (row locks, real concurrency); on
SQLite they are skipped with a reason, and the summary says how many were skipped.
"""

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.utils import translation

POSTGRES_SKIP_REASON = "needs PostgreSQL: set DATABASE_URL"


def _on_sqlite() -> bool:
    return django_settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")


def pytest_collection_modifyitems(config, items):
    if not _on_sqlite():
        return
    skip = pytest.mark.skip(reason=POSTGRES_SKIP_REASON)
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _on_sqlite():
        return
    count = sum(
        1 for report in terminalreporter.stats.get("skipped", []) if POSTGRES_SKIP_REASON in str(report.longrepr)
    )
    terminalreporter.write_line(
        f"SQLite run: {count} PostgreSQL-only test{'s' if count != 1 else ''} skipped "
        "(set DATABASE_URL=postgres://... to run them)",
        yellow=bool(count),
    )


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Every test writes uploads into its own empty MEDIA_ROOT."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in English: a request to /es/ leaves Spanish active in the thread."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _clear_cache():
    """The catalog cache (local memory or Redis db) never leaks between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _forget_ledger_accounts():
    """Ledger accounts are remembered per process after commit; tables are flushed between tests."""
    from cooperatives.services import ledger_accounts_forget

    ledger_accounts_forget()
    yield
    ledger_accounts_forget()


@pytest.fixture
def staff_user(db):
    from tests.factories import UserFactory

    return UserFactory(email="admin@kallpa.example", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff_user):
    """A client signed in as a staff superuser (the User model has no username)."""
    client.force_login(staff_user)
    return client


# -- staff roles (cacaotours/core/roles.py) ------------------------------------------------------


@pytest.fixture
def roles(db):
    """The Operations and Finance groups with exactly their permissions.

    The migration creates them; a test after a transactional test (which flushes the tables)
    would find them gone, so they are synced here again.
    """
    from cacaotours.core.roles import roles_sync

    assert roles_sync() == {}


def _client_in(email: str, *groups: str):
    from django.contrib.auth.models import Group
    from django.test import Client

    from tests.factories import UserFactory

    user = UserFactory(email=email, first_name="Kallpa", last_name="Staff", is_staff=True)
    user.groups.set(Group.objects.filter(name__in=groups))
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def operations_client(roles):
    """A staff member of the Operations group only (``client.user`` is the user)."""
    from cacaotours.core.roles import OPERATIONS

    return _client_in("ops@kallpa.example", OPERATIONS)


@pytest.fixture
def finance_client(roles):
    """A staff member of the Finance group only (``client.user`` is the user)."""
    from cacaotours.core.roles import FINANCE

    return _client_in("finance@kallpa.example", FINANCE)
