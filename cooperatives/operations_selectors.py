"""Reads for staff operations: the Stripe transfer queue and the operations dashboard.

This module sits at the top of the dependency graph (it reads tours, bookings and the ledger);
nothing below ``cooperatives`` imports it. Every function states its query count and keeps it
whatever the number of rows (tests/cooperatives/test_operations_dashboard.py holds it to that).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone, translation

from bookings.models import Booking, BookingStatus, Payment, PaymentStatus
from bookings.selectors import holds_active_q, holds_expiring_q
from cacaotours.core.models import PayoutMethod
from cacaotours.core.money import Money
from cacaotours.core.periods import day_bounds, month_bounds, week_bounds
from tours.models import Departure
from tours.selectors import departure_queryset_with_availability

from .models import JournalEntry, JournalLeg, LedgerAccount, Share, Transfer

S = Share.Status
STUCK_MINUTES = 10  # as the routing sweeper (services.shares_sweep)
LIST_LIMIT = 10

# -- the Stripe transfer queue ----------------------------------------------------------------

TRANSFER_QUEUE_KINDS = ("failed", "onboarding", "stuck")


def transfer_queue_q(kind: str = "all", now=None) -> Q:
    """Shares whose Stripe transfer needs staff: ``failed`` (Stripe refused it, not paid by bank since),
    ``onboarding`` (owed to a Stripe Connect recipient, not in a bank batch) or ``stuck`` (waiting to be
    routed for more than STUCK_MINUTES). ``all``: any of them. Retrying is the share admin's action."""
    now = now or timezone.now()
    unbatched_owed = Q(status=S.OWED, payout_line__isnull=True)
    on_connect = (
        Q(cooperative__payout_method=PayoutMethod.STRIPE_CONNECT)
        | Q(fund__payout_method=PayoutMethod.STRIPE_CONNECT)
        | Q(farm__payout_method=PayoutMethod.STRIPE_CONNECT)
    )
    parts = {
        "failed": unbatched_owed & Q(transfer__status=Transfer.Status.FAILED),
        "onboarding": unbatched_owed & on_connect,
        "stuck": Q(status=S.PENDING, updated_at__lte=now - timedelta(minutes=STUCK_MINUTES)),
    }
    if kind in parts:
        return parts[kind]
    return parts["failed"] | parts["onboarding"] | parts["stuck"]


def payout_owed_by_currency() -> list[dict]:
    """What the next bank payout batch would take, per currency: shares owed and not yet in a batch,
    how many, and what is still owed of them (after reversals and netting), in minor units (1 query)."""
    outstanding = F("amount") - F("amount_reversed") - F("amount_netted")
    return list(
        Share.objects.filter(status=S.OWED, payout_line__isnull=True)
        .values("currency")
        .annotate(shares=Count("id"), amount=Sum(outstanding))
        .order_by("currency")
    )


# -- the operations dashboard -------------------------------------------------------------------


@dataclass(frozen=True)
class DepartureRow:
    departure: Departure  # with tour, seats_taken, seats_left
    seats_sold: int  # travellers of confirmed bookings
    bookings: int  # confirmed bookings

    @property
    def seats_held(self) -> int:
        """Seats taken by holds not (yet) confirmed: unpaid holds, flagged payments."""
        return max(self.departure.seats_taken - self.seats_sold, 0)


@dataclass(frozen=True)
class RouteMonthRow:
    route_id: int
    route_name: str
    currency: str
    bookings: int
    travellers: int
    booked: Money
    received: Money
    refunded: Money

    @property
    def net(self) -> Money:
        return self.received - self.refunded


@dataclass(frozen=True)
class ShareMoneyRow:
    currency: str
    transferred: Money  # Stripe transfers posted this month
    paid_by_bank: Money  # bank payouts marked paid this month
    owed_waiting: Money  # owed now, not in a bank batch yet
    owed_batched: Money  # owed now, in a batch not paid yet
    pending: Money  # not routed yet

    @property
    def routed(self) -> Money:
        return self.transferred + self.paid_by_bank

    @property
    def owed(self) -> Money:
        return self.owed_waiting + self.owed_batched + self.pending


@dataclass
class Dashboard:
    now: datetime
    month_start: datetime
    departures_today: list[DepartureRow] = field(default_factory=list)
    departures_week: list[DepartureRow] = field(default_factory=list)
    routes_month: list[RouteMonthRow] = field(default_factory=list)
    holds_active: int = 0
    holds_expiring: list[Booking] = field(default_factory=list)
    holds_expiring_count: int = 0
    flagged: list[Booking] = field(default_factory=list)
    flagged_count: int = 0
    shares: list[ShareMoneyRow] = field(default_factory=list)
    transfer_queue_count: int = 0


def _departures_week(now) -> tuple[list[DepartureRow], list[DepartureRow]]:
    """Departures of today and of the next 6 days with seats sold (confirmed bookings) and taken (1 query)."""
    confirmed = Booking.objects.filter(departure=OuterRef("pk"), status=BookingStatus.CONFIRMED).order_by()
    sold = confirmed.values("departure").annotate(n=Sum(F("adults") + F("children"))).values("n")
    count = confirmed.values("departure").annotate(n=Count("pk")).values("n")
    start, end = week_bounds(now)
    _today_start, today_end = day_bounds(now)
    rows = [
        DepartureRow(departure=d, seats_sold=d.seats_sold, bookings=d.booking_count)
        for d in departure_queryset_with_availability(now)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .annotate(seats_sold=Coalesce(Subquery(sold), 0), booking_count=Coalesce(Subquery(count), 0))
        .select_related("tour")
        .order_by("starts_at", "id")[:200]
    ]
    today = [row for row in rows if row.departure.starts_at < today_end]
    return today, rows[len(today) :]


def _routes_month(start, end) -> list[RouteMonthRow]:
    """Bookings confirmed this month per route and currency, with what was received and refunded (2 queries)."""
    lang = "es" if (translation.get_language() or "en").startswith("es") else "en"
    route = "departure__tour__route"
    booked = (
        Booking.objects.filter(confirmed_at__gte=start, confirmed_at__lt=end)
        .values(f"{route}_id", f"{route}__name_en", f"{route}__name_es", "currency")
        .annotate(bookings=Count("pk"), travellers=Sum(F("adults") + F("children")), booked=Sum("total_amount"))
        .order_by(f"{route}__name_{lang}", "currency")
    )
    paid = {
        (row[f"booking__{route}_id"], row["currency"]): row
        for row in Payment.objects.filter(
            booking__confirmed_at__gte=start,
            booking__confirmed_at__lt=end,
            status__in=(PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED),
        )
        .values(f"booking__{route}_id", "currency")
        .annotate(received=Sum("amount_received"), refunded=Sum("amount_refunded"))
        .order_by()
    }
    rows = []
    for row in booked:
        currency = row["currency"]
        money = paid.get((row[f"{route}_id"], currency), {})
        rows.append(
            RouteMonthRow(
                route_id=row[f"{route}_id"],
                route_name=row[f"{route}__name_{lang}"] or row[f"{route}__name_en"],
                currency=currency,
                bookings=row["bookings"],
                travellers=row["travellers"] or 0,
                booked=Money(row["booked"] or 0, currency),
                received=Money(money.get("received") or 0, currency),
                refunded=Money(money.get("refunded") or 0, currency),
            )
        )
    return rows


def _shares_month(start, end, now) -> tuple[list[ShareMoneyRow], int]:
    """Per currency: routed to communities this month (ledger) and owed now (shares); the queue size (3 queries)."""
    routed: dict[str, dict[str, int]] = defaultdict(dict)
    for row in (
        JournalLeg.objects.filter(
            entry__kind__in=(JournalEntry.Kind.TRANSFER, JournalEntry.Kind.BANK_PAYOUT),
            account__kind=LedgerAccount.Kind.PAYABLE,
            entry__posted_at__gte=start,
            entry__posted_at__lt=end,
        )
        .values("currency", "entry__kind")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        routed[row["currency"]][row["entry__kind"]] = row["total"] or 0
    outstanding = F("amount") - F("amount_reversed") - F("amount_netted")
    owed = {
        row["currency"]: row
        for row in Share.objects.filter(status__in=(S.OWED, S.PENDING))
        .values("currency")
        .annotate(
            waiting=Sum(outstanding, filter=Q(status=S.OWED, payout_line__isnull=True)),
            batched=Sum(outstanding, filter=Q(status=S.OWED, payout_line__isnull=False)),
            pending=Sum(outstanding, filter=Q(status=S.PENDING)),
        )
        .order_by()
    }
    rows = []
    for currency in sorted(set(routed) | set(owed)):
        month, now_owed = routed.get(currency, {}), owed.get(currency, {})
        rows.append(
            ShareMoneyRow(
                currency=currency,
                transferred=Money(month.get(JournalEntry.Kind.TRANSFER, 0), currency),
                paid_by_bank=Money(month.get(JournalEntry.Kind.BANK_PAYOUT, 0), currency),
                owed_waiting=Money(now_owed.get("waiting") or 0, currency),
                owed_batched=Money(now_owed.get("batched") or 0, currency),
                pending=Money(now_owed.get("pending") or 0, currency),
            )
        )
    queue = Share.objects.filter(transfer_queue_q("all", now)).count()
    return rows, queue


def operations_dashboard(*, sections: set[str], now=None) -> Dashboard:
    """The operations dashboard's figures for the requested ``sections`` (what the user may see).

    ``departures`` 1 query, ``bookings`` 5 (per route 2, hold and flag counts 1, the two short
    lists 2), ``shares`` 3 — whatever the number of departures, bookings or shares.
    """
    now = now or timezone.now()
    start, end = month_bounds(now)
    board = Dashboard(now=now, month_start=start)
    if "departures" in sections:
        board.departures_today, board.departures_week = _departures_week(now)
    if "bookings" in sections:
        board.routes_month = _routes_month(start, end)
        counts = Booking.objects.aggregate(
            active=Count("pk", filter=holds_active_q(now)),
            expiring=Count("pk", filter=holds_expiring_q(now)),
            flagged=Count("pk", filter=Q(flagged=True)),
        )
        board.holds_active, board.holds_expiring_count = counts["active"], counts["expiring"]
        board.flagged_count = counts["flagged"]
        board.holds_expiring = list(
            Booking.objects.filter(holds_expiring_q(now))
            .select_related("departure__tour")
            .order_by("expires_at")[:LIST_LIMIT]
        )
        board.flagged = list(
            Booking.objects.filter(flagged=True).select_related("departure__tour").order_by("-updated_at")[:LIST_LIMIT]
        )
    if "shares" in sections:
        board.shares, board.transfer_queue_count = _shares_month(start, end, now)
    return board
