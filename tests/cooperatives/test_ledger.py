"""The ledger's guards: journal_post refuses unbalanced entries; PostgreSQL refuses them too, and edits.

On PostgreSQL (migration cooperatives/0004) a deferred constraint trigger checks at commit that
every entry's legs sum to zero per currency, and triggers refuse UPDATE and DELETE of posted
entries and legs. These tests go around ``journal_post`` on purpose.
"""

import pytest
from django.db import IntegrityError, connection, transaction

from cooperatives import services
from cooperatives.models import JournalEntry, JournalLeg, LedgerAccount
from cooperatives.services import LedgerError, Leg

from .conftest import ledger_snapshot

pytestmark = pytest.mark.django_db
K = LedgerAccount.Kind


@pytest.fixture
def accounts(coop):
    return {
        "clearing": services.ledger_account(kind=K.CLEARING, currency="PEN"),
        "revenue": services.ledger_account(kind=K.REVENUE, currency="PEN"),
        "payable": services.ledger_account(kind=K.PAYABLE, currency="PEN", recipient=coop),
        "clearing_usd": services.ledger_account(kind=K.CLEARING, currency="USD"),
        "revenue_usd": services.ledger_account(kind=K.REVENUE, currency="USD"),
    }


def post(accounts, *amounts, key="correction:1", names=("clearing", "payable", "revenue")):
    legs = [Leg(accounts[name], amount) for name, amount in zip(names, amounts, strict=True)]
    with transaction.atomic():
        return services.journal_post(kind="correction", memo="test", idempotency_key=key, legs=legs)


def test_accounts_are_created_once_with_stable_keys(accounts, coop):
    assert accounts["clearing"].key == "clearing:PEN"
    assert accounts["payable"].key == f"payable:PEN:cooperative:{coop.pk}"
    assert accounts["payable"].name == "Quillabamba Cacao Cooperative"
    again = services.ledger_account(kind=K.PAYABLE, currency="PEN", recipient=coop)
    assert again.pk == accounts["payable"].pk
    assert LedgerAccount.objects.count() == 5


def test_payable_accounts_and_only_they_belong_to_a_recipient(coop):
    with pytest.raises(LedgerError):
        services.ledger_account(kind=K.PAYABLE, currency="PEN")
    with pytest.raises(LedgerError):
        services.ledger_account(kind=K.REVENUE, currency="PEN", recipient=coop)
    assert LedgerAccount.objects.count() == 0


def test_a_balanced_entry_is_posted_once(accounts):
    entry = post(accounts, 1000, -600, -400)

    assert [(leg.account_id, leg.amount, leg.currency) for leg in entry.legs.all()] == [
        (accounts["clearing"].pk, 1000, "PEN"),
        (accounts["payable"].pk, -600, "PEN"),
        (accounts["revenue"].pk, -400, "PEN"),
    ]
    before = ledger_snapshot()
    assert post(accounts, 1000, -600, -400) is None  # same idempotency key
    assert ledger_snapshot() == before


def test_zero_legs_are_dropped(accounts):
    entry = post(accounts, 500, 0, -500)

    assert list(entry.legs.values_list("amount", flat=True)) == [500, -500]
    assert post(accounts, 0, 0, 0, key="correction:2") is None
    assert JournalEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("amounts", "names"),
    [
        ((1000, -600, -399), ("clearing", "payable", "revenue")),
        ((1, 0, 0), ("clearing", "payable", "revenue")),
        # balanced in total, not per currency
        ((1000, -1000), ("clearing", "revenue_usd")),
    ],
)
def test_journal_post_refuses_unbalanced_legs_and_writes_nothing(accounts, amounts, names):
    before = ledger_snapshot()

    with pytest.raises(LedgerError, match="unbalanced entry correction:1"):
        post(accounts, *amounts, names=names)

    assert ledger_snapshot() == before


def test_the_invariant_check_finds_an_entry_written_around_journal_post(accounts):
    with transaction.atomic():
        entry = JournalEntry.objects.create(kind="correction", memo="around", idempotency_key="raw:1")
        JournalLeg.objects.create(entry=entry, account=accounts["clearing"], amount=100, currency="PEN")

        assert services.ledger_unbalanced_entries() == [entry.pk]

        # rolled back: PostgreSQL's deferred trigger would refuse it when constraints are checked
        transaction.set_rollback(True)
    assert services.ledger_unbalanced_entries() == []


# -- PostgreSQL guards --------------------------------------------------------------------------------


def insert_raw(accounts, amounts, key="raw:1") -> None:
    entry = JournalEntry.objects.create(kind="correction", memo="around journal_post", idempotency_key=key)
    JournalLeg.objects.bulk_create(
        JournalLeg(entry=entry, account=accounts[name], amount=amount, currency=accounts[name].currency)
        for name, amount in amounts
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_refuses_to_commit_an_unbalanced_entry(accounts):
    with pytest.raises(IntegrityError, match="does not sum to zero per currency"), transaction.atomic():
        insert_raw(accounts, [("clearing", 1000), ("revenue", -999)])

    assert (JournalEntry.objects.count(), JournalLeg.objects.count()) == (0, 0)

    with pytest.raises(IntegrityError, match="does not sum to zero per currency"), transaction.atomic():
        insert_raw(accounts, [("clearing", 1000), ("revenue_usd", -1000)])  # per currency

    assert (JournalEntry.objects.count(), JournalLeg.objects.count()) == (0, 0)

    with transaction.atomic():  # legs inserted one by one balance by commit time: accepted
        insert_raw(accounts, [("clearing", 1000), ("payable", -600), ("revenue", -400)])

    assert JournalLeg.objects.count() == 3


@pytest.mark.postgres
def test_postgres_checks_the_balance_as_soon_as_constraints_are_immediate(accounts):
    with pytest.raises(IntegrityError, match="does not sum to zero per currency"), transaction.atomic():
        insert_raw(accounts, [("clearing", 1000)])
        connection.cursor().execute("SET CONSTRAINTS cooperatives_journalleg_balanced IMMEDIATE")

    assert JournalEntry.objects.count() == 0


@pytest.mark.postgres
def test_postgres_refuses_to_change_or_delete_posted_legs_and_entries(accounts):
    entry = post(accounts, 1000, -600, -400)
    leg = entry.legs.first()
    before = ledger_snapshot()

    def refused(action):
        with pytest.raises(IntegrityError, match="posted ledger rows are never changed"), transaction.atomic():
            action()

    leg.amount = 1001
    refused(lambda: leg.save(update_fields=["amount"]))
    refused(lambda: JournalLeg.objects.filter(pk=leg.pk).update(account=accounts["revenue"]))
    refused(lambda: JournalLeg.objects.filter(entry=entry).delete())
    refused(lambda: JournalEntry.objects.filter(pk=entry.pk).update(memo="edited"))
    refused(lambda: connection.cursor().execute("DELETE FROM cooperatives_journalentry WHERE id = %s", [entry.pk]))

    assert ledger_snapshot() == before
    assert list(entry.legs.values_list("amount", flat=True)) == [1000, -600, -400]
