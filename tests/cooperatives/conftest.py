"""Fixtures and helpers for the revenue-share ledger tests (split, routing, refunds, payouts).

The booking fixtures (``tour``, ``departure``, ``traveller``, the loopback ``stripe_server``
and the autouse switches to the simulated checkout and the e-mail stand-ins) are the ones of
``tests/bookings/conftest.py``, imported here so both folders build bookings the same way.

The worked example of docs/ledger.md is the default set-up: a S/ 700.00 booking (2 adults ×
S/ 350.00) on a tour whose rules give 15% to the Quillabamba cooperative (Stripe Connect),
10% to the reforestation fund (bank) and 5% to Don Manuel's farm (bank).
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db.models import Sum
from django.utils import translation

from bookings import services as booking_services
from bookings.models import Booking, Payment
from cacaotours.core.models import PayoutMethod
from cooperatives import services
from cooperatives.models import (
    JournalEntry,
    JournalLeg,
    LedgerAccount,
    OutboxMessage,
    PayableMonth,
    PayoutBatch,
    PayoutLine,
    Share,
    ShareTransition,
    Transfer,
    TransferReversal,
)
from tests.bookings import conftest as booking_fixtures
from tests.bookings.helpers import checkout, hold, post_event, save_details, starts_in
from tests.factories import CommunityFundFactory, CooperativeFactory, FarmFactory, ShareRuleFactory

# The booking fixtures, shared with tests/bookings (pytest finds fixtures among a conftest's names).
_email_standins = booking_fixtures._email_standins
_email_templates = booking_fixtures._email_templates
_simulated_checkout = booking_fixtures._simulated_checkout
stripe_server = booking_fixtures.stripe_server
traveller = booking_fixtures.traveller
tour = booking_fixtures.tour
departure = booking_fixtures.departure

COOP_ACCOUNT = "acct_1Quillabamba"
COOP_NAME = "Quillabamba Cacao Cooperative"  # the recipients' names, as ledger accounts and CSV files show them
FUND_NAME = "Cloud-forest reforestation fund"
FARM_NAME = "Don Manuel's farm (Huamán family)"
FUND_CCI = "00219300123456789012"
FARM_CCI = "00310400987654321098"


@pytest.fixture(autouse=True)
def _english():
    """Names in ledger accounts and CSV files are the English ones, whatever an earlier test activated."""
    with translation.override("en"):
        yield


# -- recipients and rules ---------------------------------------------------------------------


@pytest.fixture
def coop(db):
    return CooperativeFactory(
        name_en="Quillabamba Cacao Cooperative",
        name_es="Cooperativa Cacaotera de Quillabamba",
        slug="quillabamba",
        payout_method=PayoutMethod.STRIPE_CONNECT,
        stripe_account_id=COOP_ACCOUNT,
        stripe_transfers_enabled=True,
    )


@pytest.fixture
def fund(coop):
    return CommunityFundFactory(
        name_en="Cloud-forest reforestation fund",
        name_es="Fondo de reforestación",
        slug="reforestation",
        cooperative=coop,
        payout_method=PayoutMethod.BANK_TRANSFER,
        bank_name="BCP",
        bank_account_holder="Asociación Fondo de Reforestación",
        bank_cci=FUND_CCI,
    )


@pytest.fixture
def farm(coop):
    return FarmFactory(
        name_en="Don Manuel's farm",
        name_es="Finca de Don Manuel",
        slug="don-manuel",
        cooperative=coop,
        payout_method=PayoutMethod.BANK_TRANSFER,
        bank_name="Interbank",
        bank_account_holder="Manuel Huamán Quispe",
        bank_cci=FARM_CCI,
    )


@pytest.fixture
def rules(tour, coop, fund, farm):
    """15% cooperative, 10% fund, 5% farm: S/ 700.00 → 105.00 / 70.00 / 35.00, operator 490.00."""
    return [
        ShareRuleFactory(tour=tour, cooperative=coop, basis_points=1500),
        ShareRuleFactory(tour=tour, cooperative=None, fund=fund, basis_points=1000),
        ShareRuleFactory(tour=tour, cooperative=None, farm=farm, basis_points=500),
    ]


@pytest.fixture
def connect(stripe_server, coop):
    """The cooperative's connected account exists at the fake Stripe and can receive transfers."""
    stripe_server.add_account(COOP_ACCOUNT, transfers="active")
    return stripe_server


# -- bookings and payments ---------------------------------------------------------------------


def ready(departure, traveller, *, adults=2, children=0) -> Booking:
    return save_details(hold(departure, traveller, adults=adults, children=children))


@pytest.fixture
def booking(rules, departure, traveller) -> Booking:
    """A S/ 700.00 booking with its details, ready for the checkout."""
    return ready(departure, traveller)


def pay_simulated(booking: Booking, capture, *, execute: bool = True) -> Payment:
    """Pay through the simulated checkout (the confirmation runs synchronously); return the payment."""
    payment = checkout(booking)
    with capture(execute=execute):
        booking_services.simulated_checkout_complete(payment=payment, outcome="pay")
    return Payment.objects.get(pk=payment.pk)


def pay_stripe(client, booking: Booking, server, capture) -> tuple[Payment, dict]:
    """Checkout at the fake Stripe, complete the session, deliver the signed webhook; run what follows."""
    payment = checkout(booking)
    event = server.complete_session(payment.checkout_session_id)
    with capture(execute=True):
        response = post_event(client, event)
    assert response.status_code == 200
    return Payment.objects.get(pk=payment.pk), event


@pytest.fixture
def no_relay(monkeypatch):
    """The outbox relay is not triggered after commit (as when the broker is down): rows stay unpublished."""
    monkeypatch.setattr(services, "_relay_soon", lambda: None)


def cancel(booking: Booking, capture, *, reason: str = "change of plans"):
    """Cancel per the tour's policy and run what follows (Stripe refund, reversals) eagerly."""
    with capture(execute=True):
        _, refund = booking_services.booking_cancel(booking=booking, actor=booking.user, reason=reason)
    return refund


# -- reading the ledger ------------------------------------------------------------------------


def account_label(account: LedgerAccount) -> str:
    """``clearing``, ``revenue``, ``fees``, ``bank`` or ``payable:<recipient name>``."""
    return f"payable:{account.name}" if account.kind == LedgerAccount.Kind.PAYABLE else account.kind


def legs_of(entry: JournalEntry) -> list[tuple[str, str, int]]:
    """(account label, currency, amount) of each leg, in posting order."""
    return [(account_label(leg.account), leg.currency, leg.amount) for leg in entry.legs.select_related("account")]


def entries(kind: str | None = None, booking: Booking | None = None) -> list[JournalEntry]:
    query = JournalEntry.objects.order_by("id")
    if kind:
        query = query.filter(kind=kind)
    if booking is not None:
        query = query.filter(booking=booking)
    return list(query)


def entry_totals() -> dict[tuple[int, str], int]:
    """Sum of the legs of every entry per currency (all zero when the ledger is sound)."""
    totals: dict[tuple[int, str], int] = defaultdict(int)
    for entry_id, currency, amount in JournalLeg.objects.values_list("entry_id", "currency", "amount"):
        totals[(entry_id, currency)] += amount
    return dict(totals)


def assert_ledger_balanced() -> None:
    totals = entry_totals()
    assert totals, "no journal entry at all"
    assert {key: total for key, total in totals.items() if total} == {}
    assert services.ledger_unbalanced_entries() == []
    assert services.payable_month_mismatches() == []  # the dashboard's monthly totals follow the legs


def balance(recipient, currency: str = "PEN") -> int:
    """The recipient's payable balance: negative = we owe them, positive = they owe us."""
    return services.payable_balance(recipient=recipient, currency=currency)


def account_balance(kind: str, currency: str = "PEN") -> int:
    return JournalLeg.objects.filter(account__kind=kind, currency=currency).aggregate(t=Sum("amount"))["t"] or 0


def shares_of(booking: Booking) -> list[Share]:
    """The booking's shares in rule order (largest first)."""
    return list(booking.shares.select_related("cooperative", "fund", "farm").order_by("-basis_points", "id"))


def share_rows(booking: Booking) -> list[tuple]:
    """(recipient name, amount, reversed, netted, status, rail, needs_attention) per share."""
    return [
        (str(s.recipient), s.amount, s.amount_reversed, s.amount_netted, s.status, s.rail, s.needs_attention)
        for s in shares_of(booking)
    ]


def booking_equation(booking: Booking) -> tuple[int, int]:
    """(shares net of reversals + operator revenue, captured − refunded) — always equal."""
    shares = sum(s.amount - s.amount_reversed for s in booking.shares.all())
    revenue = -(
        JournalLeg.objects.filter(entry__booking=booking, account__kind=LedgerAccount.Kind.REVENUE).aggregate(
            t=Sum("amount")
        )["t"]
        or 0
    )
    captured = sum(p.amount_received - p.amount_refunded for p in Payment.objects.filter(booking=booking))
    return shares + revenue, captured


def ledger_snapshot() -> dict:
    """Everything the ledger services could change, for "nothing changed" assertions."""
    return {
        "accounts": list(LedgerAccount.objects.order_by("pk").values_list("pk", "key")),
        "entries": list(JournalEntry.objects.order_by("pk").values_list("pk", "kind", "idempotency_key")),
        "legs": list(JournalLeg.objects.order_by("pk").values_list("pk", "entry_id", "account_id", "amount")),
        "payable_months": list(
            PayableMonth.objects.order_by("pk").values_list("pk", "account_id", "kind", "month", "amount", "legs")
        ),
        "shares": list(
            Share.objects.order_by("pk").values_list(
                "pk",
                "amount",
                "amount_reversed",
                "amount_netted",
                "status",
                "rail",
                "needs_attention",
                "attention_reason",
                "payout_line_id",
            )
        ),
        "share_transitions": list(ShareTransition.objects.order_by("pk").values_list("pk", "to_status")),
        "transfers": list(Transfer.objects.order_by("pk").values_list("pk", "status", "amount", "stripe_transfer_id")),
        "reversals": list(TransferReversal.objects.order_by("pk").values_list("pk", "status", "amount")),
        "outbox": list(OutboxMessage.objects.order_by("pk").values_list("pk", "topic", "published_at", "attempts")),
        "batches": list(PayoutBatch.objects.order_by("pk").values_list("pk", "status", "currency")),
        "lines": list(PayoutLine.objects.order_by("pk").values_list("pk", "amount", "bank_reference", "paid_at")),
    }


def transfer_posts(server) -> list:
    return server.requests_to("POST", "/v1/transfers")


__all__ = [
    "COOP_ACCOUNT",
    "COOP_NAME",
    "FARM_CCI",
    "FARM_NAME",
    "FUND_CCI",
    "FUND_NAME",
    "account_balance",
    "assert_ledger_balanced",
    "balance",
    "booking_equation",
    "cancel",
    "entries",
    "entry_totals",
    "ledger_snapshot",
    "legs_of",
    "pay_simulated",
    "pay_stripe",
    "ready",
    "share_rows",
    "shares_of",
    "starts_in",
    "transfer_posts",
]
