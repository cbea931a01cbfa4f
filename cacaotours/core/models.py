"""Abstract building blocks shared by the domain apps."""

import operator
from functools import reduce

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

cci_validator = RegexValidator(
    r"^[0-9]{20}$",
    _("A CCI (Código de Cuenta Interbancario) has exactly 20 digits, without spaces or dashes."),
    code="invalid_cci",
)
stripe_account_validator = RegexValidator(
    r"^acct_[A-Za-z0-9]{6,}$",
    _("A Stripe connected account id looks like acct_1AbC23dEfG."),
    code="invalid_stripe_account",
)


def exactly_one_of(*fields: str) -> Q:
    """A condition: exactly one of the nullable foreign keys ``fields`` is set.

    Used by every model that points at "one cooperative, fund or farm" (share rules, shares,
    payout lines) or "one cooperative or fund" (memberships, invitations, change requests).
    """
    return reduce(
        operator.or_,
        (reduce(operator.and_, (Q(**{f"{other}__isnull": other != field}) for other in fields)) for field in fields),
    )


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class PayoutMethod(models.TextChoices):
    NONE = "none", _("Not set up yet (shares are kept as owed)")
    STRIPE_CONNECT = "stripe_connect", _("Stripe Connect transfer")
    BANK_TRANSFER = "bank_transfer", _("Peruvian bank transfer (CCI)")


class PayoutDetails(models.Model):
    """How a revenue-share recipient (cooperative, farm, community fund) gets paid."""

    payout_method = models.CharField(
        _("payout method"), max_length=20, choices=PayoutMethod.choices, default=PayoutMethod.NONE
    )
    stripe_account_id = models.CharField(
        _("Stripe connected account"),
        max_length=64,
        blank=True,
        validators=[stripe_account_validator],
    )
    stripe_transfers_enabled = models.BooleanField(
        _("Stripe can pay this account"),
        default=False,
        help_text=_("Updated from Stripe's account.updated events."),
    )
    bank_name = models.CharField(_("bank"), max_length=80, blank=True)
    bank_account_holder = models.CharField(_("account holder"), max_length=120, blank=True)
    bank_cci = models.CharField(_("CCI (20 digits)"), max_length=20, blank=True, validators=[cci_validator])

    class Meta:
        abstract = True

    @classmethod
    def payout_constraints(cls, prefix: str) -> list[models.BaseConstraint]:
        return [
            models.CheckConstraint(
                condition=Q(bank_cci="") | Q(bank_cci__regex=r"^[0-9]{20}$"),
                name=f"{prefix}_cci_20_digits",
                violation_error_message=_("A CCI has exactly 20 digits."),
            ),
            models.CheckConstraint(
                condition=~Q(payout_method=PayoutMethod.STRIPE_CONNECT) | ~Q(stripe_account_id=""),
                name=f"{prefix}_stripe_needs_account",
                violation_error_message=_("Stripe Connect payouts need a connected account id."),
            ),
            models.CheckConstraint(
                condition=~Q(payout_method=PayoutMethod.BANK_TRANSFER) | (~Q(bank_cci="") & ~Q(bank_account_holder="")),
                name=f"{prefix}_bank_needs_cci_and_holder",
                violation_error_message=_("Bank transfers need the account holder and a CCI."),
            ),
        ]

    @property
    def masked_cci(self) -> str:
        return f"•••• •••• •••• {self.bank_cci[-4:]}" if self.bank_cci else ""

    @property
    def can_receive_stripe_transfers(self) -> bool:
        return (
            self.payout_method == PayoutMethod.STRIPE_CONNECT
            and bool(self.stripe_account_id)
            and self.stripe_transfers_enabled
        )


class Photo(models.Model):
    """An uploaded photo, stored re-encoded, with WebP + JPEG renditions for ``srcset``.

    Create and replace photos through ``cacaotours.core.images.photo_store`` (it validates
    the upload and writes the renditions); never save a raw upload into ``image``.
    """

    image = models.ImageField(_("image"), upload_to="photos/", max_length=255)
    width = models.PositiveIntegerField(_("width"), editable=False, default=0)
    height = models.PositiveIntegerField(_("height"), editable=False, default=0)
    renditions = models.JSONField(_("renditions"), editable=False, default=dict)
    alt_text = models.CharField(
        _("alternative text"),
        max_length=200,
        help_text=_("Describe the photo for people who cannot see it."),
    )
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        abstract = True
        ordering = ("order", "id")

    def rendition_url(self, name: str, fmt: str = "jpeg") -> str:
        from django.core.files.storage import default_storage

        path = (self.renditions.get(name) or {}).get(fmt)
        return default_storage.url(path) if path else (self.image.url if self.image else "")

    def srcset(self, fmt: str = "jpeg") -> str:
        from django.core.files.storage import default_storage

        entries = []
        for rendition in self.renditions.values():
            if rendition.get(fmt):
                entries.append((rendition["width"], default_storage.url(rendition[fmt])))
        return ", ".join(f"{url} {width}w" for width, url in sorted(entries))
