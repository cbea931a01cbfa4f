from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from .models import Certification, CommunityFund, Cooperative, Membership

PAYOUT_FIELDSET = (
    _("Payout details"),
    {
        "fields": (
            "payout_method",
            "stripe_account_id",
            "stripe_transfers_enabled",
            "bank_name",
            "bank_account_holder",
            "bank_cci",
        ),
        "description": _("Where this recipient's revenue shares are paid. Without a method, shares are kept as owed."),
    },
)


@admin.register(Certification)
class CertificationAdmin(TranslationAdmin):
    list_display = ("name", "code")
    search_fields = ("name", "code")


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "cooperative"
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)


@admin.register(Cooperative)
class CooperativeAdmin(TranslationAdmin):
    list_display = ("name", "community", "region", "members", "farm_count", "payout_method", "is_published")
    list_filter = ("is_published", "payout_method", "region", "certifications")
    search_fields = ("name", "community", "region", "contact_name", "contact_email")
    prepopulated_fields = {"slug": ("name_en",)}
    filter_horizontal = ("certifications",)
    inlines = (MembershipInline,)
    fieldsets = (
        (None, {"fields": ("name", "slug", "community", "region", "summary", "story", "is_published")}),
        (_("Facts"), {"fields": ("founded", "members", "certifications")}),
        (_("Contact"), {"fields": ("contact_name", "contact_email", "contact_phone")}),
        PAYOUT_FIELDSET,
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(farm_total=Count("farms", distinct=True))

    @admin.display(description=_("farms"), ordering="farm_total")
    def farm_count(self, obj):
        return obj.farm_total


@admin.register(CommunityFund)
class CommunityFundAdmin(TranslationAdmin):
    list_display = ("name", "purpose", "cooperative", "payout_method", "is_published")
    list_filter = ("purpose", "is_published", "payout_method")
    search_fields = ("name", "summary")
    prepopulated_fields = {"slug": ("name_en",)}
    list_select_related = ("cooperative",)
    autocomplete_fields = ("cooperative",)
    fieldsets = (
        (None, {"fields": ("name", "slug", "purpose", "cooperative", "summary", "description", "is_published")}),
        PAYOUT_FIELDSET,
    )


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "cooperative", "fund", "created_at")
    list_filter = ("role", "cooperative", "fund")
    search_fields = ("user__email", "user__first_name", "user__last_name", "cooperative__name", "fund__name")
    autocomplete_fields = ("user", "cooperative", "fund")
    list_select_related = ("user", "cooperative", "fund")
