"""Refunds: each share is reversed in proportion; transferred shares get a Stripe transfer reversal.

The worked example of docs/ledger.md: S/ 700.00 split 105.00 / 70.00 / 35.00 / 490.00. A full
cancellation (≥ 14 days before) refunds everything; 7–13 days before, half (S/ 350.00 →
52.50 / 35.00 / 17.50 / 245.00).
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from bookings.models import Booking, BookingStatus, Payment, PaymentStatus
from cooperatives import services, tasks
from cooperatives.models import JournalEntry, PayoutBatch, PayoutLine, Share, Transfer, TransferReversal
from cooperatives.services import LedgerError
from tests.bookings.helpers import post_event
from tests.factories import DepartureFactory

from .conftest import (
    COOP_ACCOUNT,
    assert_ledger_balanced,
    balance,
    booking_equation,
    cancel,
    entries,
    ledger_snapshot,
    legs_of,
    pay_stripe,
    ready,
    share_rows,
    shares_of,
    starts_in,
)

pytestmark = pytest.mark.django_db
S = Share.Status
COOP = "Quillabamba Cacao Cooperative"
FUND = "Cloud-forest reforestation fund"
FARM = "Don Manuel's farm (Huamán family)"


@pytest.fixture
def soon(tour):
    """A departure 10 days ahead: cancelling now refunds 50%."""
    return DepartureFactory(tour=tour, starts_at=starts_in(10), capacity=10)


@pytest.fixture
def paid(client, connect, booking, django_capture_on_commit_callbacks) -> Booking:
    """Paid and routed: the cooperative's S/ 105.00 transferred, the fund's and the farm's owed."""
    pay_stripe(client, booking, connect, django_capture_on_commit_callbacks)
    return booking


@pytest.fixture
def paid_soon(client, connect, rules, soon, traveller, django_capture_on_commit_callbacks) -> Booking:
    booking = ready(soon, traveller)
    pay_stripe(client, booking, connect, django_capture_on_commit_callbacks)
    return booking


def the_transfer() -> Transfer:
    return Transfer.objects.get(status=Transfer.Status.CREATED)


def test_a_full_cancellation_reverses_every_share(paid, connect, django_capture_on_commit_callbacks):
    transfer = the_transfer()

    cancel(paid, django_capture_on_commit_callbacks)

    paid.refresh_from_db()
    payment = Payment.objects.get(booking=paid)
    assert (paid.status, payment.status, payment.amount_refunded) == (
        BookingStatus.REFUNDED,
        PaymentStatus.REFUNDED,
        70000,
    )
    [refund] = entries("refund")
    assert refund.idempotency_key == f"refund:{payment.pk}:1"
    assert legs_of(refund) == [
        ("clearing", "PEN", -70000),
        (f"payable:{COOP}", "PEN", 10500),
        (f"payable:{FUND}", "PEN", 7000),
        (f"payable:{FARM}", "PEN", 3500),
        ("revenue", "PEN", 49000),
    ]
    [request] = connect.requests_to("POST", f"/v1/transfers/{transfer.stripe_transfer_id}/reversals")
    reversal = TransferReversal.objects.get()
    assert request.idempotency_key == reversal.idempotency_key == f"reversal-{transfer.pk}-1"
    assert request.params == {"amount": 10500, "metadata": {"share_id": str(transfer.share_id)}}
    remote = connect.transfers[transfer.stripe_transfer_id]
    assert (remote["amount_reversed"], remote["reversed"]) == (10500, True)
    assert (reversal.status, reversal.amount, reversal.stripe_reversal_id) == (
        TransferReversal.Status.CREATED,
        10500,
        remote["reversals"]["data"][0]["id"],
    )
    [back] = entries("transfer_reversal")
    assert legs_of(back) == [("clearing", "PEN", 10500), (f"payable:{COOP}", "PEN", -10500)]
    assert share_rows(paid) == [
        (COOP, 10500, 10500, 0, S.REVERSED, "stripe", False),
        (FUND, 7000, 7000, 0, S.REVERSED, "bank", False),
        (FARM, 3500, 3500, 0, S.REVERSED, "bank", False),
    ]
    coop, fund, farm = (s.recipient for s in shares_of(paid))
    assert (balance(coop), balance(fund), balance(farm)) == (0, 0, 0)
    assert booking_equation(paid) == (0, 0)
    assert_ledger_balanced()


def test_a_partial_cancellation_reverses_each_share_in_proportion(
    paid_soon, connect, django_capture_on_commit_callbacks
):
    transfer = the_transfer()

    cancel(paid_soon, django_capture_on_commit_callbacks)

    payment = Payment.objects.get(booking=paid_soon)
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 35000)
    assert legs_of(entries("refund")[0]) == [
        ("clearing", "PEN", -35000),
        (f"payable:{COOP}", "PEN", 5250),
        (f"payable:{FUND}", "PEN", 3500),
        (f"payable:{FARM}", "PEN", 1750),
        ("revenue", "PEN", 24500),
    ]
    [request] = connect.requests_to("POST", "/v1/transfers/*")
    assert request.params["amount"] == 5250
    assert connect.transfers[transfer.stripe_transfer_id]["amount_reversed"] == 5250
    # the transferred share stays transferred (half of it came back); owed shares are simply reduced
    assert share_rows(paid_soon) == [
        (COOP, 10500, 5250, 0, S.TRANSFERRED, "stripe", False),
        (FUND, 7000, 3500, 0, S.OWED, "bank", False),
        (FARM, 3500, 1750, 0, S.OWED, "bank", False),
    ]
    coop, fund, farm = (s.recipient for s in shares_of(paid_soon))
    assert (balance(coop), balance(fund), balance(farm)) == (0, -3500, -1750)
    assert booking_equation(paid_soon) == (35000, 35000)
    assert_ledger_balanced()


def test_a_refund_before_routing_leaves_only_the_rest_to_transfer(
    client, connect, rules, soon, traveller, no_relay, django_capture_on_commit_callbacks
):
    booking = ready(soon, traveller)
    pay_stripe(client, booking, connect, django_capture_on_commit_callbacks)

    cancel(booking, django_capture_on_commit_callbacks)
    assert [s.status for s in shares_of(booking)] == [S.PENDING] * 3
    assert services.outbox_relay() == 3

    [post] = connect.requests_to("POST", "/v1/transfers")
    assert post.params["amount"] == 5250
    assert TransferReversal.objects.count() == 0
    assert share_rows(booking) == [
        (COOP, 10500, 5250, 0, S.TRANSFERRED, "stripe", False),
        (FUND, 7000, 3500, 0, S.OWED, "bank", False),
        (FARM, 3500, 1750, 0, S.OWED, "bank", False),
    ]
    assert balance(shares_of(booking)[0].recipient) == 0
    assert booking_equation(booking) == (35000, 35000)
    assert_ledger_balanced()


def test_a_refund_made_in_the_stripe_dashboard_is_reversed_the_same_way(
    client, paid, connect, django_capture_on_commit_callbacks
):
    payment = Payment.objects.get(booking=paid)
    connect.refund_out_of_band(payment.charge_id, 17500)

    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, connect.charge_refunded_event(payment.charge_id)).status_code == 200

    assert legs_of(entries("refund")[0]) == [
        ("clearing", "PEN", -17500),
        (f"payable:{COOP}", "PEN", 2625),
        (f"payable:{FUND}", "PEN", 1750),
        (f"payable:{FARM}", "PEN", 875),
        ("revenue", "PEN", 12250),
    ]
    assert TransferReversal.objects.get().amount == 2625
    paid.refresh_from_db()
    assert (paid.status, paid.flagged) == (BookingStatus.CONFIRMED, True)
    assert booking_equation(paid) == (52500, 52500)
    assert_ledger_balanced()


def test_a_failed_reversal_becomes_a_receivable_netted_against_the_next_share(
    client, paid_soon, connect, rules, departure, traveller, django_capture_on_commit_callbacks
):
    coop = shares_of(paid_soon)[0].cooperative
    connect.set_balance(COOP_ACCOUNT, 1000)  # the cooperative already paid its S/ 105.00 out

    cancel(paid_soon, django_capture_on_commit_callbacks)

    error = "Insufficient funds in the connected account's balance to reverse this transfer."
    reversal = TransferReversal.objects.get()
    assert (reversal.status, reversal.amount, reversal.error) == (TransferReversal.Status.FAILED, 5250, error)
    assert entries("transfer_reversal") == []
    share = shares_of(paid_soon)[0]
    assert (share.status, share.amount_reversed, share.needs_attention) == (S.TRANSFERRED, 5250, True)
    assert share.attention_reason == (
        f"Transfer reversal failed ({error}): the recipient owes S/ 52.50, netted against future shares."
    )
    assert balance(coop) == 5250  # positive: the cooperative owes us
    assert booking_equation(paid_soon) == (35000, 35000)

    # The cooperative's next share (another S/ 700.00 booking) keeps that back.
    following = ready(departure, traveller)
    pay_stripe(client, following, connect, django_capture_on_commit_callbacks)

    next_share = shares_of(following)[0]
    assert (next_share.status, next_share.amount, next_share.amount_netted) == (S.TRANSFERRED, 10500, 5250)
    transfer = next_share.transfer
    assert connect.transfers[transfer.stripe_transfer_id]["amount"] == transfer.amount == 5250
    assert legs_of(entries("transfer")[-1]) == [(f"payable:{COOP}", "PEN", 5250), ("clearing", "PEN", -5250)]
    assert balance(coop) == 0
    assert booking_equation(following) == (70000, 70000)
    assert_ledger_balanced()


def test_a_receivable_larger_than_the_next_share_nets_all_of_it(
    client, paid, connect, rules, soon, traveller, django_capture_on_commit_callbacks
):
    coop = shares_of(paid)[0].cooperative
    connect.set_balance(COOP_ACCOUNT, 0)
    cancel(paid, django_capture_on_commit_callbacks)  # full refund: the S/ 105.00 reversal fails
    assert balance(coop) == 10500

    following = ready(soon, traveller, adults=1)  # S/ 350.00: the cooperative's share is 52.50
    pay_stripe(client, following, connect, django_capture_on_commit_callbacks)

    share = shares_of(following)[0]
    assert (share.status, share.rail, share.amount, share.amount_netted) == (S.TRANSFERRED, "stripe", 5250, 5250)
    assert not Transfer.objects.filter(share=share).exists()
    assert len(connect.transfers) == 1  # only the first booking's
    assert balance(coop) == 10500 - 5250
    assert_ledger_balanced()


def test_a_refund_after_a_bank_payout_leaves_a_receivable(paid_soon, staff_user, django_capture_on_commit_callbacks):
    _, fund_share, farm_share = shares_of(paid_soon)
    batch = services.payout_batch_create(currency="PEN", actor=staff_user)
    for line in batch.lines.all():
        services.payout_line_mark_paid(line_id=line.pk, bank_reference=f"BCP-{line.pk}", actor=staff_user)

    cancel(paid_soon, django_capture_on_commit_callbacks)

    assert share_rows(paid_soon)[1:] == [
        (FUND, 7000, 3500, 0, S.PAID, "bank", False),
        (FARM, 3500, 1750, 0, S.PAID, "bank", False),
    ]
    assert (balance(fund_share.fund), balance(farm_share.farm)) == (3500, 1750)  # they owe us
    assert booking_equation(paid_soon) == (35000, 35000)
    assert_ledger_balanced()


def test_a_bank_recipients_receivable_is_netted_in_its_next_batch_line(
    client, paid_soon, connect, rules, departure, traveller, staff_user, django_capture_on_commit_callbacks
):
    fund = shares_of(paid_soon)[1].fund
    first = services.payout_batch_create(currency="PEN", actor=staff_user)
    for line in first.lines.all():
        services.payout_line_mark_paid(line_id=line.pk, bank_reference=f"BCP-{line.pk}")
    cancel(paid_soon, django_capture_on_commit_callbacks)
    assert balance(fund) == 3500
    pay_stripe(client, ready(departure, traveller), connect, django_capture_on_commit_callbacks)

    second = services.payout_batch_create(currency="PEN", actor=staff_user)

    assert sorted(second.lines.values_list("bank_account_holder", "amount")) == [
        ("Asociación Fondo de Reforestación", 7000 - 3500),  # the receivable is kept back
        ("Manuel Huamán Quispe", 3500 - 1750),
    ]
    for line in second.lines.all():
        services.payout_line_mark_paid(line_id=line.pk, bank_reference=f"BCP-{line.pk}")
    assert (balance(fund), balance(shares_of(paid_soon)[2].farm)) == (0, 0)
    assert_ledger_balanced()


# -- refused refunds ---------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, -100])
def test_a_refund_of_nothing_changes_nothing(paid, amount):
    before = ledger_snapshot()

    assert (
        services.shares_reverse_on_refund(payment=Payment.objects.get(booking=paid), amount=amount, reason="x") is None
    )

    assert ledger_snapshot() == before


def test_a_refund_above_what_remains_is_refused_and_changes_nothing(
    paid_soon, connect, django_capture_on_commit_callbacks
):
    payment = Payment.objects.get(booking=paid_soon)
    before = ledger_snapshot()
    with pytest.raises(LedgerError, match="more than what remains of the payment"):
        services.shares_reverse_on_refund(payment=payment, amount=70001, reason="too much")
    assert ledger_snapshot() == before

    cancel(paid_soon, django_capture_on_commit_callbacks)  # S/ 350.00 refunded, 350.00 remain
    before = ledger_snapshot()
    with pytest.raises(LedgerError, match="more than what remains of the payment"):
        services.shares_reverse_on_refund(payment=payment, amount=35001, reason="too much")
    assert ledger_snapshot() == before

    # exactly what remains is accepted, and reverses every part to zero
    services.shares_reverse_on_refund(payment=payment, amount=35000, reason="the rest")
    assert [s.remaining for s in shares_of(paid_soon)] == [0, 0, 0]
    assert JournalEntry.objects.filter(kind="refund").count() == 2
    assert legs_of(entries("refund")[1])[-1] == ("revenue", "PEN", 24500)
    assert_ledger_balanced()


def test_every_entry_sums_to_zero_after_payouts_refunds_and_reversals(
    paid_soon, connect, staff_user, django_capture_on_commit_callbacks
):
    batch = services.payout_batch_create(currency="PEN", actor=staff_user)
    line = batch.lines.order_by("id").first()
    services.payout_line_mark_paid(line_id=line.pk, bank_reference="BCP-1")
    cancel(paid_soon, django_capture_on_commit_callbacks)

    assert sorted({e.kind for e in entries()}) == [
        "bank_payout",
        "fee",
        "refund",
        "split",
        "transfer",
        "transfer_reversal",
    ]
    assert_ledger_balanced()
    assert PayoutBatch.objects.count() == 1 and PayoutLine.objects.count() == 2
    run = services.reconcile()
    assert run.issue_count == 0


# -- reversals on their way (found by the Redis fault benchmark, bench/faults.py) ------------------------


@pytest.fixture
def reversal_on_its_way(paid, monkeypatch, django_capture_on_commit_callbacks) -> TransferReversal:
    """The booking is cancelled; the cooperative's transfer reversal is queued but not made yet."""
    with monkeypatch.context() as patch:
        patch.setattr(tasks.transfer_reversal_task, "delay", lambda reversal_id: None)
        cancel(paid, django_capture_on_commit_callbacks)
    reversal = TransferReversal.objects.get()
    assert (reversal.status, reversal.amount) == (TransferReversal.Status.STARTED, 10500)
    return reversal


def test_a_share_routed_while_a_reversal_is_on_its_way_is_not_netted_against_it(
    client, paid, reversal_on_its_way, connect, departure, traveller, django_capture_on_commit_callbacks
):
    """The refund's receivable is the reversal's to recover: netting it too would recover it twice."""
    coop = shares_of(paid)[0].cooperative
    assert balance(coop) == 10500  # the cooperative owes the refunded S/ 105.00 until the reversal is made

    following = ready(departure, traveller)
    pay_stripe(client, following, connect, django_capture_on_commit_callbacks)

    next_share = shares_of(following)[0]
    assert (next_share.status, next_share.amount, next_share.amount_netted) == (S.TRANSFERRED, 10500, 0)
    assert connect.transfers[next_share.transfer.stripe_transfer_id]["amount"] == 10500
    assert balance(coop) == 10500

    tasks.transfer_reversal_task.delay(reversal_on_its_way.pk)  # the reversal arrives

    reversal_on_its_way.refresh_from_db()
    assert reversal_on_its_way.status == TransferReversal.Status.CREATED
    assert balance(coop) == 0
    # At Stripe the cooperative keeps S/ 105.00: the share of the booking that was not cancelled.
    assert sorted((t["amount"], t["amount_reversed"]) for t in connect.transfers.values()) == [
        (10500, 0),
        (10500, 10500),
    ]
    assert shares_of(paid)[0].status == S.REVERSED
    assert booking_equation(following) == (70000, 70000)
    assert_ledger_balanced()


def test_a_failed_reversal_is_netted_even_while_another_is_on_its_way(
    client, paid, reversal_on_its_way, connect, departure, traveller, django_capture_on_commit_callbacks
):
    """Only the reversals still on their way are left out: what the recipient owes otherwise is netted."""
    coop = shares_of(paid)[0].cooperative
    TransferReversal.objects.filter(pk=reversal_on_its_way.pk).update(status=TransferReversal.Status.FAILED)

    following = ready(departure, traveller)
    pay_stripe(client, following, connect, django_capture_on_commit_callbacks)

    next_share = shares_of(following)[0]
    assert (next_share.status, next_share.amount_netted) == (S.TRANSFERRED, 10500)
    assert len(connect.transfers) == 1
    assert balance(coop) == 0
    assert_ledger_balanced()


def test_a_reversal_whose_task_was_lost_is_made_by_the_routing_sweep(paid, reversal_on_its_way, connect):
    nothing = {"relayed": 0, "requeued": 0, "reversals_requeued": 0}
    assert tasks.routing_sweep.delay().get() == nothing  # it may still be queued

    with freeze_time(timezone.now() + timedelta(minutes=11), tick=True):
        assert tasks.routing_sweep.delay().get() == {**nothing, "reversals_requeued": 1}

    reversal_on_its_way.refresh_from_db()
    [stripe_transfer] = connect.transfers.values()
    assert reversal_on_its_way.status == TransferReversal.Status.CREATED
    assert [r["id"] for r in stripe_transfer["reversals"]["data"]] == [reversal_on_its_way.stripe_reversal_id]
    assert (stripe_transfer["amount"], stripe_transfer["amount_reversed"]) == (10500, 10500)
    assert shares_of(paid)[0].status == S.REVERSED
    assert balance(shares_of(paid)[0].cooperative) == 0
    with freeze_time(timezone.now() + timedelta(minutes=30), tick=True):
        assert tasks.routing_sweep.delay().get() == nothing
    assert_ledger_balanced()
