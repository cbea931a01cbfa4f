"""Properties of the split and of the proportional reversal (hypothesis; example counts kept modest).

For every total and every set of weights: the parts add up exactly, each part is within one
minor unit of its exact share, no part is negative, and the same input always gives the same
parts. The reversal of a refund across the shares and the operator (``shares_reverse_on_refund``)
is checked the same way, through the real split and the real ledger.
"""

from fractions import Fraction

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings.models import Payment, PaymentStatus
from cacaotours.core.money import allocate, basis_points_split
from cooperatives import services
from cooperatives.models import JournalLeg, LedgerAccount, Share
from tests.factories import CommunityFundFactory, CooperativeFactory, FarmFactory, ShareRuleFactory

from .conftest import ready

totals = st.integers(min_value=0, max_value=10**10)
weight_lists = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=8).filter(any)
basis_point_lists = st.lists(st.integers(min_value=1, max_value=10_000), min_size=0, max_size=8).filter(
    lambda bps: sum(bps) <= 10_000
)


def within_one_unit(part: int, exact: Fraction) -> bool:
    return abs(part - exact) < 1


@settings(max_examples=200, deadline=None)
@given(total=totals, weights=weight_lists)
def test_allocate_parts_add_up_and_stay_within_one_unit(total, weights):
    parts = allocate(total, weights)

    assert len(parts) == len(weights)
    assert sum(parts) == total
    assert all(part >= 0 for part in parts)
    weight_sum = sum(weights)
    assert all(within_one_unit(part, Fraction(total * w, weight_sum)) for part, w in zip(parts, weights, strict=True))
    assert all(part == 0 for part, w in zip(parts, weights, strict=True) if w == 0)
    assert allocate(total, list(weights)) == parts  # deterministic


@settings(max_examples=200, deadline=None)
@given(total=totals, weights=weight_lists)
def test_allocate_of_a_negative_total_mirrors_the_positive_one(total, weights):
    assert allocate(-total, weights) == [-part for part in allocate(total, weights)]


@settings(max_examples=200, deadline=None)
@given(total=totals, bps=basis_point_lists)
def test_basis_points_split_gives_the_operator_the_rest(total, bps):
    parts, operator = basis_points_split(total, bps)

    assert len(parts) == len(bps)
    assert sum(parts) + operator == total
    assert all(part >= 0 for part in parts) and operator >= 0
    assert all(within_one_unit(part, Fraction(total * bp, 10_000)) for part, bp in zip(parts, bps, strict=True))
    assert within_one_unit(operator, Fraction(total * (10_000 - sum(bps)), 10_000))
    assert basis_points_split(total, list(bps)) == (parts, operator)


def test_basis_points_split_examples():
    assert basis_points_split(70000, [1500, 1000, 500]) == ([10500, 7000, 3500], 49000)
    # 1 céntimo cannot be split: the largest remainder (the operator's 70%) takes it
    assert basis_points_split(1, [1500, 1000, 500]) == ([0, 0, 0], 1)
    # three equal thirds of S/ 1.00: ties go to the earlier parts
    assert basis_points_split(100, [3333, 3333, 3334]) == ([33, 33, 34], 0)
    assert basis_points_split(100, [3333, 3333, 3333]) == ([34, 33, 33], 0)  # 0.33 beats the operator's 0.01
    assert basis_points_split(0, [1500]) == ([0], 0)
    assert basis_points_split(999, []) == ([], 999)
    with pytest.raises(ValueError, match="shares exceed 100%"):
        basis_points_split(100, [6000, 5000])


# -- the reversal of a refund, through the real split and ledger ----------------------------------


@pytest.fixture
def four_recipients(tour, departure, traveller):
    """A booking whose tour has four share rules (their basis points are set per example)."""
    recipients = [
        CooperativeFactory(),
        CooperativeFactory(),
        CommunityFundFactory(cooperative=None),
        FarmFactory(cooperative=None),
    ]
    rules = []
    for recipient in recipients:
        kind = {"Cooperative": "cooperative", "CommunityFund": "fund", "Farm": "farm"}[type(recipient).__name__]
        fields = {"cooperative": None, "fund": None, "farm": None, kind: recipient}
        rules.append(ShareRuleFactory(tour=tour, basis_points=100, **fields))
    return ready(departure, traveller, adults=1), rules


def split_and_refund(booking, rules, bps, amount, refunds):
    """In a savepoint that is rolled back: split ``amount`` by ``bps``, apply ``refunds``; return the parts."""
    with transaction.atomic():
        for rule, bp in zip(rules, bps, strict=True):
            type(rule).objects.filter(pk=rule.pk).update(basis_points=bp)
        payment = Payment.objects.create(
            booking=booking,
            provider=Payment.Provider.SIMULATED,
            status=PaymentStatus.SUCCEEDED,
            amount=amount,
            amount_received=amount,
            currency=booking.currency,
        )
        services.shares_split_on_capture(booking=booking, payment=payment)
        shares = list(Share.objects.filter(payment=payment).order_by("id"))
        split = {share.pk: share.amount for share in shares}
        operator = -sum(
            JournalLeg.objects.filter(
                entry__idempotency_key=f"split:{payment.pk}", account__kind=LedgerAccount.Kind.REVENUE
            ).values_list("amount", flat=True)
        )
        steps = []
        for refund in refunds:
            before = {share.pk: share.amount_reversed for share in Share.objects.filter(payment=payment).order_by("id")}
            entry = services.shares_reverse_on_refund(payment=payment, amount=refund, reason="property test")
            after = {share.pk: share.amount_reversed for share in Share.objects.filter(payment=payment).order_by("id")}
            operator_part = sum(
                leg.amount for leg in entry.legs.select_related("account") if leg.account.kind == "revenue"
            )
            assert sum(leg.amount for leg in entry.legs.all()) == 0
            steps.append(([after[pk] - before[pk] for pk in split], operator_part))
        final = {
            share.pk: (share.amount, share.amount_reversed)
            for share in Share.objects.filter(payment=payment).order_by("id")
        }
        transaction.set_rollback(True)
    return list(split.values()), operator, steps, final


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    bps=st.lists(st.integers(min_value=1, max_value=2500), min_size=4, max_size=4),
    amount=st.integers(min_value=1, max_value=5_000_000),
    data=st.data(),
)
def test_a_refund_is_reversed_in_proportion_across_shares_and_operator(four_recipients, bps, amount, data):
    booking, rules = four_recipients
    first = data.draw(st.integers(min_value=1, max_value=amount), label="first refund")
    second = data.draw(st.integers(min_value=0, max_value=amount - first), label="second refund")
    refunds = [first, second] if second else [first]

    split, operator, steps, final = split_and_refund(booking, rules, bps, amount, refunds)

    weights = [*split, operator]
    assert sum(weights) == amount
    # the first refund: every part within one céntimo of its exact proportional share, none negative
    parts, operator_part = steps[0]
    assert sum(parts) + operator_part == first
    assert all(part >= 0 for part in parts) and operator_part >= 0
    for part, weight in zip([*parts, operator_part], weights, strict=True):
        assert within_one_unit(part, Fraction(first * weight, amount))
    # later refunds: never more than what remains of a part; together exact
    for (amount_of_share, reversed_), share_amount in zip(final.values(), split, strict=True):
        assert amount_of_share == share_amount
        assert 0 <= reversed_ <= amount_of_share
    assert sum(sum(p) + o for p, o in steps) == sum(refunds)
    if sum(refunds) == amount:
        assert [reversed_ for _, reversed_ in final.values()] == split  # a full refund reverses everything
    # deterministic: the same split and refunds again give the same parts
    assert split_and_refund(booking, rules, bps, amount, refunds)[2] == steps
