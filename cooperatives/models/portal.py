"""The leader portal's own records: invitations and payout-detail change requests."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cacaotours.core.models import PayoutMethod, TimeStamped, cci_validator, exactly_one_of, stripe_account_validator

from .directory import Membership


class Invitation(TimeStamped):
    """Staff invite a person by e-mail to a cooperative or a community fund, with a role.

    The link carries a random token; only its SHA-256 is stored. An invitation is used
    once and expires (INVITATION_DAYS).
    """

    email = models.EmailField(_("e-mail"))
    cooperative = models.ForeignKey(
        "cooperatives.Cooperative",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="invitations",
        verbose_name=_("cooperative"),
    )
    fund = models.ForeignKey(
        "cooperatives.CommunityFund",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="invitations",
        verbose_name=_("community fund"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Membership.Role.choices, default=Membership.Role.LEADER)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    language = models.CharField(
        _("language of the e-mail"),
        max_length=8,
        choices=[("es", "Español"), ("en", "English")],
        default="es",
        help_text=_("The invitation e-mail and the link are in this language (Spanish by default)."),
    )
    sent_at = models.DateTimeField(_("last sent at"), null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.CheckConstraint(
                condition=exactly_one_of("cooperative", "fund"),
                name="invitation_exactly_one_organisation",
            )
        ]

    def __str__(self):
        return f"{self.email} → {self.cooperative or self.fund} ({self.get_role_display()})"

    @property
    def organisation(self):
        return self.cooperative or self.fund


class PayoutChangeRequest(TimeStamped):
    """A leader's or treasurer's request to change where a recipient is paid.

    Applied only when staff approve it in the admin; both sides are told by e-mail.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for Kallpa's approval")
        APPROVED = "approved", _("Approved and applied")
        REJECTED = "rejected", _("Rejected")

    cooperative = models.ForeignKey(
        "cooperatives.Cooperative",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="payout_requests",
        verbose_name=_("cooperative"),
    )
    fund = models.ForeignKey(
        "cooperatives.CommunityFund",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="payout_requests",
        verbose_name=_("community fund"),
    )
    requested_by = models.ForeignKey(  # SET_NULL: a leader can still delete their account
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    payout_method = models.CharField(_("payout method"), max_length=20, choices=PayoutMethod.choices)
    stripe_account_id = models.CharField(
        _("Stripe connected account"), max_length=64, blank=True, validators=[stripe_account_validator]
    )
    bank_name = models.CharField(_("bank"), max_length=80, blank=True)
    bank_account_holder = models.CharField(_("account holder"), max_length=120, blank=True)
    bank_cci = models.CharField(_("CCI (20 digits)"), max_length=20, blank=True, validators=[cci_validator])
    note = models.CharField(_("note for Kallpa"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(
        _("note to the requester"),
        max_length=300,
        blank=True,
        help_text=_("Sent with the decision (for example, why a request was rejected)."),
    )

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("payout change request")
        verbose_name_plural = _("payout change requests")
        constraints = [
            models.CheckConstraint(
                condition=exactly_one_of("cooperative", "fund"),
                name="payout_request_exactly_one_organisation",
            ),
            models.CheckConstraint(
                condition=Q(bank_cci="") | Q(bank_cci__regex=r"^[0-9]{20}$"), name="payout_request_cci_20_digits"
            ),
            models.UniqueConstraint(
                fields=["cooperative"],
                condition=Q(status="pending", cooperative__isnull=False),
                name="payout_request_one_pending_per_cooperative",
            ),
            models.UniqueConstraint(
                fields=["fund"],
                condition=Q(status="pending", fund__isnull=False),
                name="payout_request_one_pending_per_fund",
            ),
        ]

    def __str__(self):
        return f"{self.cooperative or self.fund}: {self.get_payout_method_display()} ({self.get_status_display()})"
