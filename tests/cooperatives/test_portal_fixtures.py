"""Fixtures and helpers shared by the portal tests (``test_portal_*.py`` import them from here).

The ledger fixtures of ``conftest.py`` are the default world: the Quillabamba cooperative
(Stripe Connect), its reforestation fund and Don Manuel's farm (bank), rules 15 / 10 / 5 %.
Payments go through the simulated checkout, so transfers and reversals are simulated too.

``cooperatives/admin.py`` imports ``admin_portal`` (the invitation and change-request admins);
importing it here as well makes the admin tests independent of that line.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

import cooperatives.admin_portal  # noqa: F401  (registers the portal admins)
from cooperatives.models import Membership
from tests.factories import CooperativeFactory, ItineraryStopFactory, MembershipFactory, UserFactory

from .conftest import pay_simulated, ready

LEADER_EMAIL = "dirigente@quillabamba.example"


def es(name: str, **kwargs) -> str:
    """The Spanish URL of a portal page (the portal's home language: no redirect)."""
    with translation.override("es"):
        return reverse(f"portal:{name}", kwargs=kwargs)


def en(name: str, **kwargs) -> str:
    with translation.override("en"):
        return reverse(f"portal:{name}", kwargs=kwargs)


@pytest.fixture
def leader(coop):
    user = UserFactory(email=LEADER_EMAIL, first_name="Marleni", last_name="Huamán", preferred_language="es")
    MembershipFactory(user=user, cooperative=coop, role=Membership.Role.LEADER)
    return user


@pytest.fixture
def leader_client(client, leader):
    client.force_login(leader)
    return client


@pytest.fixture
def other_coop_member(db):
    """The leader of another cooperative."""
    user = UserFactory(email="lider@otra.example", preferred_language="es")
    MembershipFactory(user=user, cooperative=CooperativeFactory(), role=Membership.Role.LEADER)
    return user


@pytest.fixture
def stop_at_farm(tour, farm):
    """The tour stops at Don Manuel's farm: its bookings are visits to the cooperative."""
    return ItineraryStopFactory(tour=tour, farm=farm)


@pytest.fixture
def paid_booking(rules, departure, traveller, django_capture_on_commit_callbacks):
    """A S/ 700.00 booking paid through the simulated checkout: coop transferred, fund and farm owed."""
    booking = ready(departure, traveller)
    pay_simulated(booking, django_capture_on_commit_callbacks)
    booking.refresh_from_db()
    return booking


def org_urls(kind: str, pk: int, period: str) -> list[tuple[str, str]]:
    """(method, Spanish URL) of every page of one organisation."""
    org = {"kind": kind, "pk": pk}
    return [
        ("get", es("dashboard", **org)),
        ("get", es("entries", **org)),
        ("get", es("visits", **org)),
        ("get", es("payouts", **org)),
        ("get", es("statement_current", **org)),
        ("get", es("statement", period=period, **org)),
        ("get", es("statement_csv", period=period, **org)),
        ("get", es("payout_settings", **org)),
        ("post", es("payout_settings", **org)),
        ("post", es("stripe_onboarding", **org)),
    ]


def test_the_spanish_and_english_urls_of_the_portal():
    assert es("index") == "/es/portal/"
    assert en("index") == "/portal/"
    assert es("statement", kind="c", pk=3, period="2026-03") == "/es/portal/c/3/estado/2026-03/"
    assert es("statement_csv", kind="f", pk=4, period=(2026, 11)) == "/es/portal/f/4/estado/2026-11/csv/"
    assert es("invitation", token="abc-_1") == "/es/portal/invitation/abc-_1/"
