"""Host farms: the families who open their cacao plots to travellers."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cacaotours.core.models import PayoutDetails, Photo, TimeStamped


class Farm(PayoutDetails, TimeStamped):
    name = models.CharField(_("name"), max_length=160)
    slug = models.SlugField(_("slug"), max_length=160, unique=True)
    host_family = models.CharField(_("host family"), max_length=160)
    cooperative = models.ForeignKey(
        "cooperatives.Cooperative",
        verbose_name=_("cooperative"),
        on_delete=models.PROTECT,
        related_name="farms",
        null=True,
        blank=True,
    )
    region = models.CharField(_("region"), max_length=160, help_text=_("Valley, district, province"))
    summary = models.CharField(_("summary"), max_length=300)
    story = models.TextField(_("story"))
    altitude_m = models.PositiveIntegerField(
        _("altitude (m)"), validators=[MinValueValidator(0), MaxValueValidator(6000)]
    )
    hectares = models.DecimalField(_("hectares"), max_digits=7, decimal_places=2)
    grows_cacao = models.BooleanField(_("cacao"), default=True)
    grows_coffee = models.BooleanField(_("coffee"), default=False)
    grows_fruit = models.BooleanField(_("fruit"), default=False)
    agroforestry = models.BooleanField(_("agroforestry"), default=False)
    organic = models.BooleanField(_("organic"), default=False)
    reforestation = models.BooleanField(_("native-tree reforestation"), default=False)
    eco_lodge = models.BooleanField(_("eco-lodge nights"), default=False)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    is_published = models.BooleanField(_("published"), default=True)

    class Meta:
        ordering = ("name",)
        verbose_name = _("farm")
        verbose_name_plural = _("farms")
        constraints = [
            *PayoutDetails.payout_constraints("farm"),
            models.CheckConstraint(condition=Q(hectares__gt=0), name="farm_hectares_positive"),
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90) & Q(longitude__gte=-180, longitude__lte=180),
                name="farm_coordinates_valid",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.host_family})"

    def get_absolute_url(self):
        return reverse("tours:farm_detail", kwargs={"slug": self.slug})

    @property
    def crops(self) -> list[str]:
        labels = [(self.grows_cacao, _("Cacao")), (self.grows_coffee, _("Coffee")), (self.grows_fruit, _("Fruit"))]
        return [str(label) for flag, label in labels if flag]

    @property
    def practices(self) -> list[str]:
        labels = [
            (self.agroforestry, _("Agroforestry")),
            (self.organic, _("Organic")),
            (self.reforestation, _("Native-tree reforestation")),
            (self.eco_lodge, _("Eco-lodge")),
        ]
        return [str(label) for flag, label in labels if flag]


class FarmPhoto(Photo):
    farm = models.ForeignKey(Farm, on_delete=models.CASCADE, related_name="photos", verbose_name=_("farm"))

    class Meta(Photo.Meta):
        verbose_name = _("farm photo")
        verbose_name_plural = _("farm photos")

    def __str__(self):
        return self.alt_text
