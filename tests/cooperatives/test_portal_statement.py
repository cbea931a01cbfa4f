"""The monthly statement is the ledger: totals equal the legs to the cent; and its CSV export.

The fixture month is March 2026 (Lima). February: one S/ 700.00 booking (coop transferred,
fund and farm owed). March: a second booking paid, a bank payout batch paid, the second booking
cancelled 10 days before departure (a 50 % refund: each share reduced, the coop's transfer partly
reversed), and a third booking paid at 23:30 on 31 March (Lima) — 04:30 UTC on 1 April, still
March. April: a fourth booking, outside the statement.
"""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Sum
from freezegun import freeze_time

from cooperatives import portal_selectors as selectors
from cooperatives import services
from cooperatives.models import JournalEntry, JournalLeg, LedgerAccount
from tests.factories import DepartureFactory

from . import test_portal_fixtures as shared
from .conftest import cancel, pay_simulated, ready
from .test_portal_fixtures import es

pytestmark = pytest.mark.django_db

# fixtures shared by the portal tests
leader = shared.leader
leader_client = shared.leader_client
LIMA = ZoneInfo("America/Lima")
E = JournalEntry.Kind


def lima(*args) -> datetime:
    return datetime(*args, tzinfo=LIMA)


@pytest.fixture
def march(rules, tour, traveller, staff_user, django_capture_on_commit_callbacks):
    """The bookings of February–April 2026 described in the module docstring."""
    capture = django_capture_on_commit_callbacks
    late_march = DepartureFactory(tour=tour, starts_at=lima(2026, 3, 25, 8), capacity=20)
    april = DepartureFactory(tour=tour, starts_at=lima(2026, 4, 20, 8), capacity=20)
    with freeze_time(lima(2026, 2, 10, 12)):
        first = ready(late_march, traveller)
        pay_simulated(first, capture)
    with freeze_time(lima(2026, 3, 3, 9)):
        second = ready(late_march, traveller)
        pay_simulated(second, capture)
    with freeze_time(lima(2026, 3, 10, 16)):
        batch = services.payout_batch_create(currency="PEN", actor=staff_user)
        services.payout_batch_mark_exported(batch=batch, actor=staff_user)
        for number, line in enumerate(batch.lines.order_by("id"), start=1):
            services.payout_line_mark_paid(line_id=line.pk, bank_reference=f"BCP-0310-{number}", actor=staff_user)
    with freeze_time(lima(2026, 3, 15, 10)):
        cancel(second, capture)
    with freeze_time(lima(2026, 3, 31, 23, 30)):
        third = ready(april, traveller)
        pay_simulated(third, capture)
    with freeze_time(lima(2026, 4, 1, 0, 30)):
        fourth = ready(april, traveller)
        pay_simulated(fourth, capture)
    return {"first": first, "second": second, "third": third, "fourth": fourth, "batch": batch}


def ledger_sum(organisation, start, end=None, kinds=None) -> int:
    """Community-side sum of the payable legs in scope (an independent query, per kind)."""
    legs = JournalLeg.objects.filter(
        selectors.scope_q(organisation, "account__"), account__kind=LedgerAccount.Kind.PAYABLE, currency="PEN"
    )
    legs = legs.filter(entry__posted_at__gte=start) if start else legs
    legs = legs.filter(entry__posted_at__lt=end) if end else legs
    legs = legs.filter(entry__kind__in=kinds) if kinds else legs
    return -(legs.aggregate(t=Sum("amount"))["t"] or 0)


def test_march_totals_equal_the_ledger_to_the_cent(coop, march):
    start, end = lima(2026, 3, 1), lima(2026, 4, 1)

    statement = selectors.statement(coop, year=2026, month=3)

    [pen] = statement.currencies
    assert (statement.start, statement.end) == (start, end)
    assert pen.opening == ledger_sum(coop, None, start) == 10500  # February: fund 70.00 + farm 35.00 owed
    assert pen.earned == ledger_sum(coop, start, end, [E.SPLIT]) == 42000  # two bookings × 210.00
    assert pen.reversed == ledger_sum(coop, start, end, [E.REFUND]) == -10500  # 52.50 + 35.00 + 17.50
    assert pen.routed == ledger_sum(coop, start, end, [E.TRANSFER]) == -21000  # two transfers of 105.00
    assert pen.returned == ledger_sum(coop, start, end, [E.TRANSFER_REVERSAL]) == 5250
    assert pen.paid == ledger_sum(coop, start, end, [E.BANK_PAYOUT]) == -21000  # fund 140.00, farm 70.00
    assert pen.other == 0
    assert pen.closing == ledger_sum(coop, None, end) == 5250  # fund 35.00 + farm 17.50 still owed
    assert pen.closing == pen.opening + sum(row.amount.amount for row in pen.rows)
    legs_in_month = JournalLeg.objects.filter(
        selectors.scope_q(coop, "account__"),
        account__kind=LedgerAccount.Kind.PAYABLE,
        entry__posted_at__gte=start,
        entry__posted_at__lt=end,
    )
    assert len(pen.rows) == legs_in_month.count() == 3 + 1 + 2 + 3 + 1 + 3 + 1
    # the 23:30 Lima payment of 31 March (04:30 UTC on 1 April) is March's; the 00:30 one is April's
    third, fourth = march["third"].reference, march["fourth"].reference
    assert {row.reference for row in pen.rows if row.kind == E.SPLIT} == {march["second"].reference, third}
    assert fourth not in {row.reference for row in pen.rows}


def test_rows_say_what_each_movement_is(coop, march):
    [pen] = selectors.statement(coop, year=2026, month=3).currencies

    kinds = [(row.kind, row.recipient.kind, row.amount.amount) for row in pen.rows]
    assert kinds[:4] == [
        (E.SPLIT, "cooperative", 10500),
        (E.SPLIT, "fund", 7000),
        (E.SPLIT, "farm", 3500),
        (E.TRANSFER, "cooperative", -10500),
    ]
    assert [row.description for row in pen.rows[:3]] == [
        "15% of the payment",
        "10% of the payment",
        "5% of the payment",
    ]
    bank = [row for row in pen.rows if row.kind == E.BANK_PAYOUT]
    assert [(row.recipient.kind, row.amount.amount) for row in bank] == [("fund", -14000), ("farm", -7000)]
    assert all("BCP-0310-" in row.description for row in bank)
    [returned] = [row for row in pen.rows if row.kind == E.TRANSFER_REVERSAL]
    assert returned.description.startswith("Stripe transfer reversal (tr_sim_")
    assert all(row.tour == "Quillabamba Cacao Day" for row in pen.rows if row.reference)


def test_the_fund_statement_holds_only_the_fund(fund, march):
    [pen] = selectors.statement(fund, year=2026, month=3).currencies

    assert {row.recipient.kind for row in pen.rows} == {"fund"}
    assert (pen.opening, pen.earned, pen.reversed, pen.paid, pen.closing) == (7000, 14000, -3500, -14000, 3500)


def test_the_statement_page_prints_the_totals(leader_client, coop, march):
    response = leader_client.get(es("statement", kind="c", pk=coop.pk, period="2026-03"))

    html = response.content.decode()
    assert response.status_code == 200
    for amount in ("S/ 105.00", "S/ 420.00", "-S/ 105.00", "-S/ 210.00", "S/ 52.50"):
        assert amount in html
    assert 'href="/static/css/portal-print.css" media="print"' in html
    assert "data-print hidden" in html  # the print button, shown by static/js/portal.js
    assert "<script>" not in html and "onclick" not in html
    assert march["fourth"].reference not in html


def test_an_empty_month_says_so(leader_client, coop, march):
    response = leader_client.get(es("statement", kind="c", pk=coop.pk, period="2026-01"))

    assert response.status_code == 200
    assert selectors.statement(coop, year=2026, month=1).is_empty


def test_the_statement_picker_goes_to_the_month(leader_client, coop):
    url = es("statement_current", kind="c", pk=coop.pk)

    assert leader_client.get(url, {"mes": "2026-03"})["Location"] == es(
        "statement", kind="c", pk=coop.pk, period="2026-03"
    )
    today = selectors.lima_today()
    this_month = es("statement", kind="c", pk=coop.pk, period=f"{today.year:04d}-{today.month:02d}")
    assert leader_client.get(url)["Location"] == this_month
    assert leader_client.get(url, {"mes": "marzo"})["Location"] == this_month


# -- CSV ----------------------------------------------------------------------------------------------


def _csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_csv_has_the_same_rows_and_totals(leader_client, coop, march):
    response = leader_client.get(es("statement_csv", kind="c", pk=coop.pk, period="2026-03"))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="' in response["Content-Disposition"] and "2026-03.csv" in response["Content-Disposition"]
    rows = _csv(response)
    header, opening, *movements, closing = rows
    assert len(header) == 9
    assert opening[7:] == ["105.00", ""]
    assert closing[7:] == ["52.50", ""]
    [pen] = selectors.statement(coop, year=2026, month=3).currencies
    assert len(movements) == len(pen.rows)
    credits = sum(int(row[7].replace(".", "")) for row in movements if row[7])
    debits = sum(int(row[8].replace(".", "")) for row in movements if row[8])
    assert credits - debits == pen.movements == pen.closing - pen.opening
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_csv_cells_that_look_like_formulas_are_neutralised(leader_client, coop, farm, tour, march):
    farm.name_en = farm.name_es = '=HYPERLINK("http://evil.example","click")'
    farm.save(update_fields=["name_en", "name_es"])
    tour.title_en = tour.title_es = "@SUM(A1:A9)"
    tour.save(update_fields=["title_en", "title_es"])

    rows = _csv(leader_client.get(es("statement_csv", kind="c", pk=coop.pk, period="2026-03")))

    farm_rows = [row for row in rows if "HYPERLINK" in row[4]]
    assert farm_rows and all(row[4] == '\'=HYPERLINK("http://evil.example","click")' for row in farm_rows)
    assert {row[3] for row in rows[1:] if row[2]} == {"'@SUM(A1:A9)"}
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
