"""The departure admin's operations that involve bookings: cancelling a departure with its bookings,
the manifests (per departure and per day), check-in and the CSV export.

``tours`` may not import ``bookings`` (the arrows point from bookings to tours), so these cannot live
in ``tours/admin.py``. Instead this module re-registers ``Departure`` with a subclass of the tours
app's ``DepartureAdmin`` that adds them: one departure page in the admin, with its catalog actions
(close sales, capacity) from ``tours`` and its booking operations from here. It is imported by
``bookings/admin.py``, which the admin autodiscovers after ``tours/admin.py`` (INSTALLED_APPS order).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cacaotours.core.csv_export import csv_response
from cacaotours.core.money import Money
from tours.admin import DepartureAdmin
from tours.models import Departure
from tours.services import DepartureError

from . import selectors, services
from .models import Booking, BookingStatus, Participant


class CancelDeparturesForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text=_("Kept in each booking's history and the audit trail; not sent to the travellers."),
    )
    confirm = forms.BooleanField(
        label=_("Yes, cancel these departures, cancel their bookings and refund them in full"), required=True
    )


class ManifestDayForm(forms.Form):
    date = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))


admin.site.unregister(Departure)


@admin.register(Departure)
class DepartureOperationsAdmin(DepartureAdmin):
    actions = (*DepartureAdmin.actions, "cancel_departures")

    # -- permissions: the custom ones of tours.Departure and bookings.Participant ------------------
    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("tours.cancel_departure")

    def has_manifest_permission(self, request) -> bool:
        return request.user.has_perm("tours.view_manifest")

    def has_checkin_permission(self, request) -> bool:
        return self.has_manifest_permission(request) and request.user.has_perm("bookings.checkin_participant")

    def _require(self, allowed: bool) -> None:
        if not allowed:
            raise PermissionDenied

    # -- list and change page: links to the manifests --------------------------------------------
    def get_list_display(self, request):
        columns = super().get_list_display(request)
        return (*columns, "manifest_link") if self.has_manifest_permission(request) else columns

    @admin.display(description=_("manifest"))
    def manifest_link(self, departure):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:tours_departure_manifest", args=[departure.pk]), _("Manifest")
        )

    def changelist_view(self, request, extra_context=None):
        extra = {"can_view_manifest": self.has_manifest_permission(request), "today": timezone.localdate()}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"can_view_manifest": self.has_manifest_permission(request)}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("manifest/", view(self.day_manifest_view), name="tours_departure_day_manifest"),
            path("manifest/<int:departure_id>/", view(self.manifest_view), name="tours_departure_manifest"),
            path("manifest/<int:departure_id>/csv/", view(self.manifest_csv_view), name="tours_departure_manifest_csv"),
            path(
                "manifest/<int:departure_id>/check-in/<int:participant_id>/",
                view(self.checkin_view),
                name="tours_departure_checkin",
            ),
            *super().get_urls(),
        ]

    # -- cancel a departure with its bookings ---------------------------------------------------
    @admin.action(description=_("Cancel the selected departures and refund their bookings"), permissions=("cancel",))
    def cancel_departures(self, request, queryset):
        form = CancelDeparturesForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            for departure in queryset.order_by("starts_at", "pk"):
                self._cancel(request, departure, form.cleaned_data["reason"])
            return None
        departures = list(queryset.order_by("starts_at", "pk"))
        confirmed = (
            Booking.objects.filter(departure__in=departures, status=BookingStatus.CONFIRMED)
            .select_related("departure")
            .order_by("departure__starts_at", "reference")
        )
        return self.action_page(
            request,
            departures,
            "admin/tours/departure/cancel_departures.html",
            title=_("Cancel departures"),
            form=form,
            bookings=confirmed,
        )

    def _cancel(self, request, departure: Departure, reason: str) -> None:
        try:
            outcome = services.departure_cancel_with_bookings(
                departure_id=departure.pk, actor=request.user, reason=reason
            )
        except DepartureError as exc:
            messages.error(request, str(exc))
            return
        for booking, refunds in outcome.refunded:
            amount = sum(refund.amount for refund in refunds)
            self.log_change(
                request,
                booking,
                _("Cancelled with its departure; full refund of %(amount)s requested. Reason: %(reason)s")
                % {"amount": Money(amount, booking.currency).format(), "reason": reason},
            )
        for booking in outcome.released:
            self.log_change(
                request, booking, _("Seat hold ended: departure cancelled. Reason: %(reason)s") % {"reason": reason}
            )
        summary = ngettext(
            "Cancelled departure; %(n)s booking refunded.",
            "Cancelled departure; %(n)s bookings refunded.",
            len(outcome.refunded),
        ) % {"n": len(outcome.refunded)}
        if not outcome.departure_cancelled:
            summary = ngettext(
                "Departure already cancelled; %(n)s more booking refunded.",
                "Departure already cancelled; %(n)s more bookings refunded.",
                len(outcome.refunded),
            ) % {"n": len(outcome.refunded)}
        if outcome.departure_cancelled or outcome.refunded or outcome.released:
            self.log_change(request, outcome.departure, f"{summary} {_('Reason: %(reason)s') % {'reason': reason}}")
        messages.success(request, f"{outcome.departure}: {summary}")

    # -- manifests -------------------------------------------------------------------------------
    def _manifest_page(self, request, manifests, *, title, day=None, departure=None) -> TemplateResponse:
        return TemplateResponse(
            request,
            "admin/tours/departure/manifest.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": title,
                "manifests": manifests,
                "day": day,
                "departure": departure,
                "day_form": ManifestDayForm(
                    initial={"date": day or timezone.localdate(departure.starts_at if departure else None)}
                ),
                "can_check_in": self.has_checkin_permission(request),
            },
        )

    def manifest_view(self, request, departure_id):
        self._require(self.has_manifest_permission(request))
        manifests = selectors.departure_manifests(departure_ids=[departure_id])
        if not manifests:
            raise Http404("No such departure")
        departure = manifests[0].departure
        return self._manifest_page(
            request, manifests, title=_("Manifest · %(departure)s") % {"departure": departure}, departure=departure
        )

    def day_manifest_view(self, request):
        self._require(self.has_manifest_permission(request))
        form = ManifestDayForm(request.GET or None)
        day = form.cleaned_data["date"] if form.is_valid() else timezone.localdate()
        if request.GET.get("format") == "csv":
            return self._csv(selectors.departure_manifests(day=day), f"manifest-{day:%Y-%m-%d}.csv")
        manifests = selectors.departure_manifests(day=day)
        title = _("Manifest of %(day)s") % {"day": date_format(day, "l j F Y")}
        return self._manifest_page(request, manifests, title=title, day=day)

    def manifest_csv_view(self, request, departure_id):
        self._require(self.has_manifest_permission(request))
        manifests = selectors.departure_manifests(departure_ids=[departure_id])
        if not manifests:
            raise Http404("No such departure")
        starts = timezone.localtime(manifests[0].departure.starts_at)
        return self._csv(manifests, f"manifest-{starts:%Y-%m-%d-%H%M}-{departure_id}.csv")

    def _csv(self, manifests, filename: str):
        return csv_response(
            header=selectors.MANIFEST_CSV_HEADER, rows=selectors.manifest_csv_rows(manifests), filename=filename
        )

    # -- check-in on a phone: one POST per participant --------------------------------------------
    def checkin_view(self, request, departure_id, participant_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._require(self.has_checkin_permission(request))
        present = request.POST.get("present") == "1"
        try:
            participant, changed = services.participant_check_in(
                participant_id=participant_id, departure_id=departure_id, present=present, actor=request.user
            )
        except Participant.DoesNotExist:
            raise Http404("No such participant on this departure") from None
        except services.BookingError as exc:
            messages.error(request, str(exc))
        else:
            if changed:
                message = (_("%(name)s checked in.") if present else _("Check-in of %(name)s undone.")) % {
                    "name": participant.full_name
                }
                self.log_change(request, participant, message)
                messages.success(request, message)
        back = request.POST.get("next", "")
        if back != "day":
            return redirect(reverse("admin:tours_departure_manifest", args=[departure_id]) + f"#p-{participant_id}")
        day = timezone.localdate(Departure.objects.values_list("starts_at", flat=True).get(pk=departure_id))
        return redirect(reverse("admin:tours_departure_day_manifest") + f"?date={day:%Y-%m-%d}#p-{participant_id}")
