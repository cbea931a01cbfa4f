"""Reads of the cooperative leaders' portal (docs/ledger.md explains the accounts).

Who sees what
    A person sees an organisation (a cooperative or a community fund) only through a
    ``Membership``; staff are *not* members by default, so a staff user without a membership
    gets a 404 like anybody else (the admin is where staff look at the ledger). Every portal
    view resolves its organisation through ``organisation_for_member``.

Scope
    A cooperative's scope is every revenue share (and ledger account, payout line…) whose
    recipient is the cooperative itself, one of its farms (``Farm.cooperative``) or one of its
    funds (``CommunityFund.cooperative``); a fund's scope is its own shares. ``scope_q`` builds
    that filter with sub-selects, so it never costs a query of its own.

Money
    Ledger legs are debit positive, credit negative (the recipient's payable account is a
    liability). The portal shows amounts from the community's side: ``-leg.amount``, so a
    share earned is positive and a payout is negative. PEN and USD are never added: every
    figure is per currency. Months and years are calendar months in Lima time.

Travellers
    Leaders see first names (cut in SQL), party size, dietary needs and language of upcoming
    visits; e-mail addresses, phones, emergency contacts and payments are never selected.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Concat, StrIndex, Substr
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation

from bookings.models import Booking, BookingStatus, Participant
from cacaotours.core.money import Money
from farms.models import Farm
from tours.models import ItineraryStop

from .models import (
    CommunityFund,
    Cooperative,
    Invitation,
    JournalEntry,
    JournalLeg,
    LedgerAccount,
    Membership,
    PayableMonth,
    PayoutBatch,
    PayoutChangeRequest,
    PayoutLine,
    Share,
    Transfer,
    TransferReversal,
)

LIMA = ZoneInfo("America/Lima")
E = JournalEntry.Kind
KIND_CODES = {"c": "cooperative", "f": "fund", "cooperative": "cooperative", "fund": "fund"}
MANAGING_ROLES = (Membership.Role.LEADER, Membership.Role.TREASURER)


# -- who sees what -------------------------------------------------------------------------------


def memberships_for_user(user) -> list[Membership]:
    """The user's memberships with their organisation, by name (1 query, then cached on the user)."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_portal_memberships", None)
    if cached is None:
        cached = sorted(
            Membership.objects.filter(user_id=user.pk).select_related("cooperative", "fund"),
            key=lambda m: str(m.cooperative or m.fund).casefold(),
        )
        for membership in cached:
            _annotate(membership.cooperative or membership.fund, membership)
        user._portal_memberships = cached
    return cached


def portal_home_url(user) -> str | None:
    """Where the portal starts for ``user``: their dashboard with one organisation, the
    chooser with several, None for people without a membership (travellers, most staff)."""
    memberships = memberships_for_user(user)
    if not memberships:
        return None
    if len(memberships) == 1:
        return organisation_url("dashboard", memberships[0].cooperative or memberships[0].fund)
    return reverse("portal:index")


def organisation_url(name: str, organisation, **kwargs) -> str:
    """The URL of portal page ``name`` of an organisation from ``memberships_for_user``."""
    return reverse(f"portal:{name}", kwargs={"kind": organisation.portal_kind, "pk": organisation.pk, **kwargs})


def _annotate(organisation, membership: Membership):
    organisation.portal_kind = "c" if isinstance(organisation, Cooperative) else "f"
    organisation.portal_role = membership.role
    organisation.portal_membership = membership
    organisation.portal_can_manage = membership.role in MANAGING_ROLES
    return organisation


def organisation_for_member(user, kind: str, pk: int) -> Cooperative | CommunityFund:
    """The cooperative (``kind`` "c") or fund ("f") ``pk`` if ``user`` is a member of it, else Http404.

    Staff get no exception. The returned object carries ``portal_kind`` ("c"/"f"),
    ``portal_role``, ``portal_membership`` and ``portal_can_manage`` (leader or treasurer).
    """
    wanted = KIND_CODES.get(kind)
    if wanted is None:
        raise Http404("No such organisation")
    for membership in memberships_for_user(user):
        organisation = membership.cooperative if wanted == "cooperative" else membership.fund
        if organisation is not None and organisation.pk == pk:
            return organisation
    raise Http404("No such organisation")


def organisation_kind(organisation) -> str:
    return "c" if isinstance(organisation, Cooperative) else "f"


def scope_q(organisation, prefix: str = "") -> Q:
    """Filter on a model with recipient fields (Share, LedgerAccount, PayoutLine) for ``organisation``.

    ``prefix`` reaches the recipient fields through a relation (``"account__"``, ``"share__"``).
    """
    if isinstance(organisation, CommunityFund):
        return Q(**{f"{prefix}fund_id": organisation.pk})
    farms = Farm.objects.filter(cooperative_id=organisation.pk).values("pk")
    funds = CommunityFund.objects.filter(cooperative_id=organisation.pk).values("pk")
    return (
        Q(**{f"{prefix}cooperative_id": organisation.pk})
        | Q(**{f"{prefix}farm_id__in": farms})
        | Q(**{f"{prefix}fund_id__in": funds})
    )


# -- small helpers ----------------------------------------------------------------------------------


def _lang() -> str:
    language = (translation.get_language() or "en")[:2]
    return language if language in ("en", "es") else "en"


def _tr(row: dict, base: str) -> str:
    """A translated column read with ``values()``: the active language, else English."""
    return row.get(f"{base}_{_lang()}") or row.get(f"{base}_en") or ""


def _recipient_fields(prefix: str = "") -> list[str]:
    return [
        f"{prefix}{kind}{suffix}"
        for kind in ("cooperative", "fund", "farm")
        for suffix in ("_id", "__name_en", "__name_es")
    ]


@dataclass(frozen=True)
class Recipient:
    kind: str  # cooperative, fund, farm
    pk: int
    name: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.pk}"


def _recipient(row: dict, prefix: str = "") -> Recipient | None:
    for kind in ("cooperative", "fund", "farm"):
        pk = row.get(f"{prefix}{kind}_id")
        if pk:
            return Recipient(kind=kind, pk=pk, name=_tr(row, f"{prefix}{kind}__name"))
    return None


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The first instant of the month and of the next one, in Lima time."""
    start = datetime(year, month, 1, tzinfo=LIMA)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=LIMA)
    return start, end


def lima_today(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), LIMA).date()


def _months_back(today: date, count: int) -> list[date]:
    """The first day of the last ``count`` months, oldest first, ending with ``today``'s month."""
    year, month = today.year, today.month
    months = []
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


# -- the dashboard ----------------------------------------------------------------------------------


def _int_fields(instance) -> list[str]:
    return [f.name for f in fields(instance) if f.type in ("int", int)]


@dataclass
class CurrencySummary:
    """One currency's figures, from the community's side (positive = in the community's favour)."""

    currency: str
    earned_month: int = 0
    earned_year: int = 0
    earned_total: int = 0
    reversed: int = 0  # refunds taken back from the shares
    routed_stripe: int = 0  # Stripe transfers, net of transfer reversals
    paid_bank: int = 0
    other: int = 0  # corrections
    balance: int = 0  # > 0: Kallpa owes the community; < 0: the community owes Kallpa

    def money(self, name: str) -> Money:
        return Money(getattr(self, name), self.currency)

    @property
    def m(self) -> dict[str, Money]:
        """Every figure as Money, for templates: ``{{ summary.m.earned_month }}``."""
        return {name: self.money(name) for name in _int_fields(self)}

    @property
    def owed(self) -> Money:
        return Money(max(self.balance, 0), self.currency)

    @property
    def receivable(self) -> Money:
        return Money(max(-self.balance, 0), self.currency)

    @property
    def paid_total(self) -> Money:
        return Money(self.routed_stripe + self.paid_bank, self.currency)


@dataclass
class RecipientSummary:
    recipient: Recipient
    currency: str
    earned: int
    reversed: int
    paid: int
    balance: int

    def money(self, name: str) -> Money:
        return Money(getattr(self, name), self.currency)

    @property
    def m(self) -> dict[str, Money]:
        return {name: self.money(name) for name in _int_fields(self)}


@dataclass
class TourSummary:
    tour_id: int
    title: str
    currency: str
    bookings: int
    earned: int
    reversed: int

    @property
    def net(self) -> Money:
        return Money(self.earned - self.reversed, self.currency)


@dataclass
class Bar:
    month: date
    amount: Money
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0
    is_current: bool = False

    @property
    def cx(self) -> float:
        return round(self.x + self.width / 2, 2)


@dataclass
class Chart:
    """A 12-month bar chart of one currency for a server-rendered SVG.

    The SVG draws only bars and grid lines in a 0..(10 × months) × 0..100 box stretched to its
    container (``preserveAspectRatio="none"``); month names and the axis labels are HTML around
    it, so their size does not depend on the width of the phone.
    """

    currency: str
    bars: list[Bar]
    maximum: Money
    ticks: list[str] = field(default_factory=list)  # labels of 0, half and the top

    @property
    def width(self) -> int:
        return 10 * len(self.bars)

    @property
    def peak(self) -> Bar | None:
        best = max(self.bars, key=lambda bar: bar.amount.amount, default=None)
        return best if best is not None and best.amount.amount > 0 else None

    @property
    def total(self) -> Money:
        return Money(sum(bar.amount.amount for bar in self.bars), self.currency)


@dataclass
class NextPayout:
    batch_id: int
    batch_status: str
    batch_status_label: str
    created_at: datetime
    recipient: Recipient
    amount: Money


@dataclass
class Dashboard:
    currencies: list[CurrencySummary]
    recipients: list[RecipientSummary]
    tours: list[TourSummary]
    charts: list[Chart]
    next_payouts: list[NextPayout]
    travellers_hosted: int
    travellers_upcoming: int
    bookings: int
    today: date

    @property
    def is_empty(self) -> bool:
        return not self.currencies and not self.bookings

    def waiting(self) -> list[Money]:
        """Per currency, what is owed beyond the lines already in a draft or exported batch."""
        batched: dict[str, int] = defaultdict(int)
        for payout in self.next_payouts:
            batched[payout.amount.currency] += payout.amount.amount
        return [
            Money(c.balance - batched[c.currency], c.currency)
            for c in self.currencies
            if c.balance - batched[c.currency] > 0
        ]


def _ledger_by_account(organisation, *, month_start: date, year_start: date) -> list[dict]:
    """Per payable account in scope: the sums by entry kind, from the monthly totals (1 query).

    ``PayableMonth`` holds the sum of the legs per account, currency, entry kind and Lima month,
    so "since the first of this month (or year)" is "from this month's row on": the figures are
    exactly those of the legs, from a few rows per account instead of every leg.
    """
    months = PayableMonth.objects.filter(scope_q(organisation, "account__"))

    def total(**conditions):
        return Sum("amount", filter=Q(**conditions), default=0)

    return list(
        months.values("account_id", "currency", *_recipient_fields("account__"))
        .annotate(
            split=total(kind=E.SPLIT),
            split_month=total(kind=E.SPLIT, month__gte=month_start),
            split_year=total(kind=E.SPLIT, month__gte=year_start),
            refund=total(kind=E.REFUND),
            transfer=total(kind__in=(E.TRANSFER, E.TRANSFER_REVERSAL)),
            bank=total(kind=E.BANK_PAYOUT),
            balance=Sum("amount", default=0),
        )
        .order_by("currency", "account_id")
    )


def dashboard(organisation, *, now: datetime | None = None) -> Dashboard:
    """Everything the dashboard shows, in 5 queries whatever the size of the ledger.

    1. sums per payable account (→ per currency and per recipient), conditional sums over the
       monthly payable totals (``PayableMonth``: a few rows per account, not every leg);
    2. the last 12 months of split credits, per month and currency, from the same totals;
    3. shares per tour and currency;
    4. travellers of confirmed bookings with shares in scope (hosted / upcoming);
    5. unpaid lines of draft or exported payout batches.
    """
    now = now or timezone.now()
    today = lima_today(now)

    currencies: dict[str, CurrencySummary] = {}
    recipients = []
    for row in _ledger_by_account(organisation, month_start=today.replace(day=1), year_start=date(today.year, 1, 1)):
        summary = currencies.setdefault(row["currency"], CurrencySummary(currency=row["currency"]))
        summary.earned_month -= row["split_month"]
        summary.earned_year -= row["split_year"]
        summary.earned_total -= row["split"]
        summary.reversed += row["refund"]
        summary.routed_stripe += row["transfer"]
        summary.paid_bank += row["bank"]
        summary.balance -= row["balance"]
        # corrections: whatever the balance holds beyond the four kinds above
        summary.other = (
            summary.balance - summary.earned_total + summary.reversed + summary.routed_stripe + summary.paid_bank
        )
        recipients.append(
            RecipientSummary(
                recipient=_recipient(row, "account__"),
                currency=row["currency"],
                earned=-row["split"],
                reversed=row["refund"],
                paid=row["transfer"] + row["bank"],
                balance=-row["balance"],
            )
        )
    ordered = [currencies[c] for c in sorted(currencies, key=lambda c: (c != "PEN", c))]
    kind_order = {"cooperative": 0, "fund": 1, "farm": 2}
    recipients.sort(key=lambda r: (r.currency != "PEN", r.currency, kind_order[r.recipient.kind], r.recipient.name))

    charts = _charts(organisation, today=today, currencies=[c.currency for c in ordered])
    tours = _tours(organisation)
    travellers = (
        Booking.objects.filter(
            status=BookingStatus.CONFIRMED, pk__in=Share.objects.filter(scope_q(organisation)).values("booking_id")
        )
        .annotate(party=F("adults") + F("children"))
        .aggregate(
            hosted=Sum("party", filter=Q(departure__starts_at__lt=now), default=0),
            upcoming=Sum("party", filter=Q(departure__starts_at__gte=now), default=0),
            bookings=Count("pk"),
        )
    )
    return Dashboard(
        currencies=ordered,
        recipients=recipients,
        tours=tours,
        charts=charts,
        next_payouts=_next_payouts(organisation),
        travellers_hosted=travellers["hosted"],
        travellers_upcoming=travellers["upcoming"],
        bookings=travellers["bookings"],
        today=today,
    )


def _charts(organisation, *, today: date, currencies: list[str]) -> list[Chart]:
    """Split credits of the last 12 months per currency, from the monthly totals (1 query)."""
    months = _months_back(today, 12)
    rows = (
        PayableMonth.objects.filter(scope_q(organisation, "account__"), kind=E.SPLIT, month__gte=months[0])
        .values("month", "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    series: dict[str, dict[date, int]] = defaultdict(dict)
    for row in rows:
        series[row["currency"]][row["month"]] = -row["total"]
    return [
        bar_chart(currency, [(m, series[currency].get(m, 0)) for m in months], current=months[-1])
        for currency in currencies
    ]


def _nice_ceiling(value: int) -> int:
    """A round upper bound for an axis (minor units): 1, 2, 2.5 or 5 × a power of ten."""
    if value <= 0:
        return 100
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return int(step * magnitude)
    return 10 * magnitude  # pragma: no cover


def _tick_label(amount: int, currency: str) -> str:
    """``S/ 1,500`` for whole amounts (axis labels stay short), else the full format."""
    money = Money(amount, currency)
    text = money.format()
    return text[:-3] if text.endswith(".00") else text


def bar_chart(currency: str, points: list[tuple[date, int]], *, current: date | None = None) -> Chart:
    """Bar geometry for ``points`` (month, minor units): slots 10 wide, heights out of 100."""
    top = _nice_ceiling(max((amount for _, amount in points), default=0))
    chart = Chart(currency=currency, bars=[], maximum=Money(top, currency))
    for index, (month, amount) in enumerate(points):
        height = round(100 * max(amount, 0) / top, 2)
        if amount > 0:
            height = max(height, 1.0)
        chart.bars.append(
            Bar(
                month=month,
                amount=Money(amount, currency),
                x=index * 10 + 2,
                width=6,
                y=round(100 - height, 2),
                height=height,
                is_current=month == current,
            )
        )
    chart.ticks = [_tick_label(int(top * fraction), currency) for fraction in (0, 0.5, 1)]
    return chart


def _tours(organisation) -> list[TourSummary]:
    rows = (
        Share.objects.filter(scope_q(organisation))
        .values(
            "booking__departure__tour_id",
            "booking__departure__tour__title_en",
            "booking__departure__tour__title_es",
            "currency",
        )
        .annotate(earned=Sum("amount"), reversed=Sum("amount_reversed"), bookings=Count("booking_id", distinct=True))
        .order_by("currency", "-earned", "booking__departure__tour_id")
    )
    return [
        TourSummary(
            tour_id=row["booking__departure__tour_id"],
            title=_tr(row, "booking__departure__tour__title"),
            currency=row["currency"],
            bookings=row["bookings"],
            earned=row["earned"],
            reversed=row["reversed"],
        )
        for row in rows
    ]


def _next_payouts(organisation) -> list[NextPayout]:
    rows = (
        PayoutLine.objects.filter(
            scope_q(organisation),
            paid_at__isnull=True,
            batch__status__in=(PayoutBatch.Status.DRAFT, PayoutBatch.Status.EXPORTED),
        )
        .values("batch_id", "batch__status", "batch__created_at", "amount", "currency", *_recipient_fields())
        .order_by("batch__created_at", "batch_id", "pk")
    )
    labels = dict(PayoutBatch.Status.choices)
    return [
        NextPayout(
            batch_id=row["batch_id"],
            batch_status=row["batch__status"],
            batch_status_label=str(labels[row["batch__status"]]),
            created_at=row["batch__created_at"],
            recipient=_recipient(row),
            amount=Money(row["amount"], row["currency"]),
        )
        for row in rows
    ]


# -- share entries ---------------------------------------------------------------------------------


def share_entries(organisation, *, since: date | None = None, until: date | None = None, tour_id=None, status=""):
    """The primary keys of the shares in scope, newest first (page them, then ``share_entry_rows``).

    ``since``/``until`` are Lima calendar days, both included, on the day the share was earned.
    Only the keys: the count and the page then read the shares alone (joined to the booking only
    to filter by tour), and ``share_entry_rows`` joins the details of the page's 25 rows, not of
    every share in scope. 3 queries per page whatever the number of shares.
    """
    shares = Share.objects.filter(scope_q(organisation))
    if since:
        shares = shares.filter(created_at__gte=month_day_start(since))
    if until:
        shares = shares.filter(created_at__lt=month_day_start(until, next_day=True))
    if tour_id:
        shares = shares.filter(booking__departure__tour_id=tour_id)
    if status:
        shares = shares.filter(status=status)
    return shares.order_by("-created_at", "-pk").values_list("pk", flat=True)


def month_day_start(day: date, *, next_day: bool = False) -> datetime:
    start = datetime(day.year, day.month, day.day, tzinfo=LIMA)
    if next_day:
        start = start + timedelta(days=1)
    return start


def share_entry_rows(page) -> list[dict]:
    """A page of ``share_entries`` (primary keys) with recipient, tour title, money, reference (1 query)."""
    details = Share.objects.filter(pk__in=list(page)).values(
        "pk",
        "created_at",
        "currency",
        "amount",
        "amount_reversed",
        "status",
        "rail",
        "booking__reference",
        "booking__departure__starts_at",
        "booking__departure__tour__title_en",
        "booking__departure__tour__title_es",
        "transfer__stripe_transfer_id",
        "transfer__status",
        "payout_line__batch_id",
        "payout_line__bank_reference",
        *_recipient_fields(),
    )
    statuses = dict(Share.Status.choices)
    rows = []
    for row in details.order_by("-created_at", "-pk"):
        rows.append(
            {
                "pk": row["pk"],
                "created_at": row["created_at"],
                "reference": row["booking__reference"],
                "departure": row["booking__departure__starts_at"],
                "tour": _tr(row, "booking__departure__tour__title"),
                "recipient": _recipient(row),
                "amount": Money(row["amount"], row["currency"]),
                "reversed": Money(row["amount_reversed"], row["currency"]),
                "net": Money(row["amount"] - row["amount_reversed"], row["currency"]),
                "status": row["status"],
                "status_label": statuses.get(row["status"], row["status"]),
                "transfer_id": row["transfer__stripe_transfer_id"] or "",
                "batch_id": row["payout_line__batch_id"],
                "bank_reference": row["payout_line__bank_reference"] or "",
            }
        )
    return rows


def tour_choices(organisation) -> list[tuple[int, str]]:
    """Tours with at least one share in scope, by title (1 query)."""
    rows = (
        Share.objects.filter(scope_q(organisation))
        .values(
            "booking__departure__tour_id", "booking__departure__tour__title_en", "booking__departure__tour__title_es"
        )
        .distinct()
        .order_by()
    )
    choices = {row["booking__departure__tour_id"]: _tr(row, "booking__departure__tour__title") for row in rows}
    return sorted(choices.items(), key=lambda item: item[1].casefold())


# -- upcoming visits -------------------------------------------------------------------------------


def upcoming_visits(organisation, *, now: datetime | None = None):
    """Confirmed bookings with a departure ahead (as dicts, soonest first; page them).

    A cooperative's visits are those whose tour stops at one of its farms; a fund's are the
    bookings that pay it a share. Only the columns the leaders may see are selected.
    """
    now = now or timezone.now()
    bookings = Booking.objects.filter(status=BookingStatus.CONFIRMED, departure__starts_at__gt=now)
    if isinstance(organisation, Cooperative):
        bookings = bookings.filter(
            departure__tour_id__in=ItineraryStop.objects.filter(farm__cooperative_id=organisation.pk).values("tour_id")
        )
    else:
        bookings = bookings.filter(pk__in=Share.objects.filter(scope_q(organisation)).values("booking_id"))
    return bookings.values(
        "pk",
        "reference",
        "adults",
        "children",
        "language",
        "departure__starts_at",
        "departure__tour_id",
        "departure__tour__title_en",
        "departure__tour__title_es",
    ).order_by("departure__starts_at", "pk")


def visit_rows(organisation, page) -> list[dict]:
    """A page of ``upcoming_visits`` with first names, dietary needs and farms (2 queries)."""
    bookings = list(page)
    ids = [row["pk"] for row in bookings]
    people: dict[int, list[dict]] = defaultdict(list)
    first_name = Substr("full_name", 1, StrIndex(Concat("full_name", Value(" ")), Value(" ")) - 1)
    for person in (
        Participant.objects.filter(booking_id__in=ids)
        .annotate(first_name=first_name)
        .values("booking_id", "first_name", "is_child", "dietary_needs")
        .order_by("booking_id", "pk")
    ):
        people[person["booking_id"]].append(person)
    farms: dict[int, list[str]] = defaultdict(list)
    if isinstance(organisation, Cooperative) and bookings:
        stops = (
            ItineraryStop.objects.filter(
                tour_id__in={row["departure__tour_id"] for row in bookings}, farm__cooperative_id=organisation.pk
            )
            .values("tour_id", "farm_id", "farm__name_en", "farm__name_es")
            .order_by("tour_id", "day", "order")
        )
        for stop in stops:
            name = _tr(stop, "farm__name")
            if name not in farms[stop["tour_id"]]:
                farms[stop["tour_id"]].append(name)
    languages = {"es": translation.gettext_lazy("Spanish"), "en": translation.gettext_lazy("English")}
    rows = []
    for row in bookings:
        travellers = people.get(row["pk"], [])
        rows.append(
            {
                "reference": row["reference"],
                "starts_at": row["departure__starts_at"],
                "tour": _tr(row, "departure__tour__title"),
                "farms": farms.get(row["departure__tour_id"], []),
                "adults": row["adults"],
                "children": row["children"],
                "party": row["adults"] + row["children"],
                "first_names": [p["first_name"] for p in travellers if p["first_name"]],
                "dietary": [
                    {"name": p["first_name"], "needs": p["dietary_needs"]} for p in travellers if p["dietary_needs"]
                ],
                "language": languages.get(row["language"], row["language"]),
                "language_code": row["language"],
            }
        )
    return rows


# -- payouts --------------------------------------------------------------------------------------


def stripe_transfers(organisation):
    """Created Stripe transfers to recipients in scope, newest first, with what was reversed."""
    return (
        Transfer.objects.filter(scope_q(organisation, "share__"), status=Transfer.Status.CREATED)
        .values(
            "pk",
            "stripe_transfer_id",
            "created_at",
            "amount",
            "currency",
            "share__booking__reference",
            *_recipient_fields("share__"),
        )
        .annotate(
            reversed=Sum("reversals__amount", filter=Q(reversals__status=TransferReversal.Status.CREATED), default=0)
        )
        .order_by("-created_at", "-pk")
    )


def transfer_rows(page) -> list[dict]:
    return [
        {
            "id": row["stripe_transfer_id"],
            "created_at": row["created_at"],
            "reference": row["share__booking__reference"],
            "recipient": _recipient(row, "share__"),
            "amount": Money(row["amount"], row["currency"]),
            "reversed": Money(row["reversed"], row["currency"]),
        }
        for row in page
    ]


def bank_payout_lines(organisation):
    """Bank payout lines to recipients in scope, newest batch first."""
    return (
        PayoutLine.objects.filter(scope_q(organisation))
        .values(
            "pk",
            "batch_id",
            "batch__status",
            "batch__created_at",
            "paid_at",
            "bank_reference",
            "amount",
            "currency",
            *_recipient_fields(),
        )
        .order_by("-batch__created_at", "-batch_id", "-pk")
    )


def payout_line_rows(page) -> list[dict]:
    labels = dict(PayoutBatch.Status.choices)
    return [
        {
            "batch_id": row["batch_id"],
            "batch_status": row["batch__status"],
            "batch_status_label": labels.get(row["batch__status"], row["batch__status"]),
            "batch_created_at": row["batch__created_at"],
            "paid_at": row["paid_at"],
            "bank_reference": row["bank_reference"],
            "recipient": _recipient(row),
            "amount": Money(row["amount"], row["currency"]),
        }
        for row in page
    ]


# -- the monthly statement -------------------------------------------------------------------------


@dataclass
class StatementRow:
    posted_at: datetime
    kind: str
    kind_label: str
    reference: str
    tour: str
    recipient: Recipient | None
    description: str
    amount: Money  # community side: credit to the community positive

    @property
    def credit(self) -> Money | None:
        return self.amount if self.amount.amount > 0 else None

    @property
    def debit(self) -> Money | None:
        return -self.amount if self.amount.amount < 0 else None


@dataclass
class CurrencyStatement:
    currency: str
    opening: int = 0
    earned: int = 0  # split credits
    reversed: int = 0  # refund debits (negative)
    routed: int = 0  # Stripe transfers (negative)
    paid: int = 0  # bank payouts (negative)
    returned: int = 0  # transfer reversals (positive)
    other: int = 0  # corrections and anything else
    rows: list[StatementRow] = field(default_factory=list)

    @property
    def closing(self) -> int:
        return self.opening + self.movements

    @property
    def movements(self) -> int:
        return self.earned + self.reversed + self.routed + self.paid + self.returned + self.other

    def money(self, name: str) -> Money:
        value = getattr(self, name)
        return Money(value, self.currency)

    @property
    def m(self) -> dict[str, Money]:
        return {name: self.money(name) for name in (*_int_fields(self), "closing", "movements")}


@dataclass
class Statement:
    organisation: object
    year: int
    month: int
    start: datetime
    end: datetime
    currencies: list[CurrencyStatement]

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    @property
    def is_empty(self) -> bool:
        return not self.currencies


_STATEMENT_BUCKET = {
    E.SPLIT: "earned",
    E.REFUND: "reversed",
    E.TRANSFER: "routed",
    E.BANK_PAYOUT: "paid",
    E.TRANSFER_REVERSAL: "returned",
}


def statement(organisation, *, year: int, month: int) -> Statement:
    """The month's legs on the payable accounts in scope, per currency, from the ledger (3 queries).

    Opening balance = every leg before the month; closing = opening + the month's legs; each
    total is the exact sum of its legs (community side: ``-leg.amount``).
    """
    start, end = month_bounds(year, month)
    payable = JournalLeg.objects.filter(scope_q(organisation, "account__"), account__kind=LedgerAccount.Kind.PAYABLE)
    by_currency: dict[str, CurrencyStatement] = {}
    for row in payable.filter(entry__posted_at__lt=start).values("currency").annotate(total=Sum("amount")).order_by():
        by_currency[row["currency"]] = CurrencyStatement(currency=row["currency"], opening=-row["total"])
    legs = list(
        payable.filter(entry__posted_at__gte=start, entry__posted_at__lt=end)
        .values(
            "pk",
            "amount",
            "currency",
            "entry_id",
            "entry__kind",
            "entry__posted_at",
            "entry__memo",
            "entry__idempotency_key",
            "entry__booking__reference",
            "entry__booking__departure__tour__title_en",
            "entry__booking__departure__tour__title_es",
            "share__transfer__stripe_transfer_id",
            "share__basis_points",
            *_recipient_fields("account__"),
        )
        .order_by("entry__posted_at", "entry_id", "pk")
    )
    line_ids = [
        int(key.split(":", 1)[1])
        for key in {leg["entry__idempotency_key"] for leg in legs if leg["entry__kind"] == E.BANK_PAYOUT}
        if key.startswith("bank_payout:") and key.split(":", 1)[1].isdigit()
    ]
    lines = (
        {
            line["pk"]: line
            for line in PayoutLine.objects.filter(pk__in=line_ids).values("pk", "batch_id", "bank_reference")
        }
        if line_ids
        else {}
    )
    kinds = dict(JournalEntry.Kind.choices)
    for leg in legs:
        currency = leg["currency"]
        current = by_currency.setdefault(currency, CurrencyStatement(currency=currency))
        amount = -leg["amount"]
        kind = leg["entry__kind"]
        bucket = _STATEMENT_BUCKET.get(kind, "other")
        setattr(current, bucket, getattr(current, bucket) + amount)
        current.rows.append(
            StatementRow(
                posted_at=leg["entry__posted_at"],
                kind=kind,
                kind_label=str(kinds.get(kind, kind)),
                reference=leg["entry__booking__reference"] or "",
                tour=_tr(leg, "entry__booking__departure__tour__title"),
                recipient=_recipient(leg, "account__"),
                description=_describe(leg, lines),
                amount=Money(amount, currency),
            )
        )
    currencies = [by_currency[c] for c in sorted(by_currency, key=lambda c: (c != "PEN", c))]
    currencies = [c for c in currencies if c.rows or c.opening]
    return Statement(organisation=organisation, year=year, month=month, start=start, end=end, currencies=currencies)


def _describe(leg: dict, lines: dict) -> str:
    _ = translation.gettext
    kind = leg["entry__kind"]
    transfer_id = leg["share__transfer__stripe_transfer_id"] or ""
    if kind == E.SPLIT:
        points = leg["share__basis_points"]
        if points:
            percent = f"{points // 100}%" if points % 100 == 0 else f"{points / 100:g}%"
            return _("%(percent)s of the payment") % {"percent": percent}
        return _("Share of the payment")
    if kind == E.REFUND:
        return _("Refund to the traveller: the share is reduced")
    if kind == E.TRANSFER:
        return _("Stripe transfer %(id)s") % {"id": transfer_id} if transfer_id else _("Stripe transfer")
    if kind == E.TRANSFER_REVERSAL:
        return _("Stripe transfer reversal (%(id)s)") % {"id": transfer_id} if transfer_id else _("Transfer reversal")
    if kind == E.BANK_PAYOUT:
        key = leg["entry__idempotency_key"]
        line = lines.get(int(key.split(":", 1)[1])) if key.split(":", 1)[-1].isdigit() else None
        if line:
            return _("Bank transfer, reference %(ref)s (batch #%(batch)s)") % {
                "ref": line["bank_reference"],
                "batch": line["batch_id"],
            }
        return _("Bank transfer")
    return _("Correction: %(memo)s") % {"memo": leg["entry__memo"]}


def statement_months(today: date, count: int = 12) -> list[date]:
    """The last ``count`` months (newest first) for the statement picker."""
    return _months_back(today, count)[::-1]


# -- payout settings ------------------------------------------------------------------------------


def payout_requests(organisation, *, limit: int = 5) -> list[PayoutChangeRequest]:
    field_name = "cooperative_id" if isinstance(organisation, Cooperative) else "fund_id"
    return list(
        PayoutChangeRequest.objects.filter(**{field_name: organisation.pk})
        .select_related("requested_by")
        .order_by("-created_at", "-pk")[:limit]
    )


def masked_account(account_id: str) -> str:
    """``acct_••••••1234``: enough to recognise the account, not to copy it."""
    if not account_id:
        return ""
    return f"acct_••••{account_id[-4:]}" if len(account_id) > 9 else "acct_••••"


# -- invitations ----------------------------------------------------------------------------------


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a link's token opens (by its SHA-256), with its organisation; None if unknown."""
    from .portal_services import token_hash

    if not token or len(token) > 200:
        return None
    return Invitation.objects.select_related("cooperative", "fund").filter(token_hash=token_hash(token)).first()
