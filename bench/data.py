"""Data for the webhook and routing benchmarks (call after ``bench.common.django_setup``).

Recipients are real Cooperative / CommunityFund / Farm rows paid through Stripe Connect, with
their connected accounts at the Stripe-shaped server (transfers capability active), so that
every share becomes a transfer.
"""

from __future__ import annotations

from datetime import timedelta

STRIPE_KEY = "sk_test_bench"
WEBHOOK_SECRET = "whsec_bench"
AUTH = {"authorization": f"Bearer {STRIPE_KEY}"}


def connect_fields(account_id: str) -> dict:
    from cacaotours.core.models import PayoutMethod

    return {
        "payout_method": PayoutMethod.STRIPE_CONNECT,
        "stripe_account_id": account_id,
        "stripe_transfers_enabled": True,
    }


def recipients(server, prefix: str, *, coops: int, funds: int, farms: int) -> list:
    """Stripe-Connect recipients (cooperatives, community funds, farms) with active accounts at ``server``."""
    from tests.factories import CommunityFundFactory, CooperativeFactory, FarmFactory

    made = []
    parent = None
    for i in range(coops):
        account = server.add_account(f"acct_{prefix}coop{i:04d}", transfers="active")
        parent = CooperativeFactory(slug=f"{prefix}-coop-{i}", **connect_fields(account))
        made.append(parent)
    for i in range(funds):
        account = server.add_account(f"acct_{prefix}fund{i:04d}", transfers="active")
        made.append(CommunityFundFactory(slug=f"{prefix}-fund-{i}", cooperative=parent, **connect_fields(account)))
    for i in range(farms):
        account = server.add_account(f"acct_{prefix}farm{i:04d}", transfers="active")
        made.append(FarmFactory(slug=f"{prefix}-farm-{i}", cooperative=parent, **connect_fields(account)))
    return made


def tour_with_rules(slug: str, rule_recipients: list, basis_points: list[int], *, departures: int = 1, capacity=400):
    """A published tour whose share rules pay ``rule_recipients`` (one rule each), and its departures."""
    from django.utils import timezone

    from cooperatives.models import CommunityFund, Cooperative
    from farms.models import Farm
    from tests.factories import DepartureFactory, RouteFactory, ShareRuleFactory, TourFactory

    route = RouteFactory(slug=f"{slug}-route")
    tour = TourFactory(route=route, slug=slug, max_group=12, adult_price=35000, child_price=17500)
    for recipient, points in zip(rule_recipients, basis_points, strict=True):
        kind = {Cooperative: "cooperative", CommunityFund: "fund", Farm: "farm"}[type(recipient)]
        fields = {"cooperative": None, "fund": None, "farm": None, kind: recipient}
        ShareRuleFactory(tour=tour, basis_points=points, **fields)
    starts = timezone.now().replace(microsecond=0) + timedelta(days=40)
    made = [
        DepartureFactory(tour=tour, capacity=capacity, starts_at=starts + timedelta(days=i)) for i in range(departures)
    ]
    return tour, made


def travellers(prefix: str, n: int) -> list:
    from tests.factories import UserFactory

    return [
        UserFactory(email=f"{prefix}{i}@bench.example", first_name="Ana", last_name=f"Quispe {i}", password=None)
        for i in range(n)
    ]


def session_cookies(users) -> list[str]:
    """A signed-in session per user, created in the session store as ``login`` does: each one's Cookie header."""
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore

    cookies = []
    for user in users:
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = settings.AUTHENTICATION_BACKENDS[0]
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.create()
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
    return cookies


def booking_at_checkout(departure, user, *, adults: int = 2):
    """A booking held, with its travellers' details, sent to the (Stripe-shaped) checkout: (booking, payment)."""
    from bookings import services

    booking = services.booking_hold_seats(
        departure_id=departure.pk, adults=adults, children=0, user=user, language="en"
    )
    participants = [{"full_name": f"Traveller {i}", "is_child": False, "dietary_needs": ""} for i in range(adults)]
    services.booking_details_save(
        booking=booking,
        participants=participants,
        emergency_contact_name="Domingo",
        emergency_contact_phone="+51 984 222 333",
        notes="",
        language="en",
    )
    services.booking_checkout_start(booking=booking, base_url="http://127.0.0.1")
    return booking, booking.payments.order_by("-pk").first()
