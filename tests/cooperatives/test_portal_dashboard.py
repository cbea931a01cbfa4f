"""The dashboard: figures per currency from the ledger, and a constant number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time

from cooperatives import portal_selectors as selectors
from cooperatives import services
from cooperatives.models import JournalEntry, JournalLeg, LedgerAccount, PayoutBatch, Share
from tests.factories import TourFactory

from . import test_portal_fixtures as shared
from .conftest import pay_simulated, ready
from .test_portal_fixtures import es

pytestmark = pytest.mark.django_db

# fixtures shared by the portal tests
leader = shared.leader
leader_client = shared.leader_client
paid_booking = shared.paid_booking
MAX_QUERIES = 10


def _pen(data) -> selectors.CurrencySummary:
    [pen] = [c for c in data.currencies if c.currency == "PEN"]
    return pen


def test_the_figures_of_a_paid_booking(coop, fund, farm, paid_booking):
    data = selectors.dashboard(coop)

    pen = _pen(data)
    assert (pen.earned_month, pen.earned_year, pen.earned_total) == (21000, 21000, 21000)
    assert (pen.routed_stripe, pen.paid_bank, pen.reversed, pen.other) == (10500, 0, 0, 0)
    assert pen.balance == 7000 + 3500  # the fund's and the farm's shares wait for the bank
    assert [(r.recipient.kind, r.earned, r.paid, r.balance) for r in data.recipients] == [
        ("cooperative", 10500, 10500, 0),
        ("fund", 7000, 0, 7000),
        ("farm", 3500, 0, 3500),
    ]
    assert [(t.title, t.bookings, t.net.amount) for t in data.tours] == [("Quillabamba Cacao Day", 1, 21000)]
    assert (data.travellers_hosted, data.travellers_upcoming, data.bookings) == (0, 2, 1)
    assert data.next_payouts == []
    assert [m.format() for m in data.waiting()] == ["S/ 105.00"]
    [chart] = data.charts
    assert chart.bars[-1].amount.amount == 21000 and chart.bars[-1].is_current
    assert sum(bar.amount.amount for bar in chart.bars[:-1]) == 0
    # a fund sees its own share only
    assert [(c.currency, c.earned_total, c.balance) for c in selectors.dashboard(fund).currencies] == [
        ("PEN", 7000, 7000)
    ]


def test_pen_and_usd_are_never_added(coop, rules, traveller, django_capture_on_commit_callbacks, paid_booking):
    from tests.factories import DepartureFactory, ShareRuleFactory

    usd_tour = TourFactory(currency="USD", adult_price=9000, child_price=None)
    ShareRuleFactory(tour=usd_tour, cooperative=coop, basis_points=1000)
    booking = ready(DepartureFactory(tour=usd_tour, starts_at=timezone.now() + timedelta(days=40)), traveller)
    pay_simulated(booking, django_capture_on_commit_callbacks)

    data = selectors.dashboard(coop)

    assert [(c.currency, c.earned_total) for c in data.currencies] == [("PEN", 21000), ("USD", 1800)]
    assert [chart.currency for chart in data.charts] == ["PEN", "USD"]


def test_the_next_batch_is_shown(coop, paid_booking, staff_user):
    batch = services.payout_batch_create(currency="PEN", actor=staff_user)

    data = selectors.dashboard(coop)

    assert [(p.batch_id, p.batch_status, p.recipient.kind, p.amount.amount) for p in data.next_payouts] == [
        (batch.pk, PayoutBatch.Status.DRAFT, "fund", 7000),
        (batch.pk, PayoutBatch.Status.DRAFT, "farm", 3500),
    ]
    assert data.waiting() == []


def test_the_dashboard_page_in_spanish(leader_client, coop, paid_booking):
    response = leader_client.get(es("dashboard", kind="c", pk=coop.pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="es">' in html
    assert "S/ 105.00" in html  # owed
    assert '<svg class="chart__svg" role="img"' in html
    assert '<title id="chart-PEN-title">' in html and '<desc id="chart-PEN-desc">' in html
    assert '<table class="visually-hidden">' in html  # the chart's text alternative


# -- a constant number of queries ------------------------------------------------------------------


def _bulk_ledger(coop, fund, farm, booking, *, entries: int) -> None:
    """``entries`` split-like entries (2 legs each) and as many shares, spread over 12 months."""
    payment = booking.payments.first()
    recipients = [("cooperative", coop), ("fund", fund), ("farm", farm)]
    payables = [services.ledger_account(kind="payable", currency="PEN", recipient=r) for _, r in recipients]
    clearing = services.ledger_account(kind="clearing", currency="PEN")
    per_month = entries // 12
    for month in range(12):
        with freeze_time(timezone.now() - timedelta(days=30 * month)):
            shares = Share.objects.bulk_create(
                Share(
                    booking=booking,
                    payment=payment,
                    key=f"bulk:{month}:{i}",
                    basis_points=100,
                    currency="PEN",
                    amount=100 + i,
                    status=Share.Status.OWED,
                    **{recipients[i % 3][0]: recipients[i % 3][1]},
                )
                for i in range(per_month)
            )
            posted = JournalEntry.objects.bulk_create(
                JournalEntry(
                    kind=JournalEntry.Kind.SPLIT, booking=booking, memo="bulk", idempotency_key=f"bulk:{month}:{i}"
                )
                for i in range(per_month)
            )
            legs = []
            for i, (entry, share) in enumerate(zip(posted, shares, strict=True)):
                legs.append(
                    JournalLeg(entry=entry, account=payables[i % 3], amount=-share.amount, currency="PEN", share=share)
                )
                legs.append(JournalLeg(entry=entry, account=clearing, amount=share.amount, currency="PEN"))
            JournalLeg.objects.bulk_create(legs)


def _dashboard_queries(client, url) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), [q["sql"] for q in queries.captured_queries]


def test_the_dashboard_costs_the_same_queries_for_10_or_2000_ledger_rows(leader_client, coop, fund, farm, paid_booking):
    url = es("dashboard", kind="c", pk=coop.pk)
    assert JournalLeg.objects.filter(account__kind=LedgerAccount.Kind.PAYABLE).count() < 10
    small, _ = _dashboard_queries(leader_client, url)

    _bulk_ledger(coop, fund, farm, paid_booking, entries=1200)
    assert JournalLeg.objects.count() > 2400
    large, large_sql = _dashboard_queries(leader_client, url)

    assert small == large <= MAX_QUERIES, "\n".join(large_sql)
    data = selectors.dashboard(coop)
    assert _pen(data).earned_total == 21000 + sum(100 + i for i in range(100)) * 12
    assert sum(bar.amount.amount for bar in data.charts[0].bars) == _pen(data).earned_total


@pytest.mark.parametrize("page", ["entries", "payouts", "visits", "payout_settings"])
def test_the_other_pages_cost_the_same_queries_too(leader_client, coop, fund, farm, paid_booking, page):
    url = es(page, kind="c", pk=coop.pk)
    small, _ = _dashboard_queries(leader_client, url)
    _bulk_ledger(coop, fund, farm, paid_booking, entries=600)
    large, sql = _dashboard_queries(leader_client, url)

    assert small == large <= 12, "\n".join(sql)
