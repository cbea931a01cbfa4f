"""Bookings in the admin: search, filters, and a booking page with its whole story.

The page shows the travellers, payments, refunds, staff notes and one history of every state
transition (``bookings.selectors.booking_history``); the revenue shares and ledger entries are
added by ``cooperatives.admin`` (bookings never imports cooperatives). Staff operations — move
to another departure, partial refund, resend the confirmation, internal note, resolve a flag —
are small views under the booking's URL: each checks its permission (``Booking.Meta.permissions``),
parses a form, calls one service of ``bookings.services`` and records the change in the audit
trail with ``log_change``. Nothing here writes to a model directly.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cacaotours.core.admin import money_cell
from cacaotours.core.money import Money
from cacaotours.core.periods import day_bounds, month_bounds, week_bounds

from . import selectors, services
from .models import Booking, BookingStatus, Participant, Payment, PaymentTransition, Refund, StripeEvent
from .services import BookingError


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ParticipantInline(ReadOnlyInline):
    model = Participant
    fields = ("full_name", "is_child", "dietary_needs", "checked_in_at")
    readonly_fields = fields


class PaymentMoneyMixin:
    """The payment's amounts as money (the model stores minor units and a currency)."""

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj):
        return money_cell(obj.amount, obj.currency)

    @admin.display(description=_("received"), ordering="amount_received")
    def received_display(self, obj):
        return money_cell(obj.amount_received, obj.currency)

    @admin.display(description=_("refunded"), ordering="amount_refunded")
    def refunded_display(self, obj):
        return money_cell(obj.amount_refunded, obj.currency)


class PaymentInline(PaymentMoneyMixin, ReadOnlyInline):
    model = Payment
    fields = (
        "created_at",
        "provider",
        "status",
        "amount_display",
        "received_display",
        "refunded_display",
        "payment_intent_id",
        "charge_id",
    )
    readonly_fields = fields
    show_change_link = True


# -- list filters ------------------------------------------------------------------------------


class DepartureDateFilter(admin.SimpleListFilter):
    title = _("departure date")
    parameter_name = "departs"

    def lookups(self, request, model_admin):
        return [
            ("today", _("Today")),
            ("tomorrow", _("Tomorrow")),
            ("week", _("Next 7 days")),
            ("month", _("This month")),
            ("upcoming", _("Upcoming")),
            ("past", _("Past")),
        ]

    def queryset(self, request, queryset):
        value, now = self.value(), timezone.now()
        bounds = {
            "today": lambda: day_bounds(now),
            "tomorrow": lambda: day_bounds(now, offset=1),
            "week": lambda: week_bounds(now),
            "month": lambda: month_bounds(now),
        }
        if value in bounds:
            start, end = bounds[value]()
            return queryset.filter(departure__starts_at__gte=start, departure__starts_at__lt=end)
        if value == "upcoming":
            return queryset.filter(departure__starts_at__gte=now)
        if value == "past":
            return queryset.filter(departure__starts_at__lt=now)
        return queryset


class ConfirmedFilter(admin.SimpleListFilter):
    title = _("confirmed")
    parameter_name = "confirmed"

    def lookups(self, request, model_admin):
        return [("today", _("Today")), ("month", _("This month"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() in ("today", "month"):
            start, end = day_bounds(now) if self.value() == "today" else month_bounds(now)
            return queryset.filter(confirmed_at__gte=start, confirmed_at__lt=end)
        return queryset


class HoldFilter(admin.SimpleListFilter):
    title = _("seat hold")
    parameter_name = "hold"

    def lookups(self, request, model_admin):
        return [
            ("active", _("Holding seats, not paid yet")),
            (
                "expiring",
                ngettext(
                    "Expiring within %(n)s minute",
                    "Expiring within %(n)s minutes",
                    selectors.HOLD_EXPIRING_MINUTES,
                )
                % {"n": selectors.HOLD_EXPIRING_MINUTES},
            ),
        ]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(selectors.holds_active_q())
        if self.value() == "expiring":
            return queryset.filter(selectors.holds_expiring_q())
        return queryset


# -- operation forms ------------------------------------------------------------------------------


def _when(departure) -> str:
    return date_format(timezone.localtime(departure.starts_at), "D j M Y, H:i")


class MoveForm(forms.Form):
    departure = forms.IntegerField(label=_("New departure"), widget=forms.RadioSelect)
    notify = forms.BooleanField(
        label=_("E-mail the updated confirmation to the traveller"), required=False, initial=True
    )

    def __init__(self, *args, options: selectors.MoveOptions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["departure"].widget.choices = [(d.pk, self._label(d)) for d in options.departures]

    @staticmethod
    def _label(departure) -> str:
        if departure.status != departure.Status.OPEN:
            state = departure.get_status_display()
        elif departure.seats_left == 0:
            state = _("full")
        else:
            state = ngettext(
                "%(left)s of %(capacity)s seat left", "%(left)s of %(capacity)s seats left", departure.seats_left
            ) % {"left": departure.seats_left, "capacity": departure.capacity}
        guide = f" · {departure.guide}" if departure.guide else ""
        return f"{_when(departure)} — {state}{guide}"


class RefundForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount to refund"), max_digits=12, decimal_places=2)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        help_text=_("Kept with the refund and shown in the booking's history."),
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=_("For staff only: the traveller never sees it."),
    )


class ResolveFlagForm(forms.Form):
    note = forms.CharField(
        label=_("How was it resolved?"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=_("For example: refunded the difference, dispute won with evidence, traveller paid the rest."),
    )


class ConfirmForm(forms.Form):
    """No fields: the operation only needs the POST (and its CSRF token)."""


class ContactForm(forms.ModelForm):
    class Meta:
        model = Booking
        fields = services.CONTACT_FIELDS


def _posted(request):
    """The form data of a POST (even an empty one: a confirmation), None for a GET."""
    return request.POST if request.method == "POST" else None


# -- the booking admin -----------------------------------------------------------------------------


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    form = ContactForm
    list_display = (
        "reference",
        "contact_name",
        "contact_email",
        "tour_title",
        "departure_start",
        "units",
        "total_display",
        "status",
        "flagged",
        "created_at",
    )
    list_filter = (
        "status",
        "flagged",
        DepartureDateFilter,
        "departure__tour__route",
        "departure__tour",
        ConfirmedFilter,
        HoldFilter,
        "currency",
    )
    search_fields = ("reference", "contact_name", "contact_email", "user__email", "participants__full_name")
    search_help_text = _("Reference, traveller's name or e-mail.")
    date_hierarchy = "created_at"
    list_select_related = ("departure__tour",)
    inlines = (ParticipantInline, PaymentInline)
    readonly_fields = (
        "reference",
        "user",
        "departure",
        "hold",
        "status",
        "adults",
        "children",
        "adult_price_display",
        "child_price_display",
        "total_display",
        "expires_at",
        "confirmed_at",
        "cancelled_at",
        "confirmation_sent_at",
        "reminder_sent_at",
        "notes",
        "flagged",
        "flag_reason",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "reference",
                    "status",
                    "user",
                    "departure",
                    "hold",
                    "expires_at",
                    "confirmed_at",
                    "cancelled_at",
                )
            },
        ),
        (
            _("Travellers and price"),
            {"fields": ("adults", "children", "adult_price_display", "child_price_display", "total_display")},
        ),
        (
            _("Contact"),
            {
                "fields": (*services.CONTACT_FIELDS, "notes"),
            },
        ),
        (_("Staff attention"), {"fields": ("flagged", "flag_reason")}),
        (_("E-mails"), {"fields": ("confirmation_sent_at", "reminder_sent_at")}),
    )

    # Operation name → (permission, title). The views are below.
    OPERATIONS = {
        "move": ("bookings.move_booking", _("Move to another departure")),
        "refund": ("bookings.refund_booking", _("Refund part of the payment")),
        "resend": ("bookings.resend_confirmation", _("Resend the confirmation e-mail")),
        "note": ("bookings.add_bookingnote", _("Add an internal note")),
        "resolve-flag": ("bookings.resolve_flag", _("Resolve the flag")),
    }

    def has_add_permission(self, request):
        return False  # bookings are made through the booking flow (services), not typed in

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("tour"), ordering="departure__tour__title")
    def tour_title(self, obj):
        return obj.departure.tour.title

    @admin.display(description=_("departure"), ordering="departure__starts_at")
    def departure_start(self, obj):
        return date_format(timezone.localtime(obj.departure.starts_at), "j M Y H:i")

    @admin.display(description=_("total"), ordering="total_amount")
    def total_display(self, obj):
        return obj.total

    @admin.display(description=_("price per adult"))
    def adult_price_display(self, obj):
        return money_cell(obj.adult_price, obj.currency)

    @admin.display(description=_("price per child"))
    def child_price_display(self, obj):
        return money_cell(obj.child_price, obj.currency)

    def save_model(self, request, obj, form, change):
        """Contact details only, through the service (the other fields are read-only)."""
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in services.CONTACT_FIELDS}
        services.booking_contact_update(booking_id=obj.pk, changes=changes)

    # -- the page ------------------------------------------------------------------------------
    def _allowed(self, request, booking) -> dict[str, bool]:
        """Which operations this user may start on this booking (and that make sense for it)."""
        can = {name: request.user.has_perm(perm) for name, (perm, _title) in self.OPERATIONS.items()}
        confirmed = booking.status == BookingStatus.CONFIRMED
        return {
            "move": can["move"] and confirmed,
            "refund": can["refund"],
            "resend": can["resend"] and confirmed,
            "note": can["note"],
            "resolve-flag": can["resolve-flag"] and booking.flagged,
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        booking = self.get_object(request, object_id)
        extra = {}
        if booking is not None and self.has_view_or_change_permission(request, booking):
            refunds = selectors.booking_refunds(booking=booking)
            notes = selectors.booking_notes(booking=booking)
            allowed = self._allowed(request, booking)
            extra = {
                "operations": [
                    (reverse(f"admin:bookings_booking_{name.replace('-', '_')}", args=[booking.pk]), title)
                    for name, (_perm, title) in self.OPERATIONS.items()
                    if allowed[name]
                ],
                "refunds": refunds,
                "staff_notes": notes,
                "history": selectors.booking_history(booking=booking, refunds=refunds, notes=notes),
                "note_url": reverse("admin:bookings_booking_note", args=[booking.pk]) if allowed["note"] else "",
            }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/move/", view(self.move_view), name="bookings_booking_move"),
            path("<path:object_id>/refund/", view(self.refund_view), name="bookings_booking_refund"),
            path("<path:object_id>/resend/", view(self.resend_view), name="bookings_booking_resend"),
            path("<path:object_id>/note/", view(self.note_view), name="bookings_booking_note"),
            path("<path:object_id>/resolve-flag/", view(self.resolve_flag_view), name="bookings_booking_resolve_flag"),
            *super().get_urls(),
        ]

    # -- operations: permission, form, one service, audit entry ----------------------------------
    def _booking_for(self, request, object_id, operation: str) -> Booking:
        booking = self.get_object(request, object_id)
        if booking is None:
            raise Http404(_("No such booking."))
        permission, _title = self.OPERATIONS[operation]
        if not (self.has_view_or_change_permission(request, booking) and request.user.has_perm(permission)):
            raise PermissionDenied
        return booking

    def _operation(self, request, booking, operation: str, form, run, *, context=None, submit=None):
        """GET: the form. POST: ``run(cleaned_data)`` → the audit message; BookingError → shown, nothing changed."""
        if request.method == "POST" and form.is_valid():
            try:
                message = run(form.cleaned_data)
            except BookingError as exc:
                messages.error(request, str(exc))
            else:
                self.log_change(request, booking, message)
                messages.success(request, message)
                return redirect("admin:bookings_booking_change", booking.pk)
        elif request.method == "POST":
            messages.error(request, _("Please correct the errors below."))
        _perm, title = self.OPERATIONS[operation]
        return TemplateResponse(
            request,
            "admin/bookings/booking/operation.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": title,
                "booking": booking,
                "form": form,
                "submit_label": submit or title,
                "operation": operation,
                **(context or {}),
            },
        )

    def move_view(self, request, object_id):
        booking = self._booking_for(request, object_id, "move")
        options = selectors.booking_move_options(booking=booking)
        form = MoveForm(_posted(request), options=options)

        def run(data):
            _booking, note = services.booking_departure_move(
                booking_id=booking.pk, departure_id=data["departure"], actor=request.user, notify=data["notify"]
            )
            if data["notify"]:
                return _("%(move)s The updated confirmation is e-mailed to %(email)s.") % {
                    "move": note.text,
                    "email": booking.contact_email,
                }
            return note.text

        return self._operation(
            request, booking, "move", form, run, context={"move": options, "current": _when(booking.departure)}
        )

    def refund_view(self, request, object_id):
        booking = self._booking_for(request, object_id, "refund")
        form = RefundForm(_posted(request))

        def run(data):
            try:
                amount = Money.from_decimal(data["amount"], booking.currency)
            except ValueError as exc:
                raise BookingError(_("Enter the amount with at most two decimals.")) from exc
            refund = services.booking_refund_partial(
                booking_id=booking.pk, amount=amount, reason=data["reason"], actor=request.user
            )
            return _("Refund #%(n)s of %(amount)s requested (reason: %(reason)s).") % {
                "n": refund.pk,
                "amount": amount.format(),
                "reason": refund.reason,
            }

        payments = [p for p in booking.payments.all() if p.amount_received]
        received = sum(p.amount_received for p in payments)
        refunded = sum(p.amount_refunded for p in payments)
        context = {
            "paid": Money(received, booking.currency),
            "refunded": Money(refunded, booking.currency),
            "refundable": selectors.booking_refundable(booking=booking),
        }
        return self._operation(request, booking, "refund", form, run, context=context, submit=_("Refund"))

    def resend_view(self, request, object_id):
        booking = self._booking_for(request, object_id, "resend")

        def run(_data):
            services.booking_confirmation_resend(booking_id=booking.pk)
            return _("Confirmation e-mail sent again to %(email)s.") % {"email": booking.contact_email}

        return self._operation(request, booking, "resend", ConfirmForm(_posted(request)), run, submit=_("Send"))

    def note_view(self, request, object_id):
        booking = self._booking_for(request, object_id, "note")

        def run(data):
            note = services.booking_note_add(booking_id=booking.pk, author=request.user, text=data["text"])
            return _("Internal note added: %(text)s") % {"text": Truncator(note.text).chars(200)}

        return self._operation(request, booking, "note", NoteForm(_posted(request)), run, submit=_("Add note"))

    def resolve_flag_view(self, request, object_id):
        booking = self._booking_for(request, object_id, "resolve-flag")

        def run(data):
            return services.booking_flag_resolve(booking_id=booking.pk, actor=request.user, note=data["note"]).text

        form = ResolveFlagForm(_posted(request))
        return self._operation(request, booking, "resolve-flag", form, run, submit=_("Mark resolved"))


# -- payments, refunds, Stripe events: read-only -------------------------------------------------------


class ReasonDisplayMixin:
    @admin.display(description=_("reason"))
    def reason_display(self, obj):
        return selectors.stored_reason(obj.reason)


class RefundMoneyMixin:
    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj):
        return money_cell(obj.amount, obj.payment.currency)


class PaymentTransitionInline(ReasonDisplayMixin, ReadOnlyInline):
    model = PaymentTransition
    fields = ("created_at", "from_status", "to_status", "actor", "reason_display")
    readonly_fields = fields


# What staff see of a refund, on its payment's page and on its own.
REFUND_FIELDS = ("amount_display", "status", "reason_display", "stripe_refund_id", "idempotency_key", "created_by")


class RefundInline(RefundMoneyMixin, ReasonDisplayMixin, ReadOnlyInline):
    model = Refund
    fields = ("created_at", *REFUND_FIELDS)
    readonly_fields = fields


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(PaymentMoneyMixin, ReadOnlyAdmin):
    MONEY = ("amount_display", "received_display", "refunded_display")
    list_display = ("booking", "provider", "status", *MONEY, "created_at")
    list_filter = ("status", "provider", "currency")
    search_fields = ("booking__reference", "checkout_session_id", "payment_intent_id", "charge_id")
    fields = readonly_fields = (
        "booking",
        "provider",
        "status",
        *MONEY,
        "checkout_session_id",
        "payment_intent_id",
        "charge_id",
        "created_at",
        "updated_at",
    )
    list_select_related = ("booking",)
    inlines = (RefundInline, PaymentTransitionInline)


@admin.register(Refund)
class RefundAdmin(RefundMoneyMixin, ReasonDisplayMixin, ReadOnlyAdmin):
    list_display = ("payment", "amount_display", "status", "reason_display", "stripe_refund_id", "created_at")
    list_filter = ("status",)
    search_fields = ("payment__booking__reference", "stripe_refund_id", "idempotency_key")
    fields = readonly_fields = ("payment", *REFUND_FIELDS, "created_at")
    list_select_related = ("payment__booking",)


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "type", "status", "received_at", "processed_at")
    list_filter = ("status", "type")
    search_fields = ("event_id",)


from . import admin_departures  # noqa: E402, F401  - the departure admin's booking operations (see its docstring)
