"""Writes for routes, tours and their share rules."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_BASIS_POINTS = 10_000


def share_rules_validate_total(*, basis_points: list[int]) -> int:
    """Refuse a set of share rules that adds up to more than 100%; return the total."""
    if any(bp < 1 or bp > MAX_BASIS_POINTS for bp in basis_points):
        raise ValidationError(_("Each share is between 1 and 10,000 basis points (0.01% to 100%)."), code="range")
    total = sum(basis_points)
    if total > MAX_BASIS_POINTS:
        raise ValidationError(
            _("The shares add up to %(total)s%%; the shares of one tour cannot exceed 100%%.")
            % {"total": f"{total / 100:.2f}"},
            code="over_100",
        )
    return total
