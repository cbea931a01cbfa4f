"""Monthly payable totals (``PayableMonth``): a trigger keeps them equal to the legs.

The leader portal's dashboard reads these totals instead of every leg (migration
cooperatives/0010, docs/ledger.md). These tests check that every way a leg is written is
counted once, in the Lima month of its entry, and that the dashboard's figures are exactly
those it computed from the legs before.
"""

import threading
from collections import defaultdict
from datetime import date, datetime

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from freezegun import freeze_time

from cooperatives import portal_selectors as selectors
from cooperatives import services
from cooperatives.models import JournalEntry, JournalLeg, LedgerAccount, PayableMonth, ReconciliationIssue
from cooperatives.services import Leg
from tests.factories import CooperativeFactory

from . import test_refunds as refunds
from .conftest import assert_ledger_balanced, cancel, ledger_snapshot

pytestmark = pytest.mark.django_db
K = LedgerAccount.Kind
E = JournalEntry.Kind
LIMA = selectors.LIMA

# the refund tests' world: paid through the fake Stripe 10 days before the departure
soon = refunds.soon
paid_soon = refunds.paid_soon


def totals() -> list[tuple[str, str, str, int, int]]:
    """(account name, currency, kind, amount, legs) of every total of the current Lima month."""
    month = selectors.lima_today().replace(day=1)
    assert set(PayableMonth.objects.values_list("month", flat=True)) <= {month}
    return list(
        PayableMonth.objects.order_by("account__name", "kind").values_list(
            "account__name", "currency", "kind", "amount", "legs"
        )
    )


def post(kind: str, key: str, *legs: tuple[LedgerAccount, int]):
    with transaction.atomic():
        return services.journal_post(
            kind=kind, memo=key, idempotency_key=key, legs=[Leg(account, amount) for account, amount in legs]
        )


@pytest.fixture
def accounts(coop, fund, farm):
    def payable(recipient, currency="PEN"):
        return services.ledger_account(kind=K.PAYABLE, currency=currency, recipient=recipient)

    return {
        "coop": payable(coop),
        "fund": payable(fund),
        "farm": payable(farm),
        "coop_usd": payable(coop, "USD"),
        "other": payable(CooperativeFactory(name_en="Another cooperative")),
        "clearing": services.ledger_account(kind=K.CLEARING, currency="PEN"),
        "clearing_usd": services.ledger_account(kind=K.CLEARING, currency="USD"),
        "bank": services.ledger_account(kind=K.BANK, currency="PEN"),
    }


# -- the totals follow the legs ---------------------------------------------------------------------


def test_every_kind_of_entry_is_added_to_its_months_total(
    paid_soon, connect, staff_user, django_capture_on_commit_callbacks
):
    batch = services.payout_batch_create(currency="PEN", actor=staff_user)
    line = batch.lines.order_by("id").first()  # the fund's S/ 70.00
    services.payout_line_mark_paid(line_id=line.pk, bank_reference="BCP-1")
    cancel(paid_soon, django_capture_on_commit_callbacks)  # 50%: each share half reversed

    assert totals() == [
        ("Cloud-forest reforestation fund", "PEN", "bank_payout", 7000, 1),
        ("Cloud-forest reforestation fund", "PEN", "refund", 3500, 1),
        ("Cloud-forest reforestation fund", "PEN", "split", -7000, 1),
        ("Don Manuel's farm (Huamán family)", "PEN", "refund", 1750, 1),
        ("Don Manuel's farm (Huamán family)", "PEN", "split", -3500, 1),
        ("Quillabamba Cacao Cooperative", "PEN", "refund", 5250, 1),
        ("Quillabamba Cacao Cooperative", "PEN", "split", -10500, 1),
        ("Quillabamba Cacao Cooperative", "PEN", "transfer", 10500, 1),
        ("Quillabamba Cacao Cooperative", "PEN", "transfer_reversal", -5250, 1),
    ]
    assert_ledger_balanced()  # includes payable_month_mismatches() == []


def test_a_leg_counts_in_the_lima_month_of_its_entry(accounts, coop):
    payable, clearing = accounts["coop"], accounts["clearing"]
    with freeze_time("2026-03-01 04:59:59"):  # 28 February, 23:59:59 in Lima
        post(E.SPLIT, "split:feb", (clearing, 1000), (payable, -1000))
    with freeze_time("2026-03-01 05:00:00"):  # 1 March, midnight in Lima
        post(E.SPLIT, "split:mar", (clearing, 300), (payable, -300))
        post(E.SPLIT, "split:mar2", (clearing, 20), (payable, -20))

    assert list(PayableMonth.objects.order_by("month").values_list("month", "kind", "amount", "legs")) == [
        (date(2026, 2, 1), "split", -1000, 1),
        (date(2026, 3, 1), "split", -320, 2),
    ]
    [pen] = selectors.dashboard(coop, now=datetime(2026, 3, 15, tzinfo=LIMA)).currencies
    assert (pen.earned_month, pen.earned_year, pen.earned_total) == (320, 1320, 1320)


def test_legs_inserted_in_bulk_are_counted_once(accounts):
    """``bulk_create`` (the benchmark, the dashboard's query-count test) goes around journal_post."""
    entries = JournalEntry.objects.bulk_create(
        JournalEntry(kind=E.SPLIT, memo="bulk", idempotency_key=f"bulk:{i}") for i in range(30)
    )
    JournalLeg.objects.bulk_create(
        [
            leg
            for i, entry in enumerate(entries)
            for leg in (
                JournalLeg(entry=entry, account=accounts["clearing"], amount=100 + i, currency="PEN"),
                JournalLeg(entry=entry, account=accounts["coop" if i % 2 else "fund"], amount=-100 - i, currency="PEN"),
            )
        ],
        batch_size=25,  # three INSERT statements
    )

    assert totals() == [
        ("Cloud-forest reforestation fund", "PEN", "split", -sum(100 + i for i in range(0, 30, 2)), 15),
        ("Quillabamba Cacao Cooperative", "PEN", "split", -sum(100 + i for i in range(1, 30, 2)), 15),
    ]
    assert services.payable_month_mismatches() == []


def test_a_rolled_back_entry_leaves_no_total(accounts):
    before = ledger_snapshot()
    with transaction.atomic():
        post(E.CORRECTION, "correction:1", (accounts["clearing"], 500), (accounts["coop"], -500))
        assert PayableMonth.objects.get().amount == -500  # visible inside the transaction
        transaction.set_rollback(True)

    assert ledger_snapshot() == before
    assert PayableMonth.objects.count() == 0


# -- the dashboard's figures are those of the legs ----------------------------------------------------


def _figures_from_legs(organisation, now: datetime) -> tuple[list, list, dict]:
    """What the dashboard computed before PayableMonth: every payable leg, joined to its entry."""
    today = selectors.lima_today(now)
    month_start, _ = selectors.month_bounds(today.year, today.month)
    year_start, _ = selectors.month_bounds(today.year, 1)
    legs = JournalLeg.objects.filter(selectors.scope_q(organisation, "account__"), account__kind=K.PAYABLE)

    def total(**conditions):
        return Sum("amount", filter=Q(**conditions), default=0)

    per_account = list(
        legs.values("account_id", "currency")
        .annotate(
            split=total(entry__kind=E.SPLIT),
            split_month=total(entry__kind=E.SPLIT, entry__posted_at__gte=month_start),
            split_year=total(entry__kind=E.SPLIT, entry__posted_at__gte=year_start),
            refund=total(entry__kind=E.REFUND),
            transfer=total(entry__kind__in=(E.TRANSFER, E.TRANSFER_REVERSAL)),
            bank=total(entry__kind=E.BANK_PAYOUT),
            balance=Sum("amount", default=0),
        )
        .order_by("currency", "account_id")
    )
    by_currency: dict[str, list[int]] = defaultdict(lambda: [0] * 7)
    for row in per_account:
        sums = by_currency[row["currency"]]
        for i, name in enumerate(("split_month", "split_year", "split", "refund", "transfer", "bank", "balance")):
            sums[i] += row[name]
    currencies = [
        (currency, -m, -y, -t, r, s, b, -bal, -bal + t + r + s + b)
        for currency, (m, y, t, r, s, b, bal) in sorted(by_currency.items(), key=lambda i: (i[0] != "PEN", i[0]))
    ]
    recipients = sorted(
        (
            row["currency"],
            row["account_id"],
            -row["split"],
            row["refund"],
            row["transfer"] + row["bank"],
            -row["balance"],
        )
        for row in per_account
    )
    first = selectors._months_back(today, 12)[0]
    chart_start, _ = selectors.month_bounds(first.year, first.month)
    months: dict = defaultdict(int)
    for row in (
        legs.filter(entry__kind=E.SPLIT, entry__posted_at__gte=chart_start)
        .annotate(month=TruncMonth("entry__posted_at", tzinfo=LIMA))
        .values("month", "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        months[(row["currency"], timezone.localtime(row["month"], LIMA).date())] -= row["total"]
    return currencies, recipients, dict(months)


def _figures_of(data: selectors.Dashboard) -> tuple[list, list, dict]:
    names = (
        "earned_month",
        "earned_year",
        "earned_total",
        "reversed",
        "routed_stripe",
        "paid_bank",
        "balance",
        "other",
    )
    currencies = [(c.currency, *(getattr(c, name) for name in names)) for c in data.currencies]
    accounts = {
        (a.recipient_kind, a.recipient_id, a.currency): a.pk for a in LedgerAccount.objects.filter(kind=K.PAYABLE)
    }
    recipients = sorted(
        (r.currency, accounts[(r.recipient.kind, r.recipient.pk, r.currency)], r.earned, r.reversed, r.paid, r.balance)
        for r in data.recipients
    )
    months = {(c.currency, bar.month): bar.amount.amount for c in data.charts for bar in c.bars if bar.amount.amount}
    return currencies, recipients, months


def test_the_dashboard_shows_exactly_the_sums_of_the_legs(accounts, coop, fund):
    a = accounts
    # a year and a half of every kind of entry, both currencies, posted on Lima's month and year edges
    moments = ["2025-06-10 15:00", "2025-12-31 23:00", "2026-01-01 04:59:59", "2026-01-01 05:00", "2026-02-14 12:00"]
    moments += ["2026-05-31 22:00", "2026-06-01 04:00", "2026-06-01 05:00:01", "2026-06-20 18:30"]
    for n, moment in enumerate(moments):
        with freeze_time(moment):
            amount = 1000 * (n + 1) + n
            post(E.SPLIT, f"split:{n}", (a["clearing"], 3 * amount), (a["coop"], -amount), (a["fund"], -2 * amount))
            post(E.SPLIT, f"split-usd:{n}", (a["clearing_usd"], amount + 7), (a["coop_usd"], -amount - 7))
            post(E.SPLIT, f"split-other:{n}", (a["clearing"], 99), (a["other"], -99))  # out of scope
            post(E.TRANSFER, f"transfer:{n}", (a["coop"], amount), (a["clearing"], -amount))
            if n % 2:
                post(E.REFUND, f"refund:{n}", (a["fund"], 250 + n), (a["farm"], 10), (a["clearing"], -260 - n))
                post(E.TRANSFER_REVERSAL, f"reversal:{n}", (a["clearing"], 125), (a["coop"], -125))
            if n % 3 == 0:
                post(E.BANK_PAYOUT, f"bank_payout:{n}", (a["fund"], 1500), (a["bank"], -1500))
                post(E.CORRECTION, f"correction:{n}", (a["farm"], -42), (a["clearing"], 42))
                post(E.FEE, f"fee:{n}", (a["coop"], 31), (a["clearing"], -31))
    now = datetime(2026, 6, 20, 19, 0, tzinfo=LIMA)

    data = selectors.dashboard(coop, now=now)

    assert _figures_of(data) == _figures_from_legs(coop, now)
    assert _figures_of(selectors.dashboard(fund, now=now)) == _figures_from_legs(fund, now)
    pen, usd = data.currencies
    # June: the splits of moments 7 and 8 (the one at 04:00 UTC on 1 June is still May in Lima)
    assert pen.earned_month == 3 * (8007 + 9008)
    # 2026: from the split at 05:00 UTC on 1 January on
    assert pen.earned_year == 3 * sum(1000 * (n + 1) + n for n in range(3, 9))
    assert usd.earned_total == sum(1000 * (n + 1) + n + 7 for n in range(9))
    assert services.payable_month_mismatches() == []


# -- guards and repair -----------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_refuses_a_leg_inserted_before_its_entry(accounts):
    """Foreign keys are checked at commit; the trigger needs the entry's kind and date at once."""
    before = ledger_snapshot()
    with (
        pytest.raises(IntegrityError, match="inserted after their entry and account"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO cooperatives_journalleg (entry_id, account_id, amount, currency) VALUES (%s, %s, %s, %s)",
            [987654, accounts["coop"].pk, -100, "PEN"],
        )

    assert ledger_snapshot() == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_concurrent_entries_on_the_same_accounts_lose_nothing(coop, fund):
    """Two threads post to the same two payables, in opposite leg orders: no lost update, no deadlock."""
    payables = [services.ledger_account(kind=K.PAYABLE, currency="PEN", recipient=r) for r in (coop, fund)]
    clearing = services.ledger_account(kind=K.CLEARING, currency="PEN")
    barrier = threading.Barrier(2)
    errors: list[str] = []

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(25):
                first, second = payables if index == 0 else payables[::-1]
                post(E.SPLIT, f"split:{index}:{i}", (clearing, 30), (first, -10), (second, -20))
        except Exception as exc:  # anything is a failure of the test
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(PayableMonth.objects.values_list("amount", "legs")) == [(-750, 50), (-750, 50)]
    assert services.payable_month_mismatches() == []


def test_reconcile_reports_a_total_that_differs_from_its_legs_and_the_rebuild_repairs_it(accounts):
    post(E.SPLIT, "split:1", (accounts["clearing"], 700), (accounts["coop"], -500), (accounts["fund"], -200))
    kept = list(PayableMonth.objects.order_by("pk").values_list("account_id", "kind", "month", "amount", "legs"))
    PayableMonth.objects.filter(account=accounts["coop"]).update(amount=F("amount") + 1)
    month = selectors.lima_today().replace(day=1)

    run = services.reconcile()

    assert list(run.issues.values_list("kind", "detail")) == [
        (
            ReconciliationIssue.Kind.PAYABLE_MONTH_MISMATCH,
            f"account #{accounts['coop'].pk} PEN split {month:%Y-%m}: total -499 over 1 legs, "
            "the legs sum to -500 over 1",
        )
    ]
    assert services.payable_months_rebuild() == 2
    assert list(
        PayableMonth.objects.order_by("account_id").values_list("account_id", "kind", "month", "amount", "legs")
    ) == sorted(kept)
    assert services.reconcile().issue_count == 0
