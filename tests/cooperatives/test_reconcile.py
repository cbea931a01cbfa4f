"""Reconciliation: the ledger against Stripe's transfers, the booking equation, the zero-sum invariant."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from freezegun import freeze_time

from cooperatives import services, tasks
from cooperatives.models import JournalEntry, JournalLeg, ReconciliationIssue, ReconciliationRun, Share, Transfer

from .conftest import COOP_ACCOUNT, pay_stripe, shares_of

pytestmark = pytest.mark.django_db
KIND = ReconciliationIssue.Kind


@pytest.fixture
def paid(client, connect, booking, django_capture_on_commit_callbacks):
    pay_stripe(client, booking, connect, django_capture_on_commit_callbacks)
    return booking


def issues(run) -> list[tuple]:
    return list(run.issues.order_by("id").values_list("kind", "booking_id", "detail"))


def test_a_clean_ledger_has_no_issue(paid, connect):
    [payment] = paid.payments.all()
    charge_lookups = len(connect.requests_to("GET", f"/v1/charges/{payment.charge_id}"))

    run = services.reconcile()

    assert (run.bookings_checked, run.issue_count, issues(run)) == (1, 0, [])
    assert run.finished_at is not None
    [lookup] = connect.requests_to("GET", "/v1/transfers")
    assert lookup.params == {"transfer_group": paid.reference, "limit": 100}
    # the charge again, for its balance transaction's fee
    assert len(connect.requests_to("GET", f"/v1/charges/{payment.charge_id}")) == charge_lookups + 1
    assert tasks.ledger_reconcile.delay().get() == 0


def test_a_transfer_missing_at_stripe(paid, connect):
    transfer = Transfer.objects.get()
    connect.forget_transfer(transfer.stripe_transfer_id)

    run = services.reconcile()

    assert issues(run) == [(KIND.MISSING_AT_STRIPE, paid.pk, f"{transfer.stripe_transfer_id} (S/ 105.00)")]
    assert run.issue_count == 1


def test_a_transfer_at_stripe_missing_in_the_ledger(paid, connect):
    stray = connect.add_stray_transfer(destination=COOP_ACCOUNT, amount=500, transfer_group=paid.reference)

    run = services.reconcile()

    assert issues(run) == [(KIND.MISSING_IN_LEDGER, paid.pk, f"{stray['id']} (500 PEN)")]


def test_a_transfer_whose_amount_differs_at_stripe(paid, connect):
    transfer = Transfer.objects.get()
    connect.transfers[transfer.stripe_transfer_id]["amount"] = 10400

    run = services.reconcile()

    assert issues(run) == [
        (
            KIND.AMOUNT_MISMATCH,
            paid.pk,
            f"{transfer.stripe_transfer_id}: ledger 10500 → {COOP_ACCOUNT}, Stripe 10400 → {COOP_ACCOUNT}",
        )
    ]


def test_a_broken_booking_equation(paid):
    fund_share = shares_of(paid)[1]
    Share.objects.filter(pk=fund_share.pk).update(amount_reversed=100)  # changed around the services

    run = services.reconcile()

    assert issues(run) == [
        (KIND.BOOKING_EQUATION, paid.pk, "shares 20900 + revenue 49000 != captured − refunded 70000")
    ]


def test_an_unbalanced_entry(paid):
    with transaction.atomic():  # rolled back: PostgreSQL would refuse to commit it
        entry = JournalEntry.objects.create(kind="correction", memo="around journal_post", idempotency_key="raw:1")
        leg = JournalLeg.objects.filter(entry__kind="split").select_related("account").first()
        JournalLeg.objects.create(entry=entry, account=leg.account, amount=1, currency="PEN")

        run = services.reconcile()

        assert issues(run) == [(KIND.UNBALANCED_ENTRY, None, f"journal entry #{entry.pk}")]
        transaction.set_rollback(True)


def test_every_issue_found_in_one_run(paid, connect):
    transfer = Transfer.objects.get()
    connect.forget_transfer(transfer.stripe_transfer_id)
    stray = connect.add_stray_transfer(destination=COOP_ACCOUNT, amount=10500, transfer_group=paid.reference)
    Share.objects.filter(pk=shares_of(paid)[2].pk).update(amount_reversed=3500)

    run = services.reconcile()

    assert sorted(kind for kind, _, _ in issues(run)) == [
        KIND.BOOKING_EQUATION,
        KIND.MISSING_AT_STRIPE,
        KIND.MISSING_IN_LEDGER,
    ]
    assert {detail for _, _, detail in issues(run)} >= {
        f"{transfer.stripe_transfer_id} (S/ 105.00)",
        f"{stray['id']} (10500 PEN)",
    }


def test_a_reversal_the_ledger_does_not_know_of(paid, connect):
    transfer = Transfer.objects.get()
    connect.transfers[transfer.stripe_transfer_id]["amount_reversed"] = 2500  # reversed in the dashboard

    run = services.reconcile()

    assert issues(run) == [
        (KIND.REVERSAL_MISMATCH, paid.pk, f"{transfer.stripe_transfer_id}: ledger reversed 0, Stripe reversed 2500")
    ]


def test_a_fee_that_differs_from_the_balance_transaction(paid, connect):
    [payment] = paid.payments.all()
    [txn] = connect.balance_transactions.values()
    txn["fee"] = 2700  # Stripe adjusted the fee after we booked 2620

    run = services.reconcile()

    assert issues(run) == [
        (KIND.FEE_MISMATCH, paid.pk, f"{payment.charge_id}: ledger fee 2620, balance transaction fee 2700")
    ]


def test_the_daily_run_looks_only_at_bookings_whose_ledger_moved_recently(paid, connect, settings):
    def checked_by_the_last_run() -> int:
        return ReconciliationRun.objects.order_by("-pk").first().bookings_checked

    settings.LEDGER_RECONCILE_DAYS = 35
    with freeze_time(timezone.now() + timedelta(days=36)):
        assert tasks.ledger_reconcile.delay().get() == 0
        assert checked_by_the_last_run() == 0
        assert tasks.ledger_reconcile.delay(days=0).get() == 0  # all of them
        assert checked_by_the_last_run() == 1
    with freeze_time(timezone.now() + timedelta(days=34)):
        assert tasks.ledger_reconcile.delay().get() == 0
        assert checked_by_the_last_run() == 1
