"""Finance operations in the admin, each with the right (Finance) and the wrong (Operations) group.

A partial refund's shares are reversed in proportion; bank payout batches are created, exported and
their lines marked paid in one go; the Stripe transfer queue and its retry; reconciliation runs and
how each issue was resolved. The worked example of docs/ledger.md: S/ 700.00, 15% to the cooperative
(Stripe Connect), 10% to the fund and 5% to the farm (both by bank).
"""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking
from cacaotours.core.models import PayoutMethod
from cooperatives import services
from cooperatives.models import (
    PayoutBatch,
    PayoutLine,
    ReconciliationIssue,
    ReconciliationRun,
    Share,
    Transfer,
)
from cooperatives.services import LedgerError

from .conftest import (
    COOP_NAME,
    FARM_CCI,
    FARM_NAME,
    FUND_CCI,
    FUND_NAME,
    booking_equation,
    entries,
    ledger_snapshot,
    legs_of,
    pay_simulated,
    share_rows,
)

pytestmark = pytest.mark.django_db
S = Share.Status
COOP, FUND, FARM = COOP_NAME, FUND_NAME, FARM_NAME


@pytest.fixture
def paid(booking, django_capture_on_commit_callbacks) -> Booking:
    """S/ 700.00 paid: the cooperative's S/ 105.00 transferred, the fund's 70.00 and the farm's 35.00 owed."""
    pay_simulated(booking, django_capture_on_commit_callbacks)
    return Booking.objects.get(pk=booking.pk)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def log_of(obj) -> list[tuple[str, str]]:
    entries_ = LogEntry.objects.filter(
        content_type__app_label=obj._meta.app_label, content_type__model=obj._meta.model_name, object_id=str(obj.pk)
    ).order_by("id")
    return [(entry.user.email, entry.get_change_message()) for entry in entries_]


def changelist(model) -> str:
    return reverse(f"admin:cooperatives_{model._meta.model_name}_changelist")


# -- a partial refund through the admin reverses the shares in proportion ---------------------------------


def test_a_partial_refund_reverses_every_share_in_proportion(finance_client, paid, django_capture_on_commit_callbacks):
    url = reverse("admin:bookings_booking_refund", args=[paid.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = finance_client.post(url, {"amount": "100.00", "reason": "One traveller fell ill"})

    assert response.status_code == 302
    [refund] = entries("refund", booking=paid)
    assert legs_of(refund) == [
        ("clearing", "PEN", -10000),
        (f"payable:{COOP}", "PEN", 1500),
        (f"payable:{FUND}", "PEN", 1000),
        (f"payable:{FARM}", "PEN", 500),
        ("revenue", "PEN", 7000),
    ]
    assert share_rows(paid) == [
        (COOP, 10500, 1500, 0, S.TRANSFERRED, "stripe", False),
        (FUND, 7000, 1000, 0, S.OWED, "bank", False),
        (FARM, 3500, 500, 0, S.OWED, "bank", False),
    ]
    [reversal] = entries("transfer_reversal", booking=paid)  # the cooperative's transfer, S/ 15.00 back
    assert legs_of(reversal)[0] == ("clearing", "PEN", 1500)
    assert booking_equation(paid) == (60000, 60000)


def test_a_refund_with_uneven_parts_still_adds_up(finance_client, paid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(
            reverse("admin:bookings_booking_refund", args=[paid.pk]), {"amount": "0.07", "reason": "rounding"}
        )

    [refund] = entries("refund", booking=paid)
    # 7 céntimos by largest remainder over 105.00 / 70.00 / 35.00 / 490.00: 1 / 1 / 0 / 5 (no zero leg)
    assert legs_of(refund) == [
        ("clearing", "PEN", -7),
        (f"payable:{COOP}", "PEN", 1),
        (f"payable:{FUND}", "PEN", 1),
        ("revenue", "PEN", 5),
    ]
    assert booking_equation(paid) == (69993, 69993)


# -- bank payouts ---------------------------------------------------------------------------------------


@pytest.fixture
def batch(paid, finance_client) -> PayoutBatch:
    response = finance_client.post(reverse("admin:cooperatives_payoutbatch_create"), {"currency": "PEN"}, follow=True)
    assert response.redirect_chain[0][1] == 302
    return PayoutBatch.objects.get()


def lines_url(batch) -> str:
    return reverse("admin:cooperatives_payoutbatch_mark_lines", args=[batch.pk])


def test_finance_marks_every_line_of_a_batch_paid_at_once(finance_client, batch):
    fund_line, farm_line = batch.lines.order_by("id")
    assert [(line.bank_cci, line.amount) for line in (fund_line, farm_line)] == [(FUND_CCI, 7000), (FARM_CCI, 3500)]
    page = finance_client.get(lines_url(batch)).content.decode()
    assert f"KALLPA-{batch.pk}-{fund_line.pk}" in page and "•••• 9012" in page.replace("\u00a0", " ")

    response = finance_client.post(
        lines_url(batch), {f"line_{fund_line.pk}": " BCP-0001 ", f"line_{farm_line.pk}": "IBK-0002"}
    )

    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.PAID
    assert list(batch.lines.order_by("id").values_list("bank_reference", flat=True)) == ["BCP-0001", "IBK-0002"]
    assert set(Share.objects.filter(payout_line__batch=batch).values_list("status", flat=True)) == {S.PAID}
    assert len(entries("bank_payout")) == 2
    assert log_of(batch) == [
        ("finance@kallpa.example", "Added."),
        ("finance@kallpa.example", f"Line #{fund_line.pk} marked paid (bank reference BCP-0001)."),
        ("finance@kallpa.example", f"Line #{farm_line.pk} marked paid (bank reference IBK-0002)."),
    ]
    assert "2 lines marked paid." in messages_of(finance_client.get(changelist(PayoutBatch)))


def test_lines_left_blank_stay_unpaid(finance_client, batch):
    fund_line, farm_line = batch.lines.order_by("id")

    finance_client.post(lines_url(batch), {f"line_{fund_line.pk}": "", f"line_{farm_line.pk}": "IBK-0002"})

    assert [line.paid_at is None for line in batch.lines.order_by("id")] == [True, False]
    assert PayoutBatch.objects.get().status == PayoutBatch.Status.DRAFT
    page = finance_client.get(lines_url(batch)).content.decode()
    assert f"line_{fund_line.pk}" in page and f"line_{farm_line.pk}" not in page  # only unpaid lines are listed


def test_no_reference_at_all_is_refused_and_changes_nothing(finance_client, batch):
    before = ledger_snapshot()

    response = finance_client.post(lines_url(batch), {})

    assert response.status_code == 200
    assert messages_of(response) == ["Enter the bank's reference of at least one line."]
    assert ledger_snapshot() == before


def test_marking_lines_paid_is_all_or_nothing(finance_client, batch, staff_user):
    fund_line, farm_line = batch.lines.order_by("id")
    services.payout_line_mark_paid(line_id=farm_line.pk, bank_reference="IBK-0002", actor=staff_user)
    before = ledger_snapshot()

    with pytest.raises(LedgerError, match=r"Line #\d+ is already marked paid \(reference IBK-0002\)"):
        services.payout_batch_mark_paid(
            batch_id=batch.pk, references={fund_line.pk: "BCP-1", farm_line.pk: "IBK-9"}, actor=staff_user
        )
    with pytest.raises(LedgerError, match=r"Line #999999 is not in this batch"):
        services.payout_batch_mark_paid(batch_id=batch.pk, references={fund_line.pk: "BCP-1", 999999: "X"})
    assert ledger_snapshot() == before


def test_operations_cannot_touch_payouts(operations_client, finance_client, paid):
    create = reverse("admin:cooperatives_payoutbatch_create")

    assert operations_client.post(create, {"currency": "PEN"}).status_code == 403
    assert not PayoutBatch.objects.exists()
    finance_client.post(create, {"currency": "PEN"})
    batch = PayoutBatch.objects.get()
    before = ledger_snapshot()
    line = batch.lines.first()
    assert operations_client.post(lines_url(batch), {f"line_{line.pk}": "X"}).status_code == 403
    assert operations_client.post(reverse("admin:cooperatives_payoutbatch_export", args=[batch.pk])).status_code == 403
    mark = reverse("admin:cooperatives_payoutbatch_mark_paid", args=[batch.pk, line.pk])
    assert operations_client.post(mark, {"bank_reference": "X"}).status_code == 403
    assert ledger_snapshot() == before


# -- the Stripe transfer queue ---------------------------------------------------------------------------


@pytest.fixture
def queue(paid, coop, fund, farm):
    """One share of each kind in the queue, and shares that are not."""
    coop_share, fund_share, farm_share = paid.shares.order_by("-basis_points", "id")
    # the farm moved to Stripe Connect and waits for its onboarding (owed, not batched)
    farm.payout_method, farm.stripe_account_id = PayoutMethod.STRIPE_CONNECT, "acct_1DonManuel"
    farm.save()
    # Stripe refused the fund's transfer: owed on the bank rail since
    Transfer.objects.create(
        share=fund_share,
        amount=fund_share.amount,
        currency="PEN",
        destination="acct_1Fund",
        idempotency_key=f"share-transfer-{fund_share.pk}",
        status=Transfer.Status.FAILED,
        error="No such destination",
    )
    return {"transferred": coop_share, "failed": fund_share, "onboarding": farm_share}


def test_the_queue_lists_failed_onboarding_and_stuck_transfers(finance_client, queue, paid):
    stuck = Share.objects.create(
        booking=paid,
        payment=paid.payments.get(),
        key="stuck",
        basis_points=100,
        currency="PEN",
        amount=700,
        fund=queue["failed"].fund,
    )
    Share.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - timedelta(minutes=11))
    url = changelist(Share)

    def listed(kind):
        return set(finance_client.get(url, {"queue": kind}).context["cl"].result_list)

    assert listed("failed") == {queue["failed"]}
    assert listed("onboarding") == {queue["onboarding"]}
    assert listed("stuck") == {stuck}
    assert listed("all") == {queue["failed"], queue["onboarding"], stuck}


def test_finance_retries_a_share_once_its_recipient_can_receive_transfers(
    finance_client, queue, farm, django_capture_on_commit_callbacks
):
    share = queue["onboarding"]
    farm.stripe_transfers_enabled = True
    farm.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = finance_client.post(
            changelist(Share), {"action": "retry_routing", "_selected_action": [share.pk]}, follow=True
        )

    assert "Routing queued for 1 share." in messages_of(response)
    share.refresh_from_db()
    assert (share.status, share.rail, share.transfer.status) == (S.TRANSFERRED, "stripe", Transfer.Status.CREATED)
    assert log_of(share) == [("finance@kallpa.example", "Routing retried (the share was: Owed (bank transfer)).")]
    assert finance_client.get(changelist(Share), {"queue": "all"}).context["cl"].result_count == 1  # the failed one


def test_operations_cannot_retry_or_resolve_shares(operations_client, queue):
    share = queue["onboarding"]
    before = ledger_snapshot()

    for action in ("retry_routing", "resolve_attention"):
        response = operations_client.post(changelist(Share), {"action": action, "_selected_action": [share.pk]})
        assert response.status_code == 403  # not even the list: Operations cannot see the ledger
    assert ledger_snapshot() == before
    assert not LogEntry.objects.exists()


def test_a_staff_member_who_sees_shares_but_may_not_retry_gets_no_action(client, queue):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_share"))
    client.force_login(viewer)
    before = ledger_snapshot()

    response = client.post(
        changelist(Share), {"action": "retry_routing", "_selected_action": [queue["onboarding"].pk]}, follow=True
    )

    assert response.status_code == 200
    assert "retry_routing" not in response.content.decode()  # the action is not offered
    assert ledger_snapshot() == before


def test_finance_resolves_a_shares_attention(finance_client, paid, farm):
    farm_share = paid.shares.get(farm=farm)
    Share.objects.filter(pk=farm_share.pk).update(needs_attention=True, attention_reason="No payout method yet.")

    finance_client.post(changelist(Share), {"action": "resolve_attention", "_selected_action": [farm_share.pk]})

    farm_share.refresh_from_db()
    assert not farm_share.needs_attention
    assert log_of(farm_share) == [("finance@kallpa.example", "Attention resolved (No payout method yet.).")]


# -- reconciliation --------------------------------------------------------------------------------------


@pytest.fixture
def issue(paid) -> ReconciliationIssue:
    run = ReconciliationRun.objects.create(issue_count=1, bookings_checked=1)
    return ReconciliationIssue.objects.create(
        run=run, kind=ReconciliationIssue.Kind.AMOUNT_MISMATCH, booking=paid, detail="tr_1: ledger 10500, Stripe 10000"
    )


def resolve_url(issue) -> str:
    return reverse("admin:cooperatives_reconciliationissue_resolve", args=[issue.pk])


def test_finance_records_how_an_issue_was_resolved(finance_client, issue):
    response = finance_client.post(resolve_url(issue), {"note": " Stripe support corrected the transfer. "})

    assert response.status_code == 302
    assert response.url == reverse("admin:cooperatives_reconciliationrun_change", args=[issue.run_id])
    issue.refresh_from_db()
    assert (issue.resolution, issue.resolved_by) == ("Stripe support corrected the transfer.", finance_client.user)
    assert issue.resolved_at is not None
    assert log_of(issue) == [("finance@kallpa.example", "Resolved: Stripe support corrected the transfer.")]
    report = finance_client.get(response.url).content.decode()
    assert "tr_1: ledger 10500, Stripe 10000" in report
    assert "finance@kallpa.example · Stripe support corrected the transfer." in report
    issues = finance_client.get(changelist(ReconciliationIssue), {"resolved": "yes"}).context["cl"]
    assert list(issues.result_list) == [issue]


def test_resolving_an_issue_needs_a_note_once_and_the_permission(finance_client, operations_client, issue):
    response = finance_client.post(resolve_url(issue), {"note": "  "})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert operations_client.post(resolve_url(issue), {"note": "done"}).status_code == 403
    issue.refresh_from_db()
    assert issue.resolved_at is None and not LogEntry.objects.exists()

    finance_client.post(resolve_url(issue), {"note": "done"}, follow=True)
    response = finance_client.post(resolve_url(issue), {"note": "again"})

    assert messages_of(response) == ["This issue was already resolved."]
    issue.refresh_from_db()
    assert issue.resolution == "done"
    with pytest.raises(LedgerError, match=r"Say how the issue was resolved\."):
        services.reconciliation_issue_resolve(issue_id=issue.pk, actor=None, note="")


def test_finance_runs_reconciliation_operations_cannot(finance_client, operations_client, paid):
    run_url = reverse("admin:cooperatives_reconciliationrun_run")

    assert operations_client.post(run_url).status_code == 403
    assert not ReconciliationRun.objects.exists()

    finance_client.post(run_url)

    run = ReconciliationRun.objects.get()
    assert log_of(run) == [("finance@kallpa.example", "Reconciliation run: 1 bookings checked, 0 issues.")]


def test_every_ledger_change_page_shows_its_audit_trail(finance_client, batch):
    page = finance_client.get(reverse("admin:cooperatives_payoutbatch_change", args=[batch.pk])).content.decode()

    assert "Audit trail" in page and "finance@kallpa.example" in page


def test_payout_lines_without_shares_are_not_created(batch):
    assert PayoutLine.objects.filter(shares__isnull=True).count() == 0


# -- payout-detail approvals -----------------------------------------------------------------------------


def test_finance_approves_payout_details_and_both_records_show_it(
    finance_client, operations_client, coop, django_capture_on_commit_callbacks
):
    from cooperatives import portal_services
    from cooperatives.models import PayoutChangeRequest
    from tests.factories import MembershipFactory

    leader = MembershipFactory(cooperative=coop).user
    request = portal_services.payout_change_request_create(
        organisation=coop,
        user=leader,
        payout_method="bank_transfer",
        bank_account_holder="Cooperativa",
        bank_cci=FUND_CCI,
    )
    url = reverse("admin:cooperatives_payoutchangerequest_changelist")
    data = {"action": "approve", "_selected_action": [request.pk]}

    assert operations_client.post(url, data).status_code == 403
    assert PayoutChangeRequest.objects.get().status == "pending"

    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(url, data)

    coop.refresh_from_db()
    assert (coop.payout_method, coop.bank_cci) == ("bank_transfer", FUND_CCI)
    assert log_of(request) == [("finance@kallpa.example", "Approved and applied.")]
    assert log_of(coop) == [
        ("finance@kallpa.example", f"Payout details changed: change request #{request.pk} approved.")
    ]
