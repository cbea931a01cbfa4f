from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from cacaotours.core.admin import PhotoFormsetMixin, PhotoInline
from cacaotours.core.catalog_version import CatalogVersionAdminMixin
from cooperatives.admin import PAYOUT_FIELDSET, start_stripe_onboarding

from .models import Farm, FarmPhoto


class FarmPhotoInline(PhotoInline):
    model = FarmPhoto


@admin.register(Farm)
class FarmAdmin(CatalogVersionAdminMixin, PhotoFormsetMixin, TranslationAdmin):
    list_display = (
        "name",
        "host_family",
        "cooperative",
        "region",
        "altitude_m",
        "hectares",
        "crop_list",
        "is_published",
    )
    list_filter = ("is_published", "cooperative", "grows_cacao", "grows_coffee", "agroforestry", "organic", "eco_lodge")
    search_fields = ("name", "host_family", "region", "cooperative__name")
    list_select_related = ("cooperative",)
    prepopulated_fields = {"slug": ("name_en",)}
    autocomplete_fields = ("cooperative",)
    inlines = (FarmPhotoInline,)
    actions = (start_stripe_onboarding,)
    fieldsets = (
        (
            None,
            {"fields": ("name", "slug", "host_family", "cooperative", "region", "summary", "story", "is_published")},
        ),
        (_("Land"), {"fields": ("altitude_m", "hectares", ("latitude", "longitude"))}),
        (_("Crops"), {"fields": (("grows_cacao", "grows_coffee", "grows_fruit"),)}),
        (_("Practices"), {"fields": (("agroforestry", "organic", "reforestation", "eco_lodge"),)}),
        PAYOUT_FIELDSET,
    )

    @admin.display(description=_("crops"))
    def crop_list(self, obj):
        return ", ".join(obj.crops)
