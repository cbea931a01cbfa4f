from csp.decorators import csp_replace
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.admin.options import get_content_type_for_model
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Sum
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.clickjacking import xframe_options_sameorigin
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from cacaotours.core.admin import LabelledInlineMixin, PhotoFormsetMixin, PhotoInline
from cacaotours.core.catalog_version import CatalogVersionAdminMixin
from cacaotours.core.money import Money

from . import services
from .models import (
    Departure,
    DepartureSchedule,
    ItineraryStop,
    Route,
    RoutePhoto,
    ScheduleException,
    ShareRule,
    Tour,
    TourPhoto,
)
from .selectors import departure_queryset_with_availability, itinerary_days, tour_related_load
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


class ItineraryStopFormSet(BaseInlineFormSet):
    """One order per day, checked over the whole itinerary as it will be after the save (so two stops
    can swap orders in one save), with a message that names the day and the stops."""

    def clean(self):
        stops = [
            (form.cleaned_data["day"], form.cleaned_data["order"], form.instance.title or "")
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("day")
            and form.cleaned_data.get("order")
        ]
        services.itinerary_orders_validate(stops=stops)
        super().clean()


class ItineraryStopInline(LabelledInlineMixin, TranslationTabularInline):
    model = ItineraryStop
    formset = ItineraryStopFormSet
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


class ShareRuleInline(LabelledInlineMixin, TranslationTabularInline):
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

    actions = ("duplicate_tours",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(share_bp=Sum("share_rules__basis_points"))

    # -- the itinerary editor (the stops inline, the day-by-day panel under the form, the preview) --
    def save_formset(self, request, form, formset, change):
        if formset.model is not ItineraryStop:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # fills new_objects / changed_objects / deleted_objects
        services.itinerary_stops_save(
            tour=form.instance,
            stops=[*(obj for obj, _fields in formset.changed_objects), *formset.new_objects],
            deleted=formset.deleted_objects,
        )
        return None

    def get_urls(self):
        view = self.admin_site.admin_view
        # The preview is framed by the tour's admin page: the one response the site's own pages may frame
        # (X-Frame-Options and the CSP's frame-ancestors, which browsers obey first, both say "same origin").
        framable = csp_replace({"frame-ancestors": ["'self'"]})
        return [
            path(
                "<int:tour_id>/itinerary/preview/",
                view(framable(xframe_options_sameorigin(self.itinerary_preview_view))),
                name="tours_tour_itinerary_preview",
            ),
            path(
                "<int:tour_id>/itinerary/<int:stop_id>/move/",
                view(self.itinerary_move_view),
                name="tours_tour_itinerary_move",
            ),
            path("<int:tour_id>/duplicate/", view(self.duplicate_view), name="tours_tour_duplicate"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        tour = self.get_object(request, object_id)
        extra = {}
        if tour is not None:
            tour_related_load(tour)
            extra = {
                "itinerary_days": itinerary_days(tour),
                "can_edit_itinerary": self.has_change_permission(request, tour),
                "can_duplicate": self.has_add_permission(request),
            }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def itinerary_preview_view(self, request, tour_id):
        """The itinerary as the public tour page shows it (the same template), framed on the tour page."""
        tour = get_object_or_404(Tour, pk=tour_id)
        if not self.has_view_or_change_permission(request, tour):
            raise PermissionDenied
        tour_related_load(tour)
        return TemplateResponse(
            request, "admin/tours/tour/itinerary_preview.html", {"tour": tour, "days": itinerary_days(tour)}
        )

    def itinerary_move_view(self, request, tour_id, stop_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        tour = get_object_or_404(Tour, pk=tour_id)
        if not self.has_change_permission(request, tour):
            raise PermissionDenied
        stop = get_object_or_404(ItineraryStop, pk=stop_id, tour=tour)
        direction = request.POST.get("direction", "")
        before = stop.order
        try:
            stop = services.itinerary_stop_move(stop_id=stop.pk, direction=direction)
        except services.ItineraryError as exc:
            messages.error(request, str(exc))
        else:
            message = _("Moved stop “%(title)s” of day %(day)s from position %(before)s to %(after)s.") % {
                "title": stop.title,
                "day": stop.day,
                "before": before,
                "after": stop.order,
            }
            self.log_change(request, tour, message)
            messages.success(request, message)
        return redirect(reverse("admin:tours_tour_change", args=[tour.pk]) + "#itinerary-editor")

    def duplicate_view(self, request, tour_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_add_permission(request):
            raise PermissionDenied
        source = get_object_or_404(Tour, pk=tour_id)
        copy = self._duplicate(request, source)
        return redirect("admin:tours_tour_change", copy.pk)

    def _duplicate(self, request, source: Tour) -> Tour:
        copy = services.tour_duplicate(tour_id=source.pk)
        self.log_addition(
            request, copy, _("Duplicated from “%(title)s” (#%(pk)s).") % {"title": source, "pk": source.pk}
        )
        messages.success(
            request,
            _("“%(copy)s” is a draft copy of “%(title)s” (not published).") % {"copy": copy, "title": source},
        )
        return copy

    @admin.action(description=_("Duplicate the selected tours as drafts"), permissions=("add",))
    def duplicate_tours(self, request, queryset):
        for source in queryset.order_by("pk"):
            self._duplicate(request, source)

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


class CapacityForm(forms.Form):
    capacity = forms.IntegerField(label=_("New capacity"), min_value=1, max_value=500)


class StaffActionMixin:
    """Helpers for admin actions that go through a service and leave one LogEntry per object."""

    def _has_perm(self, request, action: str, model=None) -> bool:
        opts = (model or self.model)._meta
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")

    def log_deleted(self, request, model, pk: int, description: str, message: str) -> None:
        """A DELETION LogEntry for an object a service already deleted (``log_deletions`` needs the rows)."""
        LogEntry.objects.create(
            user_id=request.user.pk,
            content_type_id=get_content_type_for_model(model).pk,
            object_id=str(pk),
            object_repr=description[:200],
            action_flag=DELETION,
            change_message=message,
        )

    def action_page(self, request, queryset, template: str, **context) -> TemplateResponse:
        """The intermediate page of an action that asks for input or confirmation first."""
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "queryset": queryset,
                "action": request.POST.get("action", ""),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                **context,
            },
        )


@admin.register(Departure)
class DepartureAdmin(CatalogVersionAdminMixin, StaffActionMixin, admin.ModelAdmin):
    list_display = ("tour", "starts_local", "capacity", "seats_left", "status", "guide")
    list_filter = (UpcomingFilter, "status", "tour__route", "tour", "schedule")
    search_fields = ("tour__title", "guide")
    date_hierarchy = "starts_at"
    list_select_related = ("tour",)
    autocomplete_fields = ("tour",)
    ordering = ("starts_at",)
    actions = ("close_sales", "reopen_sales", "change_capacity")

    def get_queryset(self, request):
        return departure_queryset_with_availability().select_related("tour", "schedule")

    def get_readonly_fields(self, request, obj=None):
        # Status and capacity of an existing departure change through the actions (which check the seats
        # sold and cancel bookings with refunds), never by typing a new value in the form.
        return ("schedule", "status", "capacity") if obj is not None else ("schedule",)

    def get_changeform_initial_data(self, request):
        return {"status": Departure.Status.OPEN, **super().get_changeform_initial_data(request)}

    # -- actions: parse input, call one service, report, log ------------------------------------
    def _report_skipped(self, request, skipped) -> None:
        for departure, why in skipped:
            messages.warning(
                request, _("%(departure)s left as it was (%(why)s).") % {"departure": departure, "why": why}
            )

    def _sales_action(self, request, queryset, service, audit: str, done) -> None:
        """Run a sales service (close / reopen) on the selection: one LogEntry per departure changed."""
        outcome = service(departure_ids=list(queryset.values_list("pk", flat=True)))
        for departure in outcome.changed:
            self.log_change(request, departure, audit)
        if outcome.changed:
            messages.success(request, done(len(outcome.changed)))
        self._report_skipped(request, outcome.skipped)

    @admin.action(description=_("Close sales of the selected departures"), permissions=("change",))
    def close_sales(self, request, queryset):
        self._sales_action(
            request,
            queryset,
            services.departure_sales_close,
            _("Sales closed"),
            lambda n: ngettext("Sales closed on %(n)s departure.", "Sales closed on %(n)s departures.", n) % {"n": n},
        )

    @admin.action(description=_("Reopen sales of the selected departures"), permissions=("change",))
    def reopen_sales(self, request, queryset):
        self._sales_action(
            request,
            queryset,
            services.departure_sales_reopen,
            _("Sales reopened"),
            lambda n: (
                ngettext("Sales reopened on %(n)s departure.", "Sales reopened on %(n)s departures.", n) % {"n": n}
            ),
        )

    @admin.action(description=_("Change the capacity of the selected departures"), permissions=("change",))
    def change_capacity(self, request, queryset):
        form = CapacityForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                changes = services.departure_capacity_change(
                    departure_ids=list(queryset.values_list("pk", flat=True)), capacity=form.cleaned_data["capacity"]
                )
            except services.DepartureError as exc:
                messages.error(request, str(exc))
                return None
            for change in changes:
                self.log_change(request, change.departure, change.message)
            messages.success(
                request,
                ngettext("Capacity changed on %(n)s departure.", "Capacity changed on %(n)s departures.", len(changes))
                % {"n": len(changes)},
            )
            return None
        return self.action_page(
            request,
            queryset,
            "admin/tours/departure/change_capacity.html",
            title=_("Change the capacity of departures"),
            form=form,
        )

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


# -- recurring departures ---------------------------------------------------------------------------


class ScheduleExceptionInline(LabelledInlineMixin, admin.TabularInline):
    """A schedule's exceptions are part of the schedule: whoever may add or change it may edit them."""

    model = ScheduleException
    extra = 1
    fields = ("date", "reason")
    verbose_name = _("date skipped")
    verbose_name_plural = _("dates skipped (exceptions)")

    def _schedule_perm(self, request, obj) -> bool:
        action = "change" if obj is not None else "add"
        return request.user.has_perm(f"tours.{action}_departureschedule")

    def has_add_permission(self, request, obj=None):
        return self._schedule_perm(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._schedule_perm(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._schedule_perm(request, obj)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("tours.view_departureschedule") or self._schedule_perm(request, obj)


class DepartureScheduleForm(forms.ModelForm):
    weekdays = forms.MultipleChoiceField(
        label=_("Weekdays"), choices=DepartureSchedule.WEEKDAY_CHOICES, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = DepartureSchedule
        fields = "__all__"  # noqa: DJ007 - the admin chooses the fields shown

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["weekdays"] = [str(number) for number in self.instance.weekday_numbers]

    def clean_weekdays(self) -> str:
        return ",".join(sorted(set(self.cleaned_data["weekdays"]), key=int))


def schedule_run_summary(run: services.ScheduleRun) -> str:
    """One line for the message and the schedule's audit trail: what a generation did."""
    parts = [
        ngettext("%(n)s departure created", "%(n)s departures created", len(run.created)) % {"n": len(run.created)},
        ngettext("%(n)s updated", "%(n)s updated", len(run.updated)) % {"n": len(run.updated)},
        ngettext("%(n)s removed", "%(n)s removed", len(run.removed)) % {"n": len(run.removed)},
        ngettext("%(n)s unchanged", "%(n)s unchanged", run.unchanged) % {"n": run.unchanged},
        ngettext("%(n)s with bookings left as it was", "%(n)s with bookings left as they were", len(run.kept_booked))
        % {"n": len(run.kept_booked)},
        ngettext("%(n)s date skipped as an exception", "%(n)s dates skipped as exceptions", len(run.exceptions))
        % {"n": len(run.exceptions)},
    ]
    if run.taken:
        parts.append(
            ngettext(
                "%(n)s time already taken by another departure",
                "%(n)s times already taken by other departures",
                len(run.taken),
            )
            % {"n": len(run.taken)}
        )
    return _("Generated departures: %(parts)s.") % {"parts": ", ".join(parts)}


@admin.register(DepartureSchedule)
class DepartureScheduleAdmin(StaffActionMixin, admin.ModelAdmin):
    form = DepartureScheduleForm
    list_display = (
        "tour",
        "weekdays_display",
        "start_time",
        "starts_on",
        "ends_on",
        "capacity",
        "guide",
        "departure_count",
    )
    list_filter = ("tour__route", "tour")
    search_fields = ("tour__title", "guide")
    list_select_related = ("tour",)
    autocomplete_fields = ("tour",)
    inlines = (ScheduleExceptionInline,)
    actions = ("generate_departures",)
    fields = ("tour", "weekdays", "start_time", ("starts_on", "ends_on"), "capacity", "guide")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(departure_total=Count("departures"))

    @admin.display(description=_("weekdays"))
    def weekdays_display(self, schedule):
        return schedule.weekdays_display

    @admin.display(description=_("departures"), ordering="departure_total")
    def departure_count(self, schedule):
        url = reverse("admin:tours_departure_changelist") + f"?schedule__id__exact={schedule.pk}"
        return format_html('<a href="{}">{}</a>', url, schedule.departure_total)

    def has_generate_permission(self, request) -> bool:
        return request.user.has_perm("tours.generate_departures")

    @admin.action(description=_("Generate departures from the selected schedules"), permissions=("generate",))
    def generate_departures(self, request, queryset):
        runs = []
        for schedule in queryset.select_related("tour").order_by("pk"):
            try:
                run = services.departures_generate(schedule_id=schedule.pk)
            except ValidationError as exc:
                messages.error(request, f"{schedule}: {' '.join(exc.messages)} {_('Nothing was changed.')}")
                continue
            self._log_run(request, run)
            runs.append(run)
        if not runs:
            return None
        return self.action_page(
            request,
            queryset,
            "admin/tours/departureschedule/generated.html",
            title=_("Departures generated"),
            runs=[(run, schedule_run_summary(run)) for run in runs],
        )

    def _log_run(self, request, run: services.ScheduleRun) -> None:
        schedule = run.schedule
        self.log_change(request, schedule, schedule_run_summary(run))
        generated = _("Generated from schedule “%(schedule)s”.") % {"schedule": schedule}
        for departure in run.created:
            self.log_addition(request, departure, generated)
        for departure, changes in run.updated:
            self.log_change(request, departure, f"{'; '.join(changes)} ({generated})")
        removed = _("Removed: schedule “%(schedule)s” no longer includes this date.") % {"schedule": schedule}
        for pk, description in run.removed:
            self.log_deleted(request, Departure, pk, description, removed)
