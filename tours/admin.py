from django import forms
from django.contrib import admin
from django.db.models import Sum
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from cacaotours.core.admin import PhotoFormsetMixin, PhotoInline
from cacaotours.core.catalog_version import CatalogVersionAdminMixin
from cacaotours.core.money import Money

from .models import Departure, ItineraryStop, Route, RoutePhoto, ShareRule, Tour, TourPhoto
from .selectors import departure_queryset_with_availability
from .services import share_rules_validate_total


class RoutePhotoInline(PhotoInline):
    model = RoutePhoto


class TourPhotoInline(PhotoInline):
    model = TourPhoto


@admin.register(Route)
class RouteAdmin(CatalogVersionAdminMixin, PhotoFormsetMixin, TranslationAdmin):
    list_display = ("name", "region", "order", "is_published")
    list_editable = ("order", "is_published")
    search_fields = ("name", "region")
    prepopulated_fields = {"slug": ("name_en",)}
    inlines = (RoutePhotoInline,)


class ItineraryStopInline(TranslationTabularInline):
    model = ItineraryStop
    extra = 0
    fields = ("day", "order", "time", "activity", "farm", "title", "description")
    ordering = ("day", "order")
    autocomplete_fields = ("farm",)


class ShareRuleFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        basis_points = [
            form.cleaned_data["basis_points"]
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("basis_points")
        ]
        share_rules_validate_total(basis_points=basis_points)


class ShareRuleInline(TranslationTabularInline):
    model = ShareRule
    formset = ShareRuleFormSet
    extra = 0
    fields = ("cooperative", "fund", "farm", "basis_points", "purpose")
    autocomplete_fields = ("cooperative", "fund", "farm")


@admin.register(Tour)
class TourAdmin(CatalogVersionAdminMixin, PhotoFormsetMixin, TranslationAdmin):
    list_display = ("title", "route", "duration_days", "price_display", "share_total", "is_published", "is_featured")
    list_filter = ("is_published", "is_featured", "route", "difficulty", "currency")
    search_fields = ("title", "summary", "route__name")
    list_select_related = ("route",)
    prepopulated_fields = {"slug": ("title_en",)}
    inlines = (ItineraryStopInline, ShareRuleInline, TourPhotoInline)
    fieldsets = (
        (None, {"fields": ("route", "title", "slug", "summary", "description", "is_published", "is_featured")}),
        (
            _("Practicalities"),
            {
                "fields": (
                    ("duration_days", "duration_hours"),
                    "difficulty",
                    "languages",
                    "meeting_point",
                    "includes",
                    "excludes",
                    "what_to_bring",
                    ("min_group", "max_group"),
                )
            },
        ),
        (_("Prices"), {"fields": ("currency", "adult_price", "child_price")}),
        (_("Cancellation policy"), {"fields": ("full_refund_days", "partial_refund_days", "partial_refund_percent")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(share_bp=Sum("share_rules__basis_points"))

    @admin.display(description=_("adult price"), ordering="adult_price")
    def price_display(self, obj):
        return Money(obj.adult_price, obj.currency).format()

    @admin.display(description=_("community share"), ordering="share_bp")
    def share_total(self, obj):
        return f"{(obj.share_bp or 0) / 100:.2f}%"


class UpcomingFilter(admin.SimpleListFilter):
    title = _("when")
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return (("upcoming", _("Upcoming")), ("past", _("Past")))

    def queryset(self, request, queryset):
        if self.value() == "upcoming":
            return queryset.filter(starts_at__gte=timezone.now())
        if self.value() == "past":
            return queryset.filter(starts_at__lt=timezone.now())
        return queryset


@admin.register(Departure)
class DepartureAdmin(CatalogVersionAdminMixin, admin.ModelAdmin):
    list_display = ("tour", "starts_local", "capacity", "seats_left", "status", "guide")
    list_filter = (UpcomingFilter, "status", "tour__route", "tour")
    search_fields = ("tour__title", "guide")
    date_hierarchy = "starts_at"
    list_select_related = ("tour",)
    autocomplete_fields = ("tour",)
    ordering = ("starts_at",)

    def get_queryset(self, request):
        return departure_queryset_with_availability().select_related("tour")

    @admin.display(description=_("starts (Lima)"), ordering="starts_at")
    def starts_local(self, obj):
        return date_format(timezone.localtime(obj.starts_at), "D j M Y, H:i")

    @admin.display(description=_("seats left"), ordering="seats_left")
    def seats_left(self, obj):
        return obj.seats_left


class ShareRuleAdminForm(forms.ModelForm):
    class Meta:
        model = ShareRule
        fields = "__all__"  # noqa: DJ007 - the admin chooses the fields shown

    def clean(self):
        cleaned = super().clean()
        tour, basis_points = cleaned.get("tour"), cleaned.get("basis_points")
        if tour and basis_points:
            others = ShareRule.objects.filter(tour=tour).exclude(pk=self.instance.pk)
            share_rules_validate_total(basis_points=[*others.values_list("basis_points", flat=True), basis_points])
        return cleaned


@admin.register(ShareRule)
class ShareRuleAdmin(CatalogVersionAdminMixin, TranslationAdmin):
    form = ShareRuleAdminForm
    list_display = ("tour", "recipient_display", "basis_points", "purpose")
    list_filter = ("tour__route", "tour")
    search_fields = ("tour__title", "cooperative__name", "fund__name", "farm__name", "purpose")
    list_select_related = ("tour", "cooperative", "fund", "farm")
    autocomplete_fields = ("tour", "cooperative", "fund", "farm")

    @admin.display(description=_("recipient"))
    def recipient_display(self, obj):
        return obj.recipient
