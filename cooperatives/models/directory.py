"""Cooperatives, community funds and the people who lead them.

These are the recipients of revenue shares. This module is the bottom layer of the
domain: farms and tours point at it, it points at nothing else (see docs/architecture.md).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cacaotours.core.models import PayoutDetails, TimeStamped, exactly_one_of


class Certification(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        ordering = ("name",)
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")

    def __str__(self):
        return self.name


class Cooperative(PayoutDetails, TimeStamped):
    name = models.CharField(_("name"), max_length=160)
    slug = models.SlugField(_("slug"), max_length=160, unique=True)
    community = models.CharField(_("community"), max_length=160)
    region = models.CharField(_("region"), max_length=160)
    summary = models.CharField(_("summary"), max_length=300)
    story = models.TextField(_("story"))
    founded = models.PositiveSmallIntegerField(_("year founded"), null=True, blank=True)
    members = models.PositiveIntegerField(_("member families"), default=0)
    certifications = models.ManyToManyField(
        Certification, blank=True, related_name="cooperatives", verbose_name=_("certifications")
    )
    contact_name = models.CharField(_("contact person"), max_length=120, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    is_published = models.BooleanField(_("published"), default=True)

    class Meta:
        ordering = ("name",)
        verbose_name = _("cooperative")
        verbose_name_plural = _("cooperatives")
        constraints = [
            *PayoutDetails.payout_constraints("cooperative"),
            models.CheckConstraint(
                condition=Q(founded__isnull=True) | Q(founded__gte=1900, founded__lte=2100),
                name="cooperative_founded_plausible",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("tours:cooperative_detail", kwargs={"slug": self.slug})


class CommunityFund(PayoutDetails, TimeStamped):
    """A fund the community runs: reforestation, women's chocolate makers, youth training."""

    class Purpose(models.TextChoices):
        REFORESTATION = "reforestation", _("Cloud-forest reforestation")
        WOMEN = "women", _("Women's enterprise")
        YOUTH = "youth", _("Youth training")
        WATER = "water", _("Water sources")
        EDUCATION = "education", _("Education")

    name = models.CharField(_("name"), max_length=160)
    slug = models.SlugField(_("slug"), max_length=160, unique=True)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    summary = models.CharField(_("summary"), max_length=300)
    description = models.TextField(_("description"))
    cooperative = models.ForeignKey(
        Cooperative,
        verbose_name=_("managed by"),
        on_delete=models.PROTECT,
        related_name="funds",
        null=True,
        blank=True,
    )
    is_published = models.BooleanField(_("published"), default=True)

    class Meta:
        ordering = ("name",)
        verbose_name = _("community fund")
        verbose_name_plural = _("community funds")
        constraints = PayoutDetails.payout_constraints("fund")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        """Funds are presented on their cooperative's page (select_related the cooperative)."""
        if self.cooperative is None:
            return ""
        return f"{self.cooperative.get_absolute_url()}#fund-{self.slug}"


class Membership(TimeStamped):
    """A user's role in a cooperative or a community fund (exactly one of the two)."""

    class Role(models.TextChoices):
        LEADER = "leader", _("Leader")
        TREASURER = "treasurer", _("Treasurer")
        VIEWER = "viewer", _("Viewer")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    cooperative = models.ForeignKey(
        Cooperative,
        on_delete=models.CASCADE,
        related_name="memberships",
        null=True,
        blank=True,
        verbose_name=_("cooperative"),
    )
    fund = models.ForeignKey(
        CommunityFund,
        on_delete=models.CASCADE,
        related_name="memberships",
        null=True,
        blank=True,
        verbose_name=_("community fund"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=exactly_one_of("cooperative", "fund"),
                name="membership_exactly_one_organisation",
                violation_error_message=_("A membership is for one cooperative or one fund."),
            ),
            models.UniqueConstraint(
                fields=["user", "cooperative"],
                condition=Q(cooperative__isnull=False),
                name="membership_unique_user_cooperative",
            ),
            models.UniqueConstraint(
                fields=["user", "fund"],
                condition=Q(fund__isnull=False),
                name="membership_unique_user_fund",
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.cooperative or self.fund}"
