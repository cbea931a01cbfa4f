"""Money: one value type, one formatter, one split.

Amounts are whole minor units (céntimos, cents) with an ISO 4217 currency code. Nothing
in the platform does arithmetic on floats or Decimals for money; conversion happens only
here (``Money.from_decimal`` / ``Money.to_decimal_str``) and at the Stripe boundary, which
also speaks minor units.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CURRENCIES = {
    # code: (symbol, minor-unit exponent)
    "PEN": ("S/", 2),
    "USD": ("US$", 2),
}
CURRENCY_CHOICES = [("PEN", "PEN (S/)"), ("USD", "USD (US$)")]


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


@dataclass(frozen=True, slots=True)
class Money:
    amount: int  # minor units
    currency: str

    def __post_init__(self):
        if self.currency not in CURRENCIES:
            raise ValueError(f"Unsupported currency {self.currency!r}")
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")

    # -- construction -------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, value: str | Decimal | int, currency: str) -> Money:
        """Parse a major-unit amount such as ``"120.50"`` exactly (no float)."""
        if currency not in CURRENCIES:
            raise ValueError(f"Unsupported currency {currency!r}")
        exponent = CURRENCIES[currency][1]
        try:
            dec = Decimal(str(value))
        except InvalidOperation as exc:
            raise ValueError(f"Not an amount: {value!r}") from exc
        if not dec.is_finite():
            raise ValueError(f"Not an amount: {value!r}")
        quantum = Decimal(1).scaleb(-exponent)
        if dec.quantize(quantum, rounding=ROUND_HALF_UP) != dec:
            raise ValueError(f"{value} has more than {exponent} decimal places")
        return cls(int(dec.scaleb(exponent)), currency)

    # -- arithmetic ---------------------------------------------------------------
    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError("Can only combine Money with Money")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} cannot be combined")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if not isinstance(factor, int) or isinstance(factor, bool):
            raise TypeError("Money can only be multiplied by an int")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.amount <= other.amount

    def __bool__(self) -> bool:
        return self.amount != 0

    # -- presentation -------------------------------------------------------------
    def to_decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-CURRENCIES[self.currency][1])

    def format(self) -> str:
        """``S/ 120.00``, ``US$ 45.00``, ``-S/ 3.50``; thousands separated by commas."""
        symbol, exponent = CURRENCIES[self.currency]
        sign = "-" if self.amount < 0 else ""
        major, minor = divmod(abs(self.amount), 10**exponent)
        return f"{sign}{symbol} {major:,}.{minor:0{exponent}d}"

    def __str__(self) -> str:
        return self.format()

    # -- splitting ----------------------------------------------------------------
    def allocate(self, weights: list[int]) -> list[Money]:
        """Split into parts proportional to ``weights`` with the largest-remainder method."""
        return [Money(part, self.currency) for part in allocate(self.amount, weights)]


def allocate(total: int, weights: list[int]) -> list[int]:
    """Largest-remainder split of ``total`` minor units in proportion to ``weights``.

    The parts always add up to ``total`` exactly, each part is within one minor unit of its
    exact share, and ties are broken deterministically (earlier weights first). A weight
    may be zero; all weights must be non-negative and at least one positive.
    """
    if not weights:
        raise ValueError("weights must not be empty")
    if any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative")
    weight_sum = sum(weights)
    if weight_sum <= 0:
        raise ValueError("at least one weight must be positive")
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    floors = []
    remainders = []
    for index, weight in enumerate(weights):
        quotient, remainder = divmod(magnitude * weight, weight_sum)
        floors.append(quotient)
        remainders.append((-remainder, index))
    leftover = magnitude - sum(floors)
    for _, index in sorted(remainders)[:leftover]:
        floors[index] += 1
    return [sign * part for part in floors]


def basis_points_split(total: int, basis_points: list[int]) -> tuple[list[int], int]:
    """Split ``total`` into shares of ``basis_points`` (each 1..10000, summing ≤ 10000).

    Returns the recipients' parts and the operator's remainder; the operator is a
    participant of the largest-remainder split with the unallocated basis points, so
    ``sum(parts) + remainder == total`` always holds.
    """
    if sum(basis_points) > 10_000:
        raise ValueError("shares exceed 100%")
    parts = allocate(total, [*basis_points, 10_000 - sum(basis_points)]) if basis_points else [total]
    return parts[:-1], parts[-1]
