"""Bookings in the admin: searchable, filterable, with their history. Writes go through
services (staff operations arrive with the operations issue); the rest is read-only here."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from cacaotours.core.money import Money

from .models import Booking, BookingTransition, Participant, Payment, PaymentTransition, Refund, StripeEvent


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


class BookingTransitionInline(ReadOnlyInline):
    model = BookingTransition

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    fields = ("created_at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields
    verbose_name_plural = _("history")


class PaymentInline(ReadOnlyInline):
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

    @admin.display(description=_("amount"))
    def amount_display(self, obj):
        return Money(obj.amount, obj.currency)

    @admin.display(description=_("received"))
    def received_display(self, obj):
        return Money(obj.amount_received, obj.currency)

    @admin.display(description=_("refunded"))
    def refunded_display(self, obj):
        return Money(obj.amount_refunded, obj.currency)


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
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
    list_filter = ("status", "flagged", "departure__tour__route", "departure__tour", "currency")
    search_fields = ("reference", "contact_name", "contact_email", "user__email", "participants__full_name")
    date_hierarchy = "created_at"
    list_select_related = ("departure__tour",)
    inlines = (ParticipantInline, PaymentInline, BookingTransitionInline)
    readonly_fields = (
        "reference",
        "user",
        "departure",
        "hold",
        "status",
        "adults",
        "children",
        "currency",
        "adult_price",
        "child_price",
        "total_amount",
        "expires_at",
        "confirmed_at",
        "cancelled_at",
        "confirmation_sent_at",
        "reminder_sent_at",
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
            {"fields": ("adults", "children", "currency", "adult_price", "child_price", "total_amount")},
        ),
        (
            _("Contact"),
            {
                "fields": (
                    "contact_name",
                    "contact_email",
                    "contact_phone",
                    "emergency_contact_name",
                    "emergency_contact_phone",
                    "language",
                    "notes",
                )
            },
        ),
        (_("Staff attention"), {"fields": ("flagged", "flag_reason")}),
        (_("E-mails"), {"fields": ("confirmation_sent_at", "reminder_sent_at")}),
    )

    def has_add_permission(self, request):
        return False  # bookings are made through the booking flow (services), not typed in

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("tour"), ordering="departure__tour__title")
    def tour_title(self, obj):
        return obj.departure.tour.title

    @admin.display(description=_("departure"), ordering="departure__starts_at")
    def departure_start(self, obj):
        from django.utils import timezone
        from django.utils.formats import date_format

        return date_format(timezone.localtime(obj.departure.starts_at), "j M Y H:i")

    @admin.display(description=_("total"), ordering="total_amount")
    def total_display(self, obj):
        return obj.total


class PaymentTransitionInline(ReadOnlyInline):
    model = PaymentTransition
    fields = ("created_at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ("created_at", "amount", "status", "reason", "stripe_refund_id", "idempotency_key", "created_by")
    readonly_fields = fields


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "booking",
        "provider",
        "status",
        "amount",
        "currency",
        "amount_received",
        "amount_refunded",
        "created_at",
    )
    list_filter = ("status", "provider", "currency")
    search_fields = ("booking__reference", "checkout_session_id", "payment_intent_id", "charge_id")
    list_select_related = ("booking",)
    inlines = (RefundInline, PaymentTransitionInline)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("payment", "amount", "status", "reason", "stripe_refund_id", "created_at")
    list_filter = ("status",)
    search_fields = ("payment__booking__reference", "stripe_refund_id", "idempotency_key")
    list_select_related = ("payment__booking",)


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "type", "status", "received_at", "processed_at")
    list_filter = ("status", "type")
    search_fields = ("event_id",)


from . import admin_departures  # noqa: E402, F401  - the departure admin's booking operations (see its docstring)
