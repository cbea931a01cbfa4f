from decimal import Decimal
from fractions import Fraction

import pytest
from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from cacaotours.core.money import CurrencyMismatch, Money, allocate, basis_points_split

# -- formatting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (12000, "PEN", "S/ 120.00"),
        (4500, "USD", "US$ 45.00"),
        (0, "PEN", "S/ 0.00"),
        (5, "PEN", "S/ 0.05"),
        (1050, "USD", "US$ 10.50"),
        (-350, "PEN", "-S/ 3.50"),
        (-1, "USD", "-US$ 0.01"),
        (123_456_789, "PEN", "S/ 1,234,567.89"),
        (100_000_000, "USD", "US$ 1,000,000.00"),
        (99_999, "PEN", "S/ 999.99"),
        (100_000, "PEN", "S/ 1,000.00"),
    ],
)
def test_format(amount, currency, expected):
    assert Money(amount, currency).format() == expected
    assert str(Money(amount, currency)) == expected


def test_money_template_filter_formats_money_and_minor_units():
    template = Template(
        '{% load money %}{{ price|money }} | {{ cents|money }} | {{ cents|money:"USD" }} | {{ none|money }}'
    )
    rendered = template.render(Context({"price": Money(35000, "PEN"), "cents": 4500, "none": None}))
    assert rendered == "S/ 350.00 | S/ 45.00 | US$ 45.00 | "


# -- construction -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        ("120.50", "PEN", Money(12050, "PEN")),
        ("120.5", "PEN", Money(12050, "PEN")),
        ("120", "USD", Money(12000, "USD")),
        (120, "PEN", Money(12000, "PEN")),
        (Decimal("0.01"), "PEN", Money(1, "PEN")),
        (Decimal("0.10"), "USD", Money(10, "USD")),
        ("-3.50", "PEN", Money(-350, "PEN")),
        ("0", "PEN", Money(0, "PEN")),
        ("1234567.89", "PEN", Money(123_456_789, "PEN")),
        ("19.99", "USD", Money(1999, "USD")),  # 19.99 * 100 is 1998.9999... as a float
        (" 1.5 ", "PEN", Money(150, "PEN")),
    ],
)
def test_from_decimal_is_exact(value, currency, expected):
    result = Money.from_decimal(value, currency)
    assert result == expected
    assert type(result.amount) is int


@pytest.mark.parametrize("value", ["1.005", "0.001", "120.501", "abc", "", "1,000.00", "NaN"])
def test_from_decimal_refuses_non_amounts_and_sub_cent_precision(value):
    with pytest.raises(ValueError):
        Money.from_decimal(value, "PEN")


def test_from_decimal_refuses_infinity_with_value_error():
    with pytest.raises(ValueError):
        Money.from_decimal("Infinity", "PEN")


def test_from_decimal_refuses_unknown_currency_with_value_error():
    with pytest.raises(ValueError):
        Money.from_decimal("10.00", "EUR")


def test_to_decimal_round_trips():
    assert Money(12050, "PEN").to_decimal() == Decimal("120.50")
    assert Money.from_decimal(Money(-7, "USD").to_decimal(), "USD") == Money(-7, "USD")


def test_unsupported_currency_is_refused():
    with pytest.raises(ValueError, match="Unsupported currency 'EUR'"):
        Money(100, "EUR")


@pytest.mark.parametrize("amount", [1.5, Decimal("1.50"), "150", True, None])
def test_amount_must_be_int_minor_units(amount):
    with pytest.raises(TypeError):
        Money(amount, "PEN")


def test_zero():
    assert Money.zero("USD") == Money(0, "USD")
    assert not Money.zero("PEN")
    assert Money(1, "PEN")


# -- arithmetic -------------------------------------------------------------------------


def test_arithmetic_in_one_currency():
    a, b = Money(12000, "PEN"), Money(3550, "PEN")
    assert a + b == Money(15550, "PEN")
    assert a - b == Money(8450, "PEN")
    assert b - a == Money(-8450, "PEN")
    assert a * 3 == Money(36000, "PEN")
    assert 3 * a == Money(36000, "PEN")
    assert -a == Money(-12000, "PEN")
    assert b < a
    assert b <= a
    assert a <= Money(12000, "PEN")
    assert not a < b


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
    ],
)
def test_combining_currencies_raises_currency_mismatch(operation):
    with pytest.raises(CurrencyMismatch, match="PEN and USD cannot be combined"):
        operation(Money(100, "PEN"), Money(100, "USD"))


def test_currency_mismatch_is_a_value_error():
    assert issubclass(CurrencyMismatch, ValueError)


@pytest.mark.parametrize("other", [100, Decimal("1.00"), 1.0])
def test_money_only_combines_with_money(other):
    with pytest.raises(TypeError):
        Money(100, "PEN") + other


@pytest.mark.parametrize("factor", [1.5, Decimal("2"), True])
def test_money_only_multiplies_by_int(factor):
    with pytest.raises(TypeError):
        Money(100, "PEN") * factor


def test_money_is_immutable_and_hashable():
    money = Money(100, "PEN")
    with pytest.raises(AttributeError):
        money.amount = 200
    assert {money, Money(100, "PEN"), Money(100, "USD")} == {Money(100, "PEN"), Money(100, "USD")}


# -- allocate ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (-100, [1, 1, 1], [-34, -33, -33]),
        (101, [1, 1], [51, 50]),
        (10, [0, 1], [0, 10]),
        (0, [3, 7], [0, 0]),
        (1, [1, 1, 1], [1, 0, 0]),
        (2, [1, 1, 1], [1, 1, 0]),
        (1000, [1, 2, 3, 4], [100, 200, 300, 400]),
        # 7 * 0.3 = 2.1, 7 * 0.7 = 4.9: the larger remainder (0.9) takes the spare unit
        (7, [3, 7], [2, 5]),
        # 10 / 3 = 3.33..: the first two largest remainders are equal; earlier weight first
        (10, [1, 1, 1], [4, 3, 3]),
        (5, [1, 2], [2, 3]),
    ],
)
def test_allocate_examples(total, weights, expected):
    assert allocate(total, weights) == expected


@pytest.mark.parametrize(
    ("weights", "message"),
    [([], "must not be empty"), ([1, -1], "non-negative"), ([0, 0], "at least one weight must be positive")],
)
def test_allocate_refuses_bad_weights(weights, message):
    with pytest.raises(ValueError, match=message):
        allocate(100, weights)


def test_money_allocate_keeps_currency():
    assert Money(1000, "USD").allocate([1, 1, 1]) == [Money(334, "USD"), Money(333, "USD"), Money(333, "USD")]


# -- basis_points_split -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "basis_points", "expected"),
    [
        (35000, [1500, 1000, 500], ([5250, 3500, 1750], 24500)),
        (35000, [], ([], 35000)),
        (35000, [10_000], ([35000], 0)),
        (100, [5000, 5000], ([50, 50], 0)),
        # 1 céntimo at three shares of 33.33% and 0.01% left for the operator
        (1, [3333, 3333, 3333], ([1, 0, 0], 0)),
        # 999 × 33.33% = 332.97, 999 × 33.34% = 333.07: the two larger remainders get the units
        (999, [3333, 3333, 3334], ([333, 333, 333], 0)),
        # 12345 × 15% = 1851.75, × 10% = 1234.5, × 5% = 617.25, operator 70% = 8641.5: two spare
        # units; 0.75 first, then the tie of 0.5 goes to the earlier recipient, not the operator
        (12345, [1500, 1000, 500], ([1852, 1235, 617], 8641)),
        (-35000, [1500], ([-5250], -29750)),
    ],
)
def test_basis_points_split_examples(total, basis_points, expected):
    assert basis_points_split(total, basis_points) == expected


def test_basis_points_split_refuses_more_than_100_percent():
    with pytest.raises(ValueError, match="shares exceed 100%"):
        basis_points_split(10_000, [5000, 5001])


# -- properties -------------------------------------------------------------------------

totals = st.integers(min_value=-(10**12), max_value=10**12)
weight_lists = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12).filter(lambda w: sum(w) > 0)


@st.composite
def basis_point_lists(draw):
    points = draw(st.lists(st.integers(min_value=1, max_value=10_000), max_size=10))
    budget, kept = 10_000, []
    for bp in points:
        if bp <= budget:
            kept.append(bp)
            budget -= bp
    return kept


@given(total=totals, weights=weight_lists)
def test_allocate_parts_sum_exactly_to_total(total, weights):
    assert sum(allocate(total, weights)) == total


@given(total=totals, weights=weight_lists)
def test_allocate_each_part_within_one_minor_unit_of_exact_share(total, weights):
    weight_sum = sum(weights)
    for part, weight in zip(allocate(total, weights), weights, strict=True):
        assert abs(part - Fraction(total * weight, weight_sum)) < 1


@given(total=st.integers(min_value=0, max_value=10**12), weights=weight_lists)
def test_allocate_never_negative_for_non_negative_total(total, weights):
    parts = allocate(total, weights)
    assert all(part >= 0 for part in parts)
    assert all(part == 0 for part, weight in zip(parts, weights, strict=True) if weight == 0)


@given(total=totals, weights=weight_lists)
def test_allocate_is_deterministic_and_symmetric_in_sign(total, weights):
    assert allocate(total, weights) == allocate(total, list(weights))
    assert allocate(-total, weights) == [-part for part in allocate(total, weights)]


@given(total=st.integers(min_value=0, max_value=10**10), basis_points=basis_point_lists())
def test_basis_points_split_properties(total, basis_points):
    parts, operator = basis_points_split(total, basis_points)
    assert len(parts) == len(basis_points)
    assert sum(parts) + operator == total
    assert all(part >= 0 for part in parts)
    assert operator >= 0
    for part, bp in zip(parts, basis_points, strict=True):
        assert abs(part - Fraction(total * bp, 10_000)) < 1
    assert abs(operator - Fraction(total * (10_000 - sum(basis_points)), 10_000)) < 1
    assert basis_points_split(total, basis_points) == (parts, operator)
