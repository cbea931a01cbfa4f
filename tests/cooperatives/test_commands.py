"""The operations commands: ``route_shares`` (re-run routing) and ``reconcile_ledger`` (docs/operations.md)."""

import io

import pytest
from django.core.management import CommandError, call_command
from freezegun import freeze_time

from cooperatives.models import Share, Transfer

from .conftest import ledger_snapshot, pay_stripe, share_rows

pytestmark = pytest.mark.django_db
S = Share.Status


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def pending(client, connect, booking, no_relay, django_capture_on_commit_callbacks):
    """Paid at the fake Stripe; the relay never ran, so every share is still pending (a lost task)."""
    pay_stripe(client, booking, connect, django_capture_on_commit_callbacks)
    assert {row[4] for row in share_rows(booking)} == {S.PENDING}
    return booking


def test_route_shares_routes_the_pending_shares_of_a_booking(pending, connect):
    shares = list(pending.shares.order_by("id"))

    out, err = run("route_shares", pending.reference.lower())

    ref = pending.reference
    assert out.splitlines() == [
        f"{ref} share #{shares[0].pk} Quillabamba Cacao Cooperative 10500 PEN: pending → transferred (stripe)",
        f"{ref} share #{shares[1].pk} Cloud-forest reforestation fund 7000 PEN: pending → owed (bank)",
        f"{ref} share #{shares[2].pk} Don Manuel's farm (Huamán family) 3500 PEN: pending → owed (bank)",
    ]
    assert err == ""
    assert Transfer.objects.get().amount == 10500
    assert len(connect.transfers) == 1


def test_route_shares_twice_changes_nothing_the_second_time(pending, connect):
    run("route_shares", pending.reference)
    before = ledger_snapshot()

    out, _ = run("route_shares", pending.reference)

    assert [line.split(": ", 1)[1] for line in out.splitlines()] == [
        "transferred → transferred (stripe)",
        "owed → owed (bank)",
        "owed → owed (bank)",
    ]
    assert ledger_snapshot() == before
    assert len(connect.transfers) == 1


def test_route_shares_queue_hands_the_shares_to_celery(pending, connect):
    out, _ = run("route_shares", pending.reference, "--queue")

    assert [line.split(": ", 1)[1] for line in out.splitlines()] == ["queued (pending)"] * 3
    # Celery is eager in the tests: the queued tasks ran.
    assert [row[4] for row in share_rows(pending)] == [S.TRANSFERRED, S.OWED, S.OWED]


def test_route_shares_sweep_publishes_what_the_outbox_still_holds(pending, connect):
    out, _ = run("route_shares", "--sweep")

    # The relay never ran (no_relay): the sweep publishes the three rows and the tasks route the shares.
    assert out == "sweep: 3 outbox rows published, 0 shares re-queued\n"
    assert [row[4] for row in share_rows(pending)] == [S.TRANSFERRED, S.OWED, S.OWED]


def test_route_shares_refuses_an_unknown_booking_and_no_arguments(pending):
    before = ledger_snapshot()
    with pytest.raises(CommandError, match="No booking KT-NOPE99"):
        run("route_shares", "KT-NOPE99")
    with pytest.raises(CommandError, match="Give booking references, or --sweep"):
        run("route_shares")
    assert ledger_snapshot() == before


def test_route_shares_reports_a_stripe_failure_and_exits_non_zero(pending, connect):
    connect.fail_next(20, status=500)
    before = {row[0]: row[4] for row in share_rows(pending)}

    with pytest.raises(CommandError, match="1 share\\(s\\) could not be routed"):
        run("route_shares", pending.reference)

    assert before["Quillabamba Cacao Cooperative"] == S.PENDING
    assert share_rows(pending)[0][4] == S.PENDING


def test_reconcile_ledger_prints_the_report(pending, connect):
    run("route_shares", pending.reference)
    transfer = Transfer.objects.get()
    connect.forget_transfer(transfer.stripe_transfer_id)

    with freeze_time("2026-03-02 09:15:00"):
        out, _ = run("reconcile_ledger")

    assert out.splitlines() == [
        "reconciliation of 2026-03-02 04:15 (Lima): 1 bookings checked, 1 issues",
        f"  [missing_at_stripe] {pending.reference} {transfer.stripe_transfer_id} (S/ 105.00) (OPEN)",
    ]
    with pytest.raises(CommandError, match="1 unresolved reconciliation issue"):
        run("reconcile_ledger", "--last", "--fail-on-issues")


def test_reconcile_ledger_last_without_a_run():
    with pytest.raises(CommandError, match="No reconciliation has run yet"):
        run("reconcile_ledger", "--last")
