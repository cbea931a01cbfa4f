"""The ledger in the admin: read-only pages, payout batches, reconciliation, the booking's split."""

import csv
import io

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import tests.bookings.conftest as booking_fixtures
from bookings import services as booking_services
from cooperatives.models import (
    JournalEntry,
    LedgerAccount,
    PayoutBatch,
    PayoutLine,
    ReconciliationRun,
    Share,
    Transfer,
    TransferReversal,
)
from cooperatives.operations_selectors import payout_owed_by_currency
from tests.bookings.helpers import hold, pay_simulated, save_details, starts_in
from tests.factories import (
    CommunityFundFactory,
    CooperativeFactory,
    DepartureFactory,
    FarmFactory,
    ShareRuleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# The booking fixtures (tests/bookings/conftest.py): the simulated checkout, e-mail stand-ins,
# the loopback Stripe server, a traveller, a PEN tour and its departure, a ready booking.
_simulated_checkout = booking_fixtures._simulated_checkout
_email_standins = booking_fixtures._email_standins
_email_templates = booking_fixtures._email_templates
stripe_server = booking_fixtures.stripe_server
traveller = booking_fixtures.traveller
tour = booking_fixtures.tour
departure = booking_fixtures.departure
held_booking = booking_fixtures.held_booking
ready_booking = booking_fixtures.ready_booking

CCI = "00219300123456789012"
S = Share.Status


def nb(text: str) -> str:
    """The admin keeps amounts, percentages and masked CCIs on one line with non-breaking spaces."""
    return text.replace(" ", "\u00a0")


@pytest.fixture
def recipients(tour):
    """A cooperative paid by bank, a fund without payout details, a farm on Stripe Connect."""
    coop = CooperativeFactory(
        name_en="Quillabamba Cacao Producers",
        payout_method="bank_transfer",
        bank_name="BCP",
        bank_account_holder="Asociación de Productores de Cacao",
        bank_cci=CCI,
    )
    fund = CommunityFundFactory(name_en="Water Sources Fund", cooperative=coop)
    farm = FarmFactory(
        name_en="Don Manuel's Farm",
        cooperative=coop,
        payout_method="stripe_connect",
        stripe_account_id="acct_1DonManuel",
        stripe_transfers_enabled=True,
    )
    ShareRuleFactory(tour=tour, cooperative=coop, basis_points=1500)
    ShareRuleFactory(tour=tour, cooperative=None, fund=fund, basis_points=500)
    ShareRuleFactory(tour=tour, cooperative=None, farm=farm, basis_points=1000)
    return {"coop": coop, "fund": fund, "farm": farm}


@pytest.fixture
def paid(ready_booking, recipients, django_capture_on_commit_callbacks):
    """S/ 875.00 paid: the cooperative's share owed (bank), the fund's owed with attention, the farm's transferred."""
    return pay_simulated(ready_booking, django_capture_on_commit_callbacks)


@pytest.fixture
def refunded(tour, traveller, recipients, django_capture_on_commit_callbacks):
    """A second booking, paid and then cancelled with a full refund: shares reversed, a transfer reversal."""
    later = DepartureFactory(tour=tour, starts_at=starts_in(40), capacity=10)
    booking = pay_simulated(save_details(hold(later, traveller, adults=1)), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        booking_services.booking_cancel(booking=booking, actor=traveller, reason="change of plans")
    return booking


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def owed_bank_share(booking) -> Share:
    return Share.objects.get(booking=booking, cooperative__isnull=False)


# -- the split, as the setup above produces it ---------------------------------------------------


def test_setup_produces_every_kind_of_share(paid, refunded, recipients):
    assert {(s.recipient_kind, s.status, s.needs_attention) for s in paid.shares.all()} == {
        ("cooperative", S.OWED, False),
        ("fund", S.OWED, True),
        ("farm", S.TRANSFERRED, False),
    }
    assert TransferReversal.objects.filter(transfer__share__booking=refunded).exists()
    assert JournalEntry.objects.filter(booking=refunded, kind=JournalEntry.Kind.REFUND).exists()


# -- every page renders for staff ---------------------------------------------------------------


LEDGER_MODELS = [Share, JournalEntry, LedgerAccount, Transfer, TransferReversal, PayoutBatch, ReconciliationRun]


def test_ledger_changelists_and_change_pages_render(staff_client, paid, refunded):
    staff_client.post(reverse("admin:cooperatives_payoutbatch_create"), {"currency": "PEN"})
    staff_client.post(reverse("admin:cooperatives_reconciliationrun_run"))
    from cooperatives.models import ReconciliationIssue

    for model in [*LEDGER_MODELS, ReconciliationIssue]:
        response = staff_client.get(changelist_url(model))
        assert response.status_code == 200, model
        obj = model.objects.first()
        if obj is not None:
            assert staff_client.get(change_url(obj)).status_code == 200, model
    for name in ("payoutbatch_create", "reconciliationrun_run"):
        assert staff_client.get(reverse(f"admin:cooperatives_{name}")).status_code == 200


def test_share_list_shows_money_status_and_routing(staff_client, paid):
    response = staff_client.get(changelist_url(Share))
    page = response.content.decode()

    assert paid.reference in page
    assert nb("S/ 131.25") in page  # 15% of S/ 875.00, formatted by Money
    assert "Don Manuel&#x27;s Farm" in page and "tr_sim_" in page
    assert "Water Sources Fund" in page

    response = staff_client.get(changelist_url(Share), {"needs_attention__exact": "1"})
    assert list(response.context["cl"].result_list) == [Share.objects.get(fund__isnull=False)]
    response = staff_client.get(changelist_url(Share), {"payout": "waiting", "recipient": "cooperative"})
    assert list(response.context["cl"].result_list) == [owed_bank_share(paid)]
    response = staff_client.get(changelist_url(Share), {"q": "water sources"})
    assert [s.recipient_kind for s in response.context["cl"].result_list] == ["fund"]


def test_share_detail_shows_transitions_and_legs(staff_client, paid):
    share = owed_bank_share(paid)
    page = staff_client.get(change_url(share)).content.decode()

    assert "Paid by bank transfer." in page  # the transition's reason
    assert "Payment split" in page and nb("S/ 131.25") in page


def test_ledger_pages_are_read_only(staff_client, paid):
    share = owed_bank_share(paid)
    entry = JournalEntry.objects.filter(booking=paid).first()
    for model in LEDGER_MODELS:
        assert staff_client.get(reverse(f"admin:cooperatives_{model._meta.model_name}_add")).status_code == 403
    response = staff_client.post(change_url(share), {"amount": "1", "status": "paid"})
    assert response.status_code == 403
    share.refresh_from_db()
    assert (share.amount, share.status) == (13125, S.OWED)
    delete = reverse("admin:cooperatives_journalentry_delete", args=[entry.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert JournalEntry.objects.filter(pk=entry.pk).exists()


def test_account_balances(staff_client, paid, recipients):
    response = staff_client.get(changelist_url(LedgerAccount), {"kind__exact": "payable"})
    balances = {a.name: a.balance for a in response.context["cl"].result_list}

    assert balances["Quillabamba Cacao Producers"] == -13125  # owed to the cooperative
    assert balances[str(recipients["farm"])] == 0  # transferred
    assert nb("-S/ 131.25") in response.content.decode()


def test_journal_entries_filtered_by_account(staff_client, paid):
    clearing = LedgerAccount.objects.get(kind="clearing", currency="PEN")
    response = staff_client.get(changelist_url(JournalEntry), {"legs__account__id__exact": clearing.pk})

    assert response.status_code == 200
    kinds = {e.kind for e in response.context["cl"].result_list}
    assert kinds == {"split", "transfer"}


@pytest.mark.parametrize("model", [Share, JournalEntry, LedgerAccount, Transfer, PayoutBatch])
def test_changelist_queries_do_not_grow_with_rows(
    staff_client, tour, recipients, model, django_capture_on_commit_callbacks
):
    user = UserFactory()

    def book():
        departure = DepartureFactory(tour=tour, capacity=10)  # a new hour each time
        pay_simulated(save_details(hold(departure, user, adults=1)), django_capture_on_commit_callbacks)
        if model is PayoutBatch:
            staff_client.post(reverse("admin:cooperatives_payoutbatch_create"), {"currency": "PEN"})

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(changelist_url(model)).status_code == 200
        return len(queries)

    book()
    one = count()
    for _ in range(3):
        book()
    assert count() == one


def test_booking_change_page_queries_do_not_grow_with_entries(staff_client, paid, refunded):
    def count(booking) -> int:
        """Queries of the ledger inlines (the booking admin's own inlines are not counted here)."""
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(change_url(booking)).status_code == 200
        return sum("cooperatives_" in q["sql"] or "farms_farm" in q["sql"] for q in queries.captured_queries)

    # The refunded booking has more entries (split, transfer, refund, reversal) than the paid one.
    assert JournalEntry.objects.filter(booking=refunded).count() > JournalEntry.objects.filter(booking=paid).count()
    assert count(refunded) == count(paid)


# -- the booking page shows its split --------------------------------------------------------------


def test_booking_change_page_shows_shares_and_entries(staff_client, paid, refunded):
    page = staff_client.get(change_url(paid)).content.decode()

    assert "the split of this booking" in page
    for name in ("Quillabamba Cacao Producers", "Water Sources Fund", "Don Manuel&#x27;s Farm"):
        assert name in page
    assert nb("S/ 131.25") in page and nb("15.00 %") in page
    assert "Ledger entries of this booking" in page and "Payment split" in page

    page = staff_client.get(change_url(refunded)).content.decode()
    assert "Refund to traveller" in page and "Stripe transfer reversal" in page
    assert "Reversed" in page


# -- payout batches --------------------------------------------------------------------------------


def test_create_export_and_mark_paid(staff_client, staff_user, paid, recipients):
    share = owed_bank_share(paid)

    response = staff_client.post(reverse("admin:cooperatives_payoutbatch_create"), {"currency": "PEN"})

    batch = PayoutBatch.objects.get()
    assert response.status_code == 302 and response.url == change_url(batch)
    line = batch.lines.get()
    assert (line.cooperative, line.amount, line.bank_cci) == (recipients["coop"], 13125, CCI)
    assert batch.created_by == staff_user

    page = staff_client.get(change_url(batch)).content.decode()
    assert nb("•••• 9012") in page and CCI not in page  # masked in the admin
    assert nb("Mark paid") in page and f"KALLPA-{batch.pk}-{line.pk}" in page
    shares_of_line = staff_client.get(changelist_url(Share), {"payout_line__id__exact": line.pk})  # the line's link
    assert list(shares_of_line.context["cl"].result_list) == [share]

    response = staff_client.post(reverse("admin:cooperatives_payoutbatch_export", args=[batch.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == f'attachment; filename="payout-batch-{batch.pk}-PEN.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["line", "beneficiary", "account_holder", "bank", "cci", "currency", "amount", "reference"]
    assert rows[1] == [
        str(line.pk),
        "Quillabamba Cacao Producers",
        "Asociación de Productores de Cacao",
        "BCP",
        CCI,  # the full CCI, for the bank
        "PEN",
        "131.25",
        f"KALLPA-{batch.pk}-{line.pk}",
    ]
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.EXPORTED and batch.exported_at

    mark_paid = reverse("admin:cooperatives_payoutbatch_mark_paid", args=[batch.pk, line.pk])
    assert staff_client.get(mark_paid).status_code == 200
    response = staff_client.post(mark_paid, {"bank_reference": " BCP-OP-778812 "})

    assert response.status_code == 302 and response.url == change_url(batch)
    line.refresh_from_db()
    share.refresh_from_db()
    batch.refresh_from_db()
    assert line.bank_reference == "BCP-OP-778812" and line.paid_at
    assert share.status == S.PAID
    assert share.transitions.last().actor == staff_user
    entry = JournalEntry.objects.get(kind=JournalEntry.Kind.BANK_PAYOUT)
    assert sorted(leg.amount for leg in entry.legs.all()) == [-13125, 13125]
    assert batch.status == PayoutBatch.Status.PAID
    assert LogEntry.objects.filter(object_id=str(batch.pk)).count() >= 3  # created, exported, line paid
    assert nb("S/ 131.25") + " to Quillabamba Cacao Producers marked paid." in messages_of(
        staff_client.get(change_url(batch))
    )


@pytest.mark.parametrize("reference", ["", "   "])
def test_mark_paid_without_reference_changes_nothing(staff_client, paid, reference):
    staff_client.post(reverse("admin:cooperatives_payoutbatch_create"), {"currency": "PEN"})
    line = PayoutLine.objects.get()
    entries = JournalEntry.objects.count()

    response = staff_client.post(
        reverse("admin:cooperatives_payoutbatch_mark_paid", args=[line.batch_id, line.pk]),
        {"bank_reference": reference},
    )

    assert response.status_code == 200
    assert "Enter the bank&#x27;s reference for this transfer." in response.content.decode()
    line.refresh_from_db()
    assert (line.paid_at, line.bank_reference) == (None, "")
    assert owed_bank_share(paid).status == S.OWED
    assert JournalEntry.objects.count() == entries


def test_mark_paid_twice_is_refused(staff_client, paid):
    staff_client.post(reverse("admin:cooperatives_payoutbatch_create"), {"currency": "PEN"})
    line = PayoutLine.objects.get()
    url = reverse("admin:cooperatives_payoutbatch_mark_paid", args=[line.batch_id, line.pk])
    staff_client.post(url, {"bank_reference": "OP-1"})

    response = staff_client.post(url, {"bank_reference": "OP-2"})

    assert response.status_code == 200
    line.refresh_from_db()
    assert line.bank_reference == "OP-1"
    assert JournalEntry.objects.filter(kind=JournalEntry.Kind.BANK_PAYOUT).count() == 1


def test_create_batch_with_nothing_owed_shows_the_error(staff_client, paid):
    response = staff_client.post(reverse("admin:cooperatives_payoutbatch_create"), {"currency": "USD"})

    assert response.status_code == 200
    assert "Nothing is owed in USD to a recipient with bank details." in messages_of(response)
    assert not PayoutBatch.objects.exists()


def test_the_create_page_shows_what_is_owed_and_not_yet_batched(staff_client, paid):
    assert payout_owed_by_currency() == [{"currency": "PEN", "shares": 2, "amount": 17500}]

    response = staff_client.get(reverse("admin:cooperatives_payoutbatch_create"))
    assert response.status_code == 200
    assert response.context["owed"] == [{"currency": "PEN", "shares": 2, "amount": "S/\xa0175.00"}]

    staff_client.post(reverse("admin:cooperatives_payoutbatch_create"), {"currency": "PEN"})
    # the fund's share (owed, flagged for attention) is not taken by the batch: it stays owed
    assert payout_owed_by_currency() == [{"currency": "PEN", "shares": 1, "amount": 4375}]


def test_export_needs_post(staff_client, paid):
    staff_client.post(reverse("admin:cooperatives_payoutbatch_create"), {"currency": "PEN"})
    batch = PayoutBatch.objects.get()

    assert staff_client.get(reverse("admin:cooperatives_payoutbatch_export", args=[batch.pk])).status_code == 405
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.DRAFT


# -- share actions ------------------------------------------------------------------------------------


def test_retry_routing_routes_pending_shares(
    staff_client, ready_booking, recipients, monkeypatch, django_capture_on_commit_callbacks
):
    from cooperatives import services

    monkeypatch.setattr(services, "_relay_soon", lambda: None)  # the broker was down: shares stay pending
    booking = pay_simulated(ready_booking, django_capture_on_commit_callbacks)
    assert set(booking.shares.values_list("status", flat=True)) == {S.PENDING}

    response = staff_client.post(
        changelist_url(Share),
        {"action": "retry_routing", "_selected_action": list(booking.shares.values_list("pk", flat=True))},
    )

    assert response.status_code == 302
    assert set(booking.shares.values_list("status", flat=True)) == {S.OWED, S.TRANSFERRED}
    assert "Routing queued for 3 shares." in messages_of(staff_client.get(changelist_url(Share)))

    response = staff_client.post(
        changelist_url(Share),
        {"action": "retry_routing", "_selected_action": list(booking.shares.values_list("pk", flat=True))},
        follow=True,
    )
    assert any("3 shares were skipped" in m for m in messages_of(response))


def test_mark_attention_resolved(staff_client, paid):
    share = Share.objects.get(booking=paid, needs_attention=True)

    staff_client.post(changelist_url(Share), {"action": "resolve_attention", "_selected_action": [share.pk]})

    share.refresh_from_db()
    assert not share.needs_attention and share.status == S.OWED
    last = share.transitions.order_by("-id").first()
    assert (last.from_status, last.to_status, last.actor.is_staff) == (S.OWED, S.OWED, True)
    assert last.reason.startswith("attention resolved (")


def test_staff_with_view_permission_only_cannot_operate(client, paid):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_share", "view_payoutbatch"]))
    client.force_login(viewer)

    assert client.get(changelist_url(Share)).status_code == 200
    response = client.post(
        changelist_url(Share), {"action": "resolve_attention", "_selected_action": [paid.shares.first().pk]}
    )
    assert Share.objects.filter(needs_attention=True).exists()
    assert client.post(reverse("admin:cooperatives_payoutbatch_create"), {"currency": "PEN"}).status_code == 403
    assert not PayoutBatch.objects.exists()
    assert response.status_code in (200, 302)


# -- reconciliation -----------------------------------------------------------------------------------


def test_run_reconciliation_now(staff_client, paid, refunded):
    response = staff_client.post(reverse("admin:cooperatives_reconciliationrun_run"))

    run = ReconciliationRun.objects.get()
    assert response.status_code == 302 and response.url == change_url(run)
    assert (run.bookings_checked, run.issue_count) == (2, 0)
    assert run.finished_at
    page = staff_client.get(changelist_url(ReconciliationRun)).content.decode()
    assert "Run reconciliation now" in page


def test_reconciliation_issues_filter(staff_client, paid):
    from cooperatives.models import ReconciliationIssue

    run = ReconciliationRun.objects.create()
    ReconciliationIssue.objects.create(run=run, kind="booking_equation", booking=paid, detail="off by one")
    url = changelist_url(ReconciliationIssue)

    assert staff_client.get(url, {"resolved": "no", "kind__exact": "booking_equation"}).context["cl"].result_count == 1
    assert staff_client.get(url, {"resolved": "yes"}).context["cl"].result_count == 0
    assert "off by one" in staff_client.get(change_url(run)).content.decode()


# -- Stripe Connect onboarding ------------------------------------------------------------------------


def test_onboarding_without_stripe_shows_an_error(staff_client, settings):
    settings.STRIPE_SECRET_KEY = ""
    coop = CooperativeFactory()

    response = staff_client.post(
        changelist_url(type(coop)), {"action": "start_stripe_onboarding", "_selected_action": [coop.pk]}, follow=True
    )

    assert "Stripe is not configured: onboarding needs STRIPE_SECRET_KEY." in messages_of(response)


def test_onboarding_needs_exactly_one_recipient(staff_client):
    coops = [CooperativeFactory(), CooperativeFactory()]

    response = staff_client.post(
        changelist_url(type(coops[0])),
        {"action": "start_stripe_onboarding", "_selected_action": [c.pk for c in coops]},
        follow=True,
    )

    assert "Select exactly one recipient to onboard to Stripe Connect." in messages_of(response)


@pytest.mark.parametrize("factory", [CooperativeFactory, CommunityFundFactory, FarmFactory])
def test_onboarding_redirects_to_stripe(staff_client, stripe_server, factory):
    recipient = factory(contact_email="coop@example.com") if factory is CooperativeFactory else factory()

    response = staff_client.post(
        changelist_url(type(recipient)), {"action": "start_stripe_onboarding", "_selected_action": [recipient.pk]}
    )

    assert response.status_code == 302
    recipient.refresh_from_db()
    assert recipient.stripe_account_id.startswith("acct_")
    links = stripe_server.requests_to("POST", "/v1/account_links")
    assert len(links) == 1
    assert links[0].params["return_url"].endswith(change_url(recipient))
    assert response.url.startswith("http")


# -- access --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "admin:cooperatives_share_changelist",
        "admin:cooperatives_payoutbatch_create",
        "admin:cooperatives_reconciliationrun_run",
    ],
)
def test_non_staff_is_sent_to_the_login(client, name):
    client.force_login(UserFactory(is_staff=False))

    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_non_staff_cannot_export_or_mark_paid(client, paid):
    from cooperatives import services

    line = services.payout_batch_create(currency="PEN").lines.get()
    client.force_login(UserFactory(is_staff=False))

    export = client.post(reverse("admin:cooperatives_payoutbatch_export", args=[line.batch_id]))
    mark = client.post(
        reverse("admin:cooperatives_payoutbatch_mark_paid", args=[line.batch_id, line.pk]), {"bank_reference": "X"}
    )

    assert export.status_code == 302 and mark.status_code == 302
    line.refresh_from_db()
    assert line.paid_at is None and line.batch.status == PayoutBatch.Status.DRAFT
