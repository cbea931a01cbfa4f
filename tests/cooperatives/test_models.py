import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction

from cacaotours.core.models import PayoutMethod
from cooperatives.models import CommunityFund, Cooperative, Membership
from farms.models import Farm
from tests.factories import (
    CommunityFundFactory,
    CooperativeFactory,
    FarmFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

VALID_CCI = "00219300123456789012"

# Cooperatives, community funds and farms all carry payout details with the same constraints.
RECIPIENTS = [
    pytest.param(CooperativeFactory, Cooperative, id="cooperative"),
    pytest.param(CommunityFundFactory, CommunityFund, id="fund"),
    pytest.param(FarmFactory, Farm, id="farm"),
]


def assert_integrity_error(factory, model, errors=IntegrityError, **fields):
    before = model.objects.count()
    with pytest.raises(errors), transaction.atomic():
        factory(**fields)
    assert model.objects.count() == before


@pytest.mark.parametrize(("factory", "model"), RECIPIENTS)
@pytest.mark.parametrize("cci", ["1234", "0021930012345678901", "0021930012345678901a", "0021-9300-1234-56789"])
def test_cci_must_be_20_digits_in_the_database(factory, model, cci):
    assert_integrity_error(factory, model, bank_cci=cci)


@pytest.mark.parametrize(("factory", "model"), RECIPIENTS)
def test_cci_longer_than_20_digits_is_refused_by_the_database(factory, model):
    # PostgreSQL refuses it as too long for varchar(20) (DataError); SQLite by the check constraint.
    assert_integrity_error(factory, model, errors=(IntegrityError, DataError), bank_cci="002193001234567890123")


@pytest.mark.parametrize(("factory", "model"), RECIPIENTS)
def test_bank_transfer_with_cci_and_holder_is_accepted(factory, model):
    recipient = factory(
        payout_method=PayoutMethod.BANK_TRANSFER, bank_cci=VALID_CCI, bank_account_holder="Asociación Agroforestal"
    )
    recipient.full_clean()
    assert recipient.masked_cci == "•••• •••• •••• 9012"
    assert not recipient.can_receive_stripe_transfers


@pytest.mark.parametrize(("factory", "model"), RECIPIENTS)
@pytest.mark.parametrize(
    "fields",
    [
        {"payout_method": PayoutMethod.BANK_TRANSFER, "bank_cci": VALID_CCI, "bank_account_holder": ""},
        {"payout_method": PayoutMethod.BANK_TRANSFER, "bank_cci": "", "bank_account_holder": "Asociación"},
        {"payout_method": PayoutMethod.STRIPE_CONNECT, "stripe_account_id": ""},
    ],
    ids=["bank-without-holder", "bank-without-cci", "stripe-without-account"],
)
def test_payout_method_needs_its_details(factory, model, fields):
    assert_integrity_error(factory, model, **fields)


@pytest.mark.parametrize(("factory", "model"), RECIPIENTS)
def test_stripe_recipient_can_receive_transfers_only_when_enabled(factory, model):
    recipient = factory(payout_method=PayoutMethod.STRIPE_CONNECT, stripe_account_id="acct_1AbC23dEfG")
    assert not recipient.can_receive_stripe_transfers
    recipient.stripe_transfers_enabled = True
    assert recipient.can_receive_stripe_transfers
    assert recipient.masked_cci == ""


@pytest.mark.parametrize(("factory", "model"), RECIPIENTS)
@pytest.mark.parametrize("cci", ["0021930012345678901A", "0021930012345678901", "0021 9300 1234 5678 90"])
def test_full_clean_refuses_bad_cci(factory, model, cci):
    recipient = factory.build(bank_cci=cci)
    if model is not Cooperative:
        recipient.cooperative = CooperativeFactory()
    with pytest.raises(ValidationError) as excinfo:
        recipient.full_clean()
    assert "invalid_cci" in [error.code for error in excinfo.value.error_dict["bank_cci"]]
    assert (
        "A CCI (Código de Cuenta Interbancario) has exactly 20 digits, without spaces or dashes."
        in excinfo.value.message_dict["bank_cci"]
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"payout_method": PayoutMethod.STRIPE_CONNECT}, "Stripe Connect payouts need a connected account id."),
        (
            {"payout_method": PayoutMethod.BANK_TRANSFER, "bank_cci": VALID_CCI},
            "Bank transfers need the account holder and a CCI.",
        ),
    ],
)
def test_full_clean_explains_payout_constraints(fields, message):
    cooperative = CooperativeFactory.build(**fields)
    with pytest.raises(ValidationError) as excinfo:
        cooperative.full_clean()
    assert message in excinfo.value.messages


def test_full_clean_refuses_malformed_stripe_account():
    cooperative = CooperativeFactory.build(payout_method=PayoutMethod.STRIPE_CONNECT, stripe_account_id="acct_1")
    with pytest.raises(ValidationError) as excinfo:
        cooperative.full_clean()
    assert excinfo.value.message_dict["stripe_account_id"] == [
        "A Stripe connected account id looks like acct_1AbC23dEfG."
    ]


def test_cooperative_slug_is_unique():
    CooperativeFactory(slug="agrobosque")
    assert_integrity_error(CooperativeFactory, Cooperative, slug="agrobosque")


def test_fund_slug_is_unique():
    CommunityFundFactory(slug="women-chocolate")
    assert_integrity_error(CommunityFundFactory, CommunityFund, slug="women-chocolate")


@pytest.mark.parametrize("founded", [1899, 2101])
def test_founded_year_must_be_plausible(founded):
    assert_integrity_error(CooperativeFactory, Cooperative, founded=founded)


def test_membership_is_for_exactly_one_organisation():
    user = UserFactory()
    cooperative = CooperativeFactory()
    fund = CommunityFundFactory()
    assert_integrity_error(MembershipFactory, Membership, user=user, cooperative=cooperative, fund=fund)
    assert_integrity_error(MembershipFactory, Membership, user=user, cooperative=None, fund=None)
    MembershipFactory(user=user, cooperative=None, fund=fund)
    MembershipFactory(user=user, cooperative=cooperative)
    assert Membership.objects.count() == 2


def test_membership_is_unique_per_user_and_organisation():
    membership = MembershipFactory()
    fund_membership = MembershipFactory(user=membership.user, cooperative=None, fund=CommunityFundFactory())
    assert_integrity_error(MembershipFactory, Membership, user=membership.user, cooperative=membership.cooperative)
    assert_integrity_error(
        MembershipFactory, Membership, user=membership.user, cooperative=None, fund=fund_membership.fund
    )


def test_str_is_readable():
    cooperative = CooperativeFactory(name_en="Agrobosque Cooperative")
    fund = CommunityFundFactory(name_en="Women's chocolate makers", cooperative=cooperative)
    user = UserFactory(email="rosa@example.com", first_name="Rosa", last_name="Quispe")
    assert str(cooperative) == "Agrobosque Cooperative"
    assert str(fund) == "Women's chocolate makers"
    assert str(MembershipFactory(user=user, cooperative=cooperative, role=Membership.Role.TREASURER)) == (
        "Rosa Quispe <rosa@example.com> · Treasurer · Agrobosque Cooperative"
    )
    assert str(MembershipFactory(user=user, cooperative=None, fund=fund)) == (
        "Rosa Quispe <rosa@example.com> · Leader · Women's chocolate makers"
    )


def test_fund_url_points_at_its_cooperative_page():
    cooperative = CooperativeFactory(slug="agrobosque")
    assert CommunityFundFactory(slug="trees", cooperative=cooperative).get_absolute_url() == (
        "/cooperatives/agrobosque/#fund-trees"
    )
    assert CommunityFundFactory(cooperative=None).get_absolute_url() == ""
    assert cooperative.get_absolute_url() == "/cooperatives/agrobosque/"
