"""Reconciliation: the ledger against Stripe's transfers, the booking equation, the zero-sum invariant."""

import pytest
from django.db import transaction

from cooperatives import services, tasks
from cooperatives.models import JournalEntry, JournalLeg, ReconciliationIssue, Share, Transfer

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
    run = services.reconcile()

    assert (run.bookings_checked, run.issue_count, issues(run)) == (1, 0, [])
    assert run.finished_at is not None
    [lookup] = connect.requests_to("GET", "/v1/transfers")
    assert lookup.params == {"transfer_group": paid.reference, "limit": 100}
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
