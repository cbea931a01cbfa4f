"""Routing shares to their recipients: Stripe transfers at the loopback server, or owed for the bank.

Celery runs eagerly here (the test settings); tests/cooperatives/test_worker.py runs a real worker.
"""

import time
from datetime import timedelta

import pytest
import stripe
from django.utils import timezone
from freezegun import freeze_time
from kombu.exceptions import OperationalError

from cacaotours.core.models import PayoutMethod
from cooperatives import services, tasks
from cooperatives.models import OutboxMessage, Share, ShareTransition, Transfer
from cooperatives.operations_selectors import transfer_queue_q
from tests.factories import CooperativeFactory, FarmFactory, ShareRuleFactory

from .conftest import (
    COOP_ACCOUNT,
    assert_ledger_balanced,
    entries,
    ledger_snapshot,
    legs_of,
    pay_simulated,
    pay_stripe,
    ready,
    share_rows,
    shares_of,
    transfer_posts,
)

pytestmark = pytest.mark.django_db
S = Share.Status
REFUSED = (
    "Your destination account needs to have at least one of the following capabilities enabled: "
    "transfers, crypto_transfers, legacy_payments"
)


@pytest.fixture
def paid(client, connect, booking, no_relay, django_capture_on_commit_callbacks):
    """Paid through Stripe (charge and fee recorded), shares still pending: the relay did not run."""
    payment, _ = pay_stripe(client, booking, connect, django_capture_on_commit_callbacks)
    assert {s.status for s in shares_of(booking)} == {S.PENDING}
    return payment


def coop_share(booking) -> Share:
    return shares_of(booking)[0]


def test_a_connect_recipient_gets_exactly_one_transfer(client, connect, booking, django_capture_on_commit_callbacks):
    payment, _ = pay_stripe(client, booking, connect, django_capture_on_commit_callbacks)

    share = coop_share(booking)
    [request] = transfer_posts(connect)
    assert request.idempotency_key == f"share-transfer-{share.pk}"
    assert request.params == {
        "amount": 10500,
        "currency": "pen",
        "destination": COOP_ACCOUNT,
        "transfer_group": booking.reference,
        "source_transaction": payment.charge_id,
        "metadata": {"share_id": str(share.pk), "booking": booking.reference},
    }
    [remote] = connect.transfers.values()
    assert (remote["amount"], remote["currency"], remote["destination"], remote["transfer_group"]) == (
        10500,
        "pen",
        COOP_ACCOUNT,
        booking.reference,
    )
    assert remote["source_transaction"] == payment.charge_id == next(iter(connect.charges))
    transfer = Transfer.objects.get()
    assert (transfer.share_id, transfer.amount, transfer.currency, transfer.destination) == (
        share.pk,
        10500,
        "PEN",
        COOP_ACCOUNT,
    )
    assert (transfer.status, transfer.stripe_transfer_id, transfer.idempotency_key) == (
        Transfer.Status.CREATED,
        remote["id"],
        f"share-transfer-{share.pk}",
    )
    assert (share.status, share.rail, share.needs_attention) == (S.TRANSFERRED, "stripe", False)
    assert list(share.transitions.values_list("from_status", "to_status", "reason")) == [
        ("", S.PENDING, "split"),
        (S.PENDING, S.TRANSFERRED, f"Stripe transfer {remote['id']}"),
    ]
    [entry] = entries("transfer")
    assert (entry.idempotency_key, entry.booking_id) == (f"transfer:{share.pk}", booking.pk)
    assert legs_of(entry) == [("payable:Quillabamba Cacao Cooperative", "PEN", 10500), ("clearing", "PEN", -10500)]
    assert services.payable_balance(recipient=share.cooperative, currency="PEN") == 0
    assert_ledger_balanced()


def test_routing_again_changes_nothing(client, connect, booking, django_capture_on_commit_callbacks):
    pay_stripe(client, booking, connect, django_capture_on_commit_callbacks)
    before = ledger_snapshot()
    requests_before = len(connect.requests)

    for share in shares_of(booking):
        tasks.share_route_task.delay(share.pk)

    assert ledger_snapshot() == before
    assert len(connect.requests) == requests_before


def test_bank_recipients_become_owed_and_recipients_without_a_method_are_flagged(
    tour, coop, fund, departure, traveller, django_capture_on_commit_callbacks
):
    nothing_yet = FarmFactory(name_en="Señora Rosa's farm", payout_method=PayoutMethod.NONE)
    ShareRuleFactory(tour=tour, cooperative=None, fund=fund, basis_points=1000)
    ShareRuleFactory(tour=tour, cooperative=None, farm=nothing_yet, basis_points=500)
    booking = ready(departure, traveller)

    pay_simulated(booking, django_capture_on_commit_callbacks)

    fund_share, farm_share = shares_of(booking)
    assert [(s.status, s.rail, s.needs_attention, s.attention_reason) for s in (fund_share, farm_share)] == [
        (S.OWED, "bank", False, ""),
        (S.OWED, "bank", True, "No payout method yet: kept as owed."),
    ]
    assert [t.reason for t in ShareTransition.objects.filter(to_status=S.OWED).order_by("share_id")] == [
        "Paid by bank transfer.",
        "No payout method yet: kept as owed.",
    ]
    assert Transfer.objects.count() == 0
    assert [e.kind for e in entries()] == ["split"]  # owed: the payable stays credited until the bank payout
    assert services.payable_balance(recipient=fund, currency="PEN") == -7000
    assert services.payable_balance(recipient=nothing_yet, currency="PEN") == -3500


def test_a_connect_recipient_not_yet_enabled_is_owed_flagged_and_rerouted_once_enabled(
    tour, coop, departure, traveller, django_capture_on_commit_callbacks
):
    """Stripe Connect chosen, onboarding unfinished → owed and flagged; ``account.updated`` enabling
    transfers re-routes the share by Stripe (simulated transfers here: no Stripe key in this test)."""
    coop.stripe_transfers_enabled = False
    coop.save(update_fields=["stripe_transfers_enabled"])
    ShareRuleFactory(tour=tour, cooperative=coop, basis_points=1500)
    booking = ready(departure, traveller)

    pay_simulated(booking, django_capture_on_commit_callbacks)

    assert share_rows(booking) == [("Quillabamba Cacao Cooperative", 10500, 0, 0, S.OWED, "bank", True)]

    with django_capture_on_commit_callbacks(execute=True):
        updated = services.connected_account_updated(
            obj={"id": coop.stripe_account_id, "payouts_enabled": True, "capabilities": {"transfers": "active"}}
        )

    assert updated == 1
    share = coop_share(booking)
    assert (share.status, share.rail) == (S.TRANSFERRED, "stripe")
    assert share.transfer.amount == 10500
    assert share.transfer.stripe_transfer_id.startswith("tr_sim_")


def test_a_destination_stripe_refuses_moves_the_share_to_the_bank_rail(
    client, stripe_server, coop, booking, django_capture_on_commit_callbacks
):
    # Our record says the account can receive transfers; Stripe says it cannot (capability inactive).
    stripe_server.add_account(COOP_ACCOUNT, transfers="inactive")

    pay_stripe(client, booking, stripe_server, django_capture_on_commit_callbacks)

    share = coop_share(booking)
    [request] = transfer_posts(stripe_server)  # a 400 is not retried
    assert request.status == 400
    assert stripe_server.transfers == {}
    assert (share.status, share.rail, share.needs_attention) == (S.OWED, "bank", True)
    assert share.attention_reason == f"Stripe refused the transfer ({REFUSED}): moved to the bank rail."
    transfer = Transfer.objects.get()
    assert (transfer.status, transfer.stripe_transfer_id, transfer.error) == (Transfer.Status.FAILED, None, REFUSED)
    assert entries("transfer") == []
    assert services.payable_balance(recipient=coop, currency="PEN") == -10500
    assert_ledger_balanced()


@pytest.fixture
def eager_retries():
    """Let eager tasks retry as a worker would (with CELERY_TASK_EAGER_PROPAGATES, Retry is raised instead)."""
    from cacaotours.celery import app

    before = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = before


@pytest.mark.parametrize("status", [500, 429])
def test_server_errors_and_rate_limits_are_retried_into_one_transfer(status, connect, booking, paid, eager_retries):
    # stripe-python tries 3 times (max_network_retries=2); the 4th attempt is the task's Celery retry.
    connect.fail_next(3, status=status)

    assert services.outbox_relay() == 3

    share = coop_share(booking)
    posts = transfer_posts(connect)
    assert [(r.status, r.injected) for r in posts] == [(status, str(status))] * 3 + [(200, "")]
    assert {r.idempotency_key for r in posts} == {f"share-transfer-{share.pk}"}
    assert len(connect.transfers) == 1
    assert (share.status, Transfer.objects.get().stripe_transfer_id) == (S.TRANSFERRED, next(iter(connect.transfers)))
    assert_ledger_balanced()


def test_with_eager_errors_propagating_a_failed_route_waits_in_the_outbox(connect, booking, paid):
    """The test/dev default (CELERY_TASK_EAGER_PROPAGATES): the error reaches the relay, the row stays
    unpublished, and the sweeper's next relay routes the share — still one transfer."""
    connect.fail_next(3, status=500)

    assert services.outbox_relay() == 0
    assert outbox_rows() == [("share.route", 1, True), ("share.route", 0, True), ("share.route", 0, True)]
    assert Transfer.objects.get().status == Transfer.Status.STARTED

    assert services.outbox_relay() == 3

    assert len(connect.transfers) == 1
    assert [s.status for s in shares_of(booking)] == [S.TRANSFERRED, S.OWED, S.OWED]


def test_a_crash_after_stripe_created_the_transfer_is_recovered_without_a_second_one(connect, booking, paid):
    share = coop_share(booking)
    # The transfer is created at Stripe, then every answer is lost: to us, the call failed.
    connect.fail_next(3, status=500, after_running=True)
    with pytest.raises(stripe.APIError):
        services.share_route(share_id=share.pk)
    [remote] = connect.transfers.values()
    transfer = Transfer.objects.get()
    assert (transfer.status, transfer.stripe_transfer_id) == (Transfer.Status.STARTED, None)
    assert Share.objects.get(pk=share.pk).status == S.PENDING

    services.share_route(share_id=share.pk)  # the redelivered task

    assert len(connect.transfers) == 1
    last = transfer_posts(connect)[-1]
    assert (last.status, last.replayed, last.idempotency_key) == (200, True, f"share-transfer-{share.pk}")
    transfer.refresh_from_db()
    assert (transfer.status, transfer.stripe_transfer_id) == (Transfer.Status.CREATED, remote["id"])
    assert Share.objects.get(pk=share.pk).status == S.TRANSFERRED
    assert len(entries("transfer")) == 1
    assert_ledger_balanced()


def test_a_forgotten_idempotency_key_still_gives_one_transfer_thanks_to_the_transfer_group(connect, booking, paid):
    share = coop_share(booking)
    connect.fail_next(3, status=500, after_running=True)
    with pytest.raises(stripe.APIError):
        services.share_route(share_id=share.pk)
    [remote] = connect.transfers.values()
    connect.forget_idempotency_keys()  # Stripe keeps keys 24 hours

    with freeze_time(timezone.now() + timedelta(seconds=61), tick=True):
        services.share_route(share_id=share.pk)

    assert len(connect.transfers) == 1
    assert len(transfer_posts(connect)) == 3  # no new POST: the transfer was found by its group
    [lookup] = connect.requests_to("GET", "/v1/transfers")
    assert lookup.params == {"transfer_group": booking.reference, "limit": 100}
    transfer = Transfer.objects.get()
    assert (transfer.status, transfer.stripe_transfer_id) == (Transfer.Status.CREATED, remote["id"])
    assert Share.objects.get(pk=share.pk).status == S.TRANSFERRED
    assert_ledger_balanced()


# -- the outbox and the sweeper -----------------------------------------------------------------


def outbox_rows():
    """(topic, attempts, still unpublished) per outbox row."""
    rows = OutboxMessage.objects.order_by("id").values_list("topic", "attempts", "published_at")
    return [(topic, attempts, published_at is None) for topic, attempts, published_at in rows]


def test_the_sweeper_relays_what_the_outbox_still_holds(booking, no_relay, django_capture_on_commit_callbacks):
    pay_simulated(booking, django_capture_on_commit_callbacks)
    assert outbox_rows() == [("share.route", 0, True)] * 3

    assert tasks.routing_sweep.delay().get() == {"relayed": 3, "requeued": 0, "reversals_requeued": 0}

    assert outbox_rows() == [("share.route", 1, False)] * 3
    assert [s.status for s in shares_of(booking)] == [S.TRANSFERRED, S.OWED, S.OWED]


def test_a_broker_failure_keeps_the_outbox_rows_and_the_confirmation(
    booking, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.outbox_relay_task, "delay", broker_down)
    with monkeypatch.context() as patch:
        patch.setattr(tasks.share_route_task, "delay", broker_down)
        pay_simulated(booking, django_capture_on_commit_callbacks)  # _relay_soon logs and carries on
        assert booking.__class__.objects.get(pk=booking.pk).status == "confirmed"
        assert services.outbox_relay() == 0  # stops at the first failure
        assert outbox_rows() == [("share.route", 1, True), ("share.route", 0, True), ("share.route", 0, True)]

    assert tasks.routing_sweep.delay().get() == {"relayed": 3, "requeued": 0, "reversals_requeued": 0}
    assert outbox_rows() == [("share.route", 2, False), ("share.route", 1, False), ("share.route", 1, False)]
    assert [s.status for s in shares_of(booking)] == [S.TRANSFERRED, S.OWED, S.OWED]


def test_the_sweeper_requeues_shares_stuck_in_pending(booking, monkeypatch, django_capture_on_commit_callbacks):
    with monkeypatch.context() as patch:
        patch.setattr(tasks.share_route_task, "delay", lambda share_id: None)  # published, then lost
        pay_simulated(booking, django_capture_on_commit_callbacks)
    assert outbox_rows() == [("share.route", 1, False)] * 3
    assert [s.status for s in shares_of(booking)] == [S.PENDING] * 3

    assert tasks.routing_sweep.delay().get() == {"relayed": 0, "requeued": 0, "reversals_requeued": 0}  # not stuck yet
    with freeze_time(timezone.now() + timedelta(minutes=11), tick=True):
        assert tasks.routing_sweep.delay().get() == {"relayed": 0, "requeued": 3, "reversals_requeued": 0}

    assert [s.status for s in shares_of(booking)] == [S.TRANSFERRED, S.OWED, S.OWED]
    with freeze_time(timezone.now() + timedelta(minutes=30), tick=True):
        assert tasks.routing_sweep.delay().get() == {"relayed": 0, "requeued": 0, "reversals_requeued": 0}


def test_a_share_requeued_is_left_alone_while_its_task_waits_then_requeued_again(
    booking, monkeypatch, django_capture_on_commit_callbacks
):
    published = []
    monkeypatch.setattr(tasks.share_route_task, "delay", published.append)  # published, then lost, every time
    pay_simulated(booking, django_capture_on_commit_callbacks)
    ids = [s.pk for s in shares_of(booking)]
    published.clear()

    later = timezone.now() + timedelta(minutes=11)
    with freeze_time(later):
        assert services.shares_sweep() == 3
        assert services.shares_sweep() == 0  # their tasks may still be queued: no second copy
    assert published == ids
    assert [(s.status, s.requeued_at) for s in shares_of(booking)] == [(S.PENDING, later)] * 3
    assert all(s.updated_at < later - timedelta(minutes=10) for s in shares_of(booking))  # not a change
    with freeze_time(later + timedelta(minutes=1)):
        stuck = Share.objects.filter(transfer_queue_q("stuck")).count()
    assert stuck == 3  # staff still see them as stuck

    with freeze_time(later + timedelta(minutes=9)):
        assert services.shares_sweep() == 0
    with freeze_time(later + timedelta(minutes=11)):
        assert services.shares_sweep() == 3  # lost again: requeued again
    assert published == ids * 2


def test_a_sweep_that_cannot_publish_marks_only_the_shares_it_enqueued(
    booking, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks.share_route_task, "delay", lambda share_id: None)
    pay_simulated(booking, django_capture_on_commit_callbacks)
    first, *rest = [s.pk for s in shares_of(booking)]
    before = {s.pk: s.updated_at for s in shares_of(booking)}
    published = []

    def broker_goes_down(share_id):
        if published:
            raise OperationalError("connection refused")
        published.append(share_id)

    monkeypatch.setattr(tasks.share_route_task, "delay", broker_goes_down)
    later = timezone.now() + timedelta(minutes=11)
    with freeze_time(later), pytest.raises(OperationalError):
        services.shares_sweep()
    assert published == [first]
    assert {s.pk: s.requeued_at for s in shares_of(booking)} == {first: later} | dict.fromkeys(rest)
    assert {s.pk: s.updated_at for s in shares_of(booking)} == before

    monkeypatch.setattr(tasks.share_route_task, "delay", published.append)  # the broker is back
    with freeze_time(later + timedelta(seconds=5)):
        assert services.shares_sweep() == 2
    assert published == [first, *rest]


# -- the client-side rate limit -----------------------------------------------------------------


def test_the_rate_limit_never_lets_more_than_the_limit_reach_stripe_in_a_second(
    client, settings, stripe_server, tour, departure, traveller, no_relay, django_capture_on_commit_callbacks
):
    settings.STRIPE_CALLS_PER_SECOND = 20
    for n in range(20):
        account = stripe_server.add_account(f"acct_1Coop{n:02d}")
        recipient = CooperativeFactory(
            payout_method=PayoutMethod.STRIPE_CONNECT, stripe_account_id=account, stripe_transfers_enabled=True
        )
        ShareRuleFactory(tour=tour, cooperative=recipient, basis_points=100)
    for _ in range(3):
        pay_stripe(client, ready(departure, traveller), stripe_server, django_capture_on_commit_callbacks)
    time.sleep(1.02 - time.time() % 1)  # start at the top of a second: a call never straddles two

    assert services.outbox_relay() == 60

    posts = transfer_posts(stripe_server)
    assert len(posts) == len(stripe_server.transfers) == 60
    per_second: dict[int, int] = {}
    for request in posts:
        per_second[int(request.received_at)] = per_second.get(int(request.received_at), 0) + 1
    assert max(per_second.values()) <= 20
    assert len(per_second) >= 3
