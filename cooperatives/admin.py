"""Cooperatives, community funds and memberships; and, for staff, the revenue-share ledger.

The ledger pages (shares, journal, accounts, Stripe transfers, bank payouts, reconciliation)
are read-only: nobody types money in. Operations are admin actions or small admin views
that parse the input, call one service of ``cooperatives.services`` and report the result
as a message. The booking admin (``bookings`` must not import ``cooperatives``) is extended
here with the booking's split and ledger entries.
"""

import stripe
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Prefetch, Q, Sum
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from kombu.exceptions import OperationalError
from modeltranslation.admin import TranslationAdmin

from bookings.admin import BookingAdmin, ReadOnlyAdmin, ReadOnlyInline
from cacaotours.core.admin import NBSP, LabelledInlineMixin, money_cell
from cacaotours.core.catalog_version import CatalogVersionAdminMixin
from cacaotours.core.money import CURRENCY_CHOICES

from . import services
from .models import (
    Certification,
    CommunityFund,
    Cooperative,
    JournalEntry,
    JournalLeg,
    LedgerAccount,
    Membership,
    PayoutBatch,
    PayoutLine,
    ReconciliationIssue,
    ReconciliationRun,
    Share,
    ShareTransition,
    Transfer,
    TransferReversal,
)
from .operations_selectors import STUCK_MINUTES, TRANSFER_QUEUE_KINDS, payout_owed_by_currency, transfer_queue_q
from .services import LedgerError, payout_line_reference, share_attention_resolve

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


# =====================================================================================
# Stripe Connect onboarding (an action on cooperatives, community funds and farms)
# =====================================================================================


@admin.action(description=_("Start Stripe Connect onboarding"), permissions=("change",))
def start_stripe_onboarding(modeladmin, request, queryset):
    """Send staff to Stripe's onboarding page for one selected recipient.

    Stripe comes back to the recipient's admin page (also when the link has expired: staff
    then start the action again for a fresh link).
    """
    if queryset.count() != 1:
        messages.error(request, _("Select exactly one recipient to onboard to Stripe Connect."))
        return None
    recipient = queryset.get()
    opts = recipient._meta
    back = request.build_absolute_uri(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[recipient.pk]))
    try:
        link = services.connected_account_onboarding_link(recipient=recipient, refresh_url=back, return_url=back)
    except LedgerError as exc:
        messages.error(request, str(exc))
        return None
    except stripe.StripeError as exc:
        messages.error(
            request, _("Stripe refused the onboarding request: %(error)s") % {"error": exc.user_message or exc}
        )
        return None
    modeladmin.log_change(request, recipient, _("Started Stripe Connect onboarding."))
    return HttpResponseRedirect(link)


@admin.register(Certification)
class CertificationAdmin(CatalogVersionAdminMixin, TranslationAdmin):
    list_display = ("name", "code")
    search_fields = ("name", "code")


class MembershipInline(LabelledInlineMixin, admin.TabularInline):
    model = Membership
    fk_name = "cooperative"
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)


@admin.register(Cooperative)
class CooperativeAdmin(CatalogVersionAdminMixin, TranslationAdmin):
    list_display = ("name", "community", "region", "members", "farm_count", "payout_method", "is_published")
    list_filter = ("is_published", "payout_method", "region", "certifications")
    search_fields = ("name", "community", "region", "contact_name", "contact_email")
    prepopulated_fields = {"slug": ("name_en",)}
    filter_horizontal = ("certifications",)
    inlines = (MembershipInline,)
    actions = (start_stripe_onboarding,)
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
class CommunityFundAdmin(CatalogVersionAdminMixin, TranslationAdmin):
    list_display = ("name", "purpose", "cooperative", "payout_method", "is_published")
    list_filter = ("purpose", "is_published", "payout_method")
    search_fields = ("name", "summary")
    prepopulated_fields = {"slug": ("name_en",)}
    list_select_related = ("cooperative",)
    autocomplete_fields = ("cooperative",)
    actions = (start_stripe_onboarding,)
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


# =====================================================================================
# The revenue-share ledger: read-only pages; every write goes through cooperatives.services
# =====================================================================================

DASH = "—"


def _change_url(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def _link(obj, text=None) -> str:
    if obj is None:
        return DASH
    return format_html('<a href="{}">{}</a>', _change_url(obj), obj if text is None else text)


def _booking_link(booking_id: int | None, reference: str) -> str:
    if booking_id is None:
        return DASH
    return format_html('<a href="{}">{}</a>', reverse("admin:bookings_booking_change", args=[booking_id]), reference)


RECIPIENT_KIND_LABELS = {
    "cooperative": _("cooperative"),
    "fund": _("community fund"),
    "farm": _("farm"),
}
RECIPIENT_RELATED = ("cooperative", "fund", "farm")


def _recipient_search(prefix: str = "") -> tuple[str, ...]:
    return tuple(f"{prefix}{kind}__name_{lang}" for kind in RECIPIENT_RELATED for lang in ("en", "es"))


def _recipient_link(obj) -> str:
    """A share, payout line or account's recipient (needs select_related on the three FKs)."""
    recipient = obj.recipient
    if recipient is None:
        return DASH
    return format_html(
        '<a href="{}">{}</a> <span class="quiet">({})</span>',
        _change_url(recipient),
        recipient,
        RECIPIENT_KIND_LABELS[obj.recipient_kind],
    )


def mask_cci(cci: str) -> str:
    return f"••••{NBSP}{cci[-4:]}" if cci else DASH


class RecipientKindFilter(admin.SimpleListFilter):
    title = _("recipient kind")
    parameter_name = "recipient"

    def lookups(self, request, model_admin):
        return list(RECIPIENT_KIND_LABELS.items())

    def queryset(self, request, queryset):
        if self.value() in RECIPIENT_KIND_LABELS:
            return queryset.filter(**{f"{self.value()}__isnull": False})
        return queryset


class BankPayoutFilter(admin.SimpleListFilter):
    """The bank-payout queue of shares: owed and waiting for a batch, in a batch, paid."""

    title = _("bank payout")
    parameter_name = "payout"

    def lookups(self, request, model_admin):
        return [
            ("waiting", _("Owed, not in a batch yet")),
            ("batched", _("In a batch, not paid yet")),
            ("paid", _("Paid by bank transfer")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "waiting":
            return queryset.filter(status=Share.Status.OWED, payout_line__isnull=True)
        if value == "batched":
            return queryset.filter(status=Share.Status.OWED, payout_line__isnull=False)
        if value == "paid":
            return queryset.filter(status=Share.Status.PAID)
        return queryset


class TransferQueueFilter(admin.SimpleListFilter):
    """The Stripe transfer queue: shares whose transfer failed, waits for onboarding or is stuck."""

    title = _("Stripe transfer queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            ("all", _("Everything in the queue")),
            ("failed", _("Transfer refused by Stripe")),
            ("onboarding", _("Owed to a Stripe Connect recipient")),
            ("stuck", _("Not routed after %(n)s minutes") % {"n": STUCK_MINUTES}),
        ]

    def queryset(self, request, queryset):
        if self.value() in ("all", *TRANSFER_QUEUE_KINDS):
            return queryset.filter(transfer_queue_q(self.value()))
        return queryset


class ResolvedFilter(admin.SimpleListFilter):
    title = _("resolved")
    parameter_name = "resolved"

    def lookups(self, request, model_admin):
        return [("no", _("Open")), ("yes", _("Resolved"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class LedgerOperatorMixin:
    """Operations (payouts, reconciliation) need the admin's ``operate_permission``, one of the custom
    permissions of the ledger models (see cacaotours/core/roles.py for who has them).

    The pages themselves are read-only: nobody types money into the ledger.
    """

    operate_permission = ""

    def has_operate_permission(self, request) -> bool:
        return bool(self.operate_permission) and request.user.has_perm(self.operate_permission)

    def _require_operate(self, request) -> None:
        if not self.has_operate_permission(request):
            raise PermissionDenied

    def _context(self, request, **extra) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.opts, **extra}


# -- shares ----------------------------------------------------------------------------


class ShareTransitionInline(ReadOnlyInline):
    model = ShareTransition
    fields = ("created_at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields
    verbose_name = _("status change")
    verbose_name_plural = _("status history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class DebitCreditMixin:
    @admin.display(description=_("debit"))
    def debit(self, leg):
        return money_cell(leg.amount, leg.currency) if leg.amount > 0 else ""

    @admin.display(description=_("credit"))
    def credit(self, leg):
        return money_cell(-leg.amount, leg.currency) if leg.amount < 0 else ""


class ShareLegInline(DebitCreditMixin, ReadOnlyInline):
    model = JournalLeg
    fk_name = "share"
    fields = ("entry_link", "posted_at", "account", "debit", "credit")
    readonly_fields = fields
    verbose_name = _("ledger line")
    verbose_name_plural = _("ledger lines of this share")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("entry", "account")

    @admin.display(description=_("journal entry"))
    def entry_link(self, leg):
        return _link(leg.entry, f"#{leg.entry_id} {leg.entry.get_kind_display()}")

    @admin.display(description=_("posted at"))
    def posted_at(self, leg):
        return date_format(timezone.localtime(leg.entry.posted_at), "DATETIME_FORMAT")


class ShareDisplayMixin:
    """Columns shared by the share list and the booking page's split."""

    @admin.display(description=_("recipient"))
    def recipient_display(self, share):
        return _recipient_link(share)

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, share):
        return money_cell(share.amount, share.currency)

    @admin.display(description=_("reversed"), ordering="amount_reversed")
    def reversed_display(self, share):
        return money_cell(share.amount_reversed, share.currency) if share.amount_reversed else DASH

    @admin.display(description=_("netted"))
    def netted_display(self, share):
        return money_cell(share.amount_netted, share.currency) if share.amount_netted else DASH

    @admin.display(description=_("share"))
    def percent_display(self, share):
        return f"{share.basis_points / 100:.2f}{NBSP}%"

    @admin.display(description=_("needs attention"), ordering="needs_attention")
    def attention(self, share):
        if not share.needs_attention:
            return ""
        return format_html("<strong>⚠ {}</strong>", share.attention_reason or _("yes"))

    @admin.display(description=_("Stripe transfer / bank payout"))
    def routed_to(self, share):
        """Needs select_related("transfer", "payout_line")."""
        transfer = getattr(share, "transfer", None)  # reverse one-to-one: None when there is none
        if transfer is not None:
            label = transfer.stripe_transfer_id or transfer.get_status_display()
            if transfer.status == Transfer.Status.FAILED:
                label = f"{label} ({transfer.get_status_display()})"
            return _link(transfer, label)
        if share.payout_line_id:
            line = share.payout_line
            paid = _("paid") if line.paid_at else _("unpaid")
            return format_html(
                '<a href="{}">{}</a>',
                reverse("admin:cooperatives_payoutbatch_change", args=[line.batch_id]),
                _("batch #%(batch)s, line #%(line)s (%(paid)s)")
                % {"batch": line.batch_id, "line": line.pk, "paid": paid},
            )
        return DASH


SHARE_RELATED = ("booking", "cooperative", "fund", "farm", "transfer", "payout_line")


@admin.register(Share)
class ShareAdmin(LedgerOperatorMixin, ShareDisplayMixin, ReadOnlyAdmin):
    list_display = (
        "booking_display",
        "recipient_display",
        "amount_display",
        "reversed_display",
        "status",
        "rail",
        "attention",
        "routed_to",
    )
    list_filter = (
        TransferQueueFilter,
        "status",
        "rail",
        "needs_attention",
        "currency",
        RecipientKindFilter,
        BankPayoutFilter,
    )
    search_fields = ("booking__reference", *_recipient_search(), "transfer__stripe_transfer_id")
    search_help_text = _("Booking reference, recipient name or Stripe transfer id.")
    list_select_related = SHARE_RELATED
    date_hierarchy = "created_at"
    actions = ("retry_routing", "resolve_attention")
    inlines = (ShareTransitionInline, ShareLegInline)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "booking_display",
                    "payment",
                    "recipient_display",
                    "percent_display",
                    "amount_display",
                    "reversed_display",
                    "netted_display",
                    "status",
                    "rail",
                    "routed_to",
                )
            },
        ),
        (_("Staff attention"), {"fields": ("needs_attention", "attention_reason")}),
        (_("Record"), {"fields": ("key", "created_at", "updated_at")}),
    )
    readonly_fields = (
        "booking_display",
        "payment",
        "recipient_display",
        "percent_display",
        "amount_display",
        "reversed_display",
        "netted_display",
        "status",
        "rail",
        "routed_to",
        "needs_attention",
        "attention_reason",
        "key",
        "created_at",
        "updated_at",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*SHARE_RELATED, "payment")

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("cooperatives.retry_transfer")

    def has_resolve_permission(self, request) -> bool:
        return request.user.has_perm("cooperatives.resolve_attention")

    @admin.display(description=_("booking"), ordering="booking__reference")
    def booking_display(self, share):
        return _booking_link(share.booking_id, share.booking.reference)

    @admin.action(description=_("Retry routing of the selected shares"), permissions=("retry",))
    def retry_routing(self, request, queryset):
        """Queue routing again: waiting shares, and owed shares (not yet batched) whose recipient
        can now receive Stripe transfers (after onboarding or a refused transfer)."""
        from .tasks import share_route_task

        candidates = [
            share
            for share in queryset.select_related(*RECIPIENT_RELATED)
            if share.status == Share.Status.PENDING
            or (
                share.status == Share.Status.OWED
                and share.payout_line_id is None
                and share.recipient.can_receive_stripe_transfers
            )
        ]
        skipped = queryset.count() - len(candidates)
        queued = 0
        for share in candidates:
            try:
                share_route_task.delay(share.pk, retry_owed=share.status == Share.Status.OWED)
            except LedgerError as exc:
                messages.error(request, _("Share %(id)s: %(error)s") % {"id": share.pk, "error": exc})
            except stripe.StripeError as exc:
                messages.error(request, _("Share %(id)s: Stripe error: %(error)s") % {"id": share.pk, "error": exc})
            except OperationalError:
                messages.error(request, _("The task queue is not reachable; the sweeper will route these shares."))
                break
            else:
                queued += 1
                self.log_change(
                    request,
                    share,
                    _("Routing retried (the share was: %(status)s).") % {"status": share.get_status_display()},
                )
        if queued:
            messages.success(
                request,
                ngettext("Routing queued for %(n)s share.", "Routing queued for %(n)s shares.", queued) % {"n": queued},
            )
        if skipped:
            messages.warning(
                request,
                ngettext(
                    "%(n)s share was skipped: only shares waiting to be routed, or owed to a recipient who can now "
                    "receive Stripe transfers, can be retried (other owed shares are paid by a bank payout batch).",
                    "%(n)s shares were skipped: only shares waiting to be routed, or owed to a recipient who can now "
                    "receive Stripe transfers, can be retried (other owed shares are paid by a bank payout batch).",
                    skipped,
                )
                % {"n": skipped},
            )

    @admin.action(description=_("Mark attention resolved"), permissions=("resolve",))
    def resolve_attention(self, request, queryset):
        flagged = list(queryset.filter(needs_attention=True))
        resolved = share_attention_resolve(share_ids=[share.pk for share in flagged], actor=request.user)
        for share in flagged:
            self.log_change(
                request, share, _("Attention resolved (%(reason)s).") % {"reason": share.attention_reason or "—"}
            )
        messages.success(
            request,
            ngettext("%(n)s share no longer needs attention.", "%(n)s shares no longer need attention.", resolved)
            % {"n": resolved},
        )


# -- the journal ------------------------------------------------------------------------


class JournalLegInline(DebitCreditMixin, ReadOnlyInline):
    model = JournalLeg
    fk_name = "entry"
    fields = ("account", "account_kind", "debit", "credit", "currency", "share_link")
    readonly_fields = fields
    verbose_name = _("leg")
    verbose_name_plural = _("legs (debits and credits)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account", *(f"share__{r}" for r in RECIPIENT_RELATED))

    @admin.display(description=_("account kind"))
    def account_kind(self, leg):
        return leg.account.get_kind_display()

    @admin.display(description=_("share"))
    def share_link(self, leg):
        if leg.share_id is None:
            return DASH
        return _link(leg.share, f"#{leg.share_id} {leg.share.recipient}")


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("number", "posted_at", "kind", "booking_display", "memo", "amount_display", "idempotency_key")
    list_display_links = ("number", "posted_at")
    list_filter = ("kind", "posted_at")
    search_fields = ("booking__reference", "idempotency_key", "memo")
    search_help_text = _("Booking reference, idempotency key or memo.")
    list_select_related = ("booking",)
    date_hierarchy = "posted_at"
    inlines = (JournalLegInline,)
    fields = ("number", "kind", "booking_display", "memo", "idempotency_key", "posted_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("booking")
            .annotate(debits=Sum("legs__amount", filter=Q(legs__amount__gt=0)), leg_currency=Max("legs__currency"))
        )

    def lookup_allowed(self, lookup, value, request=None):
        # The ledger-account list links here, filtered by account.
        return lookup in ("legs__account", "legs__account__id__exact") or super().lookup_allowed(lookup, value, request)

    @admin.display(description=_("entry"), ordering="id")
    def number(self, entry):
        return f"#{entry.pk}"

    @admin.display(description=_("booking"), ordering="booking__reference")
    def booking_display(self, entry):
        return _booking_link(entry.booking_id, entry.booking.reference) if entry.booking_id else DASH

    @admin.display(description=_("amount moved"), ordering="debits")
    def amount_display(self, entry):
        return money_cell(entry.debits, entry.leg_currency) if entry.leg_currency else DASH


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "currency", "recipient_display", "balance_display", "entries_link")
    list_filter = ("kind", "currency", RecipientKindFilter)
    search_fields = ("name", "key")
    list_select_related = RECIPIENT_RELATED
    fields = ("name", "key", "kind", "currency", "recipient_display", "balance_display", "entries_link")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(balance=Sum("legs__amount"))

    @admin.display(description=_("recipient"))
    def recipient_display(self, account):
        return _recipient_link(account)

    @admin.display(description=_("balance (debit +, credit −)"), ordering="balance")
    def balance_display(self, account):
        return money_cell(account.balance, account.currency)

    @admin.display(description=_("entries"))
    def entries_link(self, account):
        url = reverse("admin:cooperatives_journalentry_changelist")
        return format_html('<a href="{}?legs__account__id__exact={}">{}</a>', url, account.pk, _("entries"))


# -- Stripe transfers and reversals ----------------------------------------------------------


class TransferReversalInline(ReadOnlyInline):
    model = TransferReversal
    fields = ("created_at", "amount_display", "status", "stripe_reversal_id", "error")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("transfer")

    @admin.display(description=_("amount"))
    def amount_display(self, reversal):
        return money_cell(reversal.amount, reversal.transfer.currency)


class TransferDisplayMixin:
    @admin.display(description=_("booking"), ordering="share__booking__reference")
    def booking_display(self, transfer):
        return _booking_link(transfer.share.booking_id, transfer.share.booking.reference)

    @admin.display(description=_("recipient"))
    def recipient_display(self, transfer):
        return _recipient_link(transfer.share)

    @admin.display(description=_("share"))
    def share_link(self, transfer):
        return _link(transfer.share, f"#{transfer.share_id}")


TRANSFER_RELATED = ("share__booking", *(f"share__{r}" for r in RECIPIENT_RELATED))


@admin.register(Transfer)
class TransferAdmin(TransferDisplayMixin, ReadOnlyAdmin):
    list_display = (
        "transfer_label",
        "booking_display",
        "recipient_display",
        "amount_display",
        "destination",
        "status",
        "error",
        "created_at",
    )
    list_filter = ("status", "currency", "created_at")
    search_fields = ("stripe_transfer_id", "destination", "idempotency_key", "share__booking__reference")
    search_help_text = _("Stripe transfer id, connected account, idempotency key or booking reference.")
    list_select_related = TRANSFER_RELATED
    inlines = (TransferReversalInline,)
    fields = (
        "transfer_label",
        "share_link",
        "booking_display",
        "recipient_display",
        "amount_display",
        "destination",
        "status",
        "error",
        "idempotency_key",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*TRANSFER_RELATED)

    @admin.display(description=_("Stripe transfer"), ordering="stripe_transfer_id")
    def transfer_label(self, transfer):
        return transfer.stripe_transfer_id or _("(not created at Stripe)")

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, transfer):
        return money_cell(transfer.amount, transfer.currency)


REVERSAL_RELATED = ("transfer__share__booking", *(f"transfer__share__{r}" for r in RECIPIENT_RELATED))


@admin.register(TransferReversal)
class TransferReversalAdmin(ReadOnlyAdmin):
    list_display = (
        "reversal_label",
        "transfer_display",
        "booking_display",
        "recipient_display",
        "amount_display",
        "status",
        "error",
        "created_at",
    )
    list_filter = ("status", "created_at")
    search_fields = (
        "stripe_reversal_id",
        "transfer__stripe_transfer_id",
        "transfer__share__booking__reference",
        "idempotency_key",
    )
    search_help_text = _("Stripe reversal or transfer id, booking reference or idempotency key.")
    list_select_related = REVERSAL_RELATED
    fields = (
        "reversal_label",
        "transfer_display",
        "booking_display",
        "recipient_display",
        "amount_display",
        "status",
        "error",
        "idempotency_key",
        "created_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*REVERSAL_RELATED)

    @admin.display(description=_("Stripe reversal"), ordering="stripe_reversal_id")
    def reversal_label(self, reversal):
        return reversal.stripe_reversal_id or _("(not reversed at Stripe)")

    @admin.display(description=_("transfer"))
    def transfer_display(self, reversal):
        return _link(reversal.transfer, reversal.transfer.stripe_transfer_id or f"#{reversal.transfer_id}")

    @admin.display(description=_("booking"), ordering="transfer__share__booking__reference")
    def booking_display(self, reversal):
        share = reversal.transfer.share
        return _booking_link(share.booking_id, share.booking.reference)

    @admin.display(description=_("recipient"))
    def recipient_display(self, reversal):
        return _recipient_link(reversal.transfer.share)

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, reversal):
        return money_cell(reversal.amount, reversal.transfer.currency)


# -- bank payouts -------------------------------------------------------------------------------


class PayoutBatchCreateForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)


class PayoutLinePaidForm(forms.Form):
    bank_reference = forms.CharField(
        label=_("Bank reference"),
        max_length=120,
        help_text=_("The reference on the bank's confirmation of this transfer."),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off", "size": 40}),
    )


class PayoutLineInline(ReadOnlyInline):
    model = PayoutLine
    fields = (
        "line_number",
        "recipient_display",
        "bank_account_holder",
        "bank_name",
        "cci_display",
        "amount_display",
        "share_count",
        "transfer_reference",
        "bank_reference",
        "paid_at",
        "mark_paid",
    )
    readonly_fields = fields
    verbose_name = _("payout line")
    verbose_name_plural = _("payout lines")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("batch", *RECIPIENT_RELATED)
            .annotate(shares_total=Count("shares"))
            .order_by("id")
        )

    @admin.display(description=_("line"))
    def line_number(self, line):
        return f"#{line.pk}"

    @admin.display(description=_("recipient"))
    def recipient_display(self, line):
        return _recipient_link(line)

    @admin.display(description=_("CCI"))
    def cci_display(self, line):
        return mask_cci(line.bank_cci)

    @admin.display(description=_("amount"))
    def amount_display(self, line):
        return money_cell(line.amount, line.currency)

    @admin.display(description=_("shares"))
    def share_count(self, line):
        url = reverse("admin:cooperatives_share_changelist")
        return format_html('<a href="{}?payout_line__id__exact={}">{}</a>', url, line.pk, line.shares_total)

    @admin.display(description=_("transfer reference"))
    def transfer_reference(self, line):
        return payout_line_reference(line)

    @admin.display(description=_("paid"))
    def mark_paid(self, line):
        if line.paid_at is not None:
            return _("yes")
        url = reverse("admin:cooperatives_payoutbatch_mark_paid", args=[line.batch_id, line.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, str(_("Mark paid")).replace(" ", NBSP))


class PayoutLinesPaidForm(forms.Form):
    """One bank reference per unpaid line of a batch; lines left blank stay unpaid."""

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[f"line_{line.pk}"] = forms.CharField(
                label=_("Bank reference of line #%(n)s") % {"n": line.pk},
                max_length=120,
                required=False,
                widget=forms.TextInput(attrs={"autocomplete": "off", "size": 30}),
            )

    def rows(self):
        return [(line, self[f"line_{line.pk}"]) for line in self.lines]

    def references(self) -> dict[int, str]:
        return {line.pk: self.cleaned_data.get(f"line_{line.pk}", "") for line in self.lines}


@admin.register(PayoutBatch)
class PayoutBatchAdmin(LedgerOperatorMixin, ReadOnlyAdmin):
    operate_permission = "cooperatives.manage_payouts"
    list_display = (
        "batch_label",
        "currency",
        "status",
        "line_count",
        "paid_count",
        "total_display",
        "created_by",
        "created_at",
        "exported_at",
    )
    list_filter = ("status", "currency", "created_at")
    search_fields = ("=id", *_recipient_search("lines__"), "lines__bank_reference")
    search_help_text = _("Batch number, recipient name or bank reference.")
    list_select_related = ("created_by",)
    inlines = (PayoutLineInline,)
    fields = ("batch_label", "currency", "status", "total_display", "created_by", "created_at", "exported_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("created_by")
            .annotate(
                lines_total=Count("lines", distinct=True),
                lines_paid=Count("lines", filter=Q(lines__paid_at__isnull=False), distinct=True),
                amount_total=Sum("lines__amount"),
            )
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("create/", view(self.create_view), name="cooperatives_payoutbatch_create"),
            path("<int:batch_id>/export/", view(self.export_view), name="cooperatives_payoutbatch_export"),
            path(
                "<int:batch_id>/lines/<int:line_id>/mark-paid/",
                view(self.mark_paid_view),
                name="cooperatives_payoutbatch_mark_paid",
            ),
            path(
                "<int:batch_id>/mark-paid/", view(self.mark_lines_paid_view), name="cooperatives_payoutbatch_mark_lines"
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_operate": self.has_operate_permission(request)}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_operate": self.has_operate_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("batch"), ordering="id")
    def batch_label(self, batch):
        return _("Batch #%(n)s") % {"n": batch.pk}

    @admin.display(description=_("lines"), ordering="lines_total")
    def line_count(self, batch):
        return batch.lines_total

    @admin.display(description=_("paid lines"), ordering="lines_paid")
    def paid_count(self, batch):
        return batch.lines_paid

    @admin.display(description=_("total"), ordering="amount_total")
    def total_display(self, batch):
        return money_cell(batch.amount_total, batch.currency)

    # -- views: parse, call one service, report --------------------------------------------
    def create_view(self, request):
        self._require_operate(request)
        form = PayoutBatchCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                batch = services.payout_batch_create(currency=form.cleaned_data["currency"], actor=request.user)
            except LedgerError as exc:
                messages.error(request, str(exc))
            else:
                self.log_addition(request, batch, [{"added": {}}])
                messages.success(request, _("Payout batch #%(n)s created.") % {"n": batch.pk})
                return redirect("admin:cooperatives_payoutbatch_change", batch.pk)
        context = self._context(
            request,
            title=_("Create a payout batch"),
            form=form,
            owed=[
                {
                    "currency": row["currency"],
                    "shares": row["shares"],
                    "amount": money_cell(row["amount"], row["currency"]),
                }
                for row in payout_owed_by_currency()
            ],
        )
        return TemplateResponse(request, "admin/cooperatives/payoutbatch/create.html", context)

    def export_view(self, request, batch_id):
        self._require_operate(request)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        batch = get_object_or_404(PayoutBatch, pk=batch_id)
        content = services.payout_batch_csv(batch=batch)
        services.payout_batch_mark_exported(batch=batch, actor=request.user)
        self.log_change(request, batch, _("Exported the bank CSV."))
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="payout-batch-{batch.pk}-{batch.currency}.csv"'
        response["Cache-Control"] = "no-store"
        return response

    def mark_paid_view(self, request, batch_id, line_id):
        self._require_operate(request)
        line = get_object_or_404(
            PayoutLine.objects.select_related("batch", *RECIPIENT_RELATED), pk=line_id, batch_id=batch_id
        )
        form = PayoutLinePaidForm(request.POST or None)
        if request.method == "POST":
            if not form.is_valid():
                messages.error(request, _("Enter the bank's reference for this transfer."))
            else:
                try:
                    services.payout_line_mark_paid(
                        line_id=line.pk, bank_reference=form.cleaned_data["bank_reference"], actor=request.user
                    )
                except LedgerError as exc:
                    messages.error(request, str(exc))
                else:
                    self.log_change(
                        request,
                        line.batch,
                        _("Line #%(line)s marked paid (bank reference %(ref)s).")
                        % {"line": line.pk, "ref": form.cleaned_data["bank_reference"]},
                    )
                    messages.success(
                        request,
                        _("%(amount)s to %(recipient)s marked paid.")
                        % {"amount": money_cell(line.amount, line.currency), "recipient": line.recipient},
                    )
                    return redirect("admin:cooperatives_payoutbatch_change", line.batch_id)
        context = self._context(
            request,
            title=_("Mark a payout line paid"),
            form=form,
            line=line,
            batch=line.batch,
            recipient=line.recipient,
            amount=money_cell(line.amount, line.currency),
            cci=mask_cci(line.bank_cci),
            transfer_reference=payout_line_reference(line),
        )
        return TemplateResponse(request, "admin/cooperatives/payoutbatch/mark_paid.html", context)

    def mark_lines_paid_view(self, request, batch_id):
        """Mark several lines paid at once, from the bank's statement: all the references given, or none."""
        self._require_operate(request)
        batch = get_object_or_404(PayoutBatch, pk=batch_id)
        lines = list(
            batch.lines.filter(paid_at__isnull=True).select_related("batch", *RECIPIENT_RELATED).order_by("id")
        )
        form = PayoutLinesPaidForm(request.POST if request.method == "POST" else None, lines=lines)
        if request.method == "POST" and form.is_valid():
            try:
                paid = services.payout_batch_mark_paid(
                    batch_id=batch.pk, references=form.references(), actor=request.user
                )
            except LedgerError as exc:
                messages.error(request, str(exc))
            else:
                for line in paid:
                    self.log_change(
                        request,
                        batch,
                        _("Line #%(line)s marked paid (bank reference %(ref)s).")
                        % {"line": line.pk, "ref": line.bank_reference},
                    )
                messages.success(
                    request,
                    ngettext("%(n)s line marked paid.", "%(n)s lines marked paid.", len(paid)) % {"n": len(paid)},
                )
                return redirect("admin:cooperatives_payoutbatch_change", batch.pk)
        context = self._context(
            request,
            title=_("Mark lines paid"),
            form=form,
            batch=batch,
            rows=[
                {
                    "line": line,
                    "field": field,
                    "recipient": line.recipient,
                    "amount": money_cell(line.amount, line.currency),
                    "cci": mask_cci(line.bank_cci),
                    "transfer_reference": payout_line_reference(line),
                }
                for line, field in form.rows()
            ],
        )
        return TemplateResponse(request, "admin/cooperatives/payoutbatch/mark_lines_paid.html", context)


# -- reconciliation --------------------------------------------------------------------------


class ReconciliationIssueInline(ReadOnlyInline):
    model = ReconciliationIssue
    fields = ("kind", "booking_display", "detail", "resolution_display")
    readonly_fields = fields
    verbose_name = _("issue")
    verbose_name_plural = _("issues")
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("booking", "resolved_by")

    @admin.display(description=_("resolution"))
    def resolution_display(self, issue):
        return issue_resolution(issue)

    @admin.display(description=_("booking"))
    def booking_display(self, issue):
        return _booking_link(issue.booking_id, issue.booking.reference) if issue.booking_id else DASH


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(LedgerOperatorMixin, ReadOnlyAdmin):
    operate_permission = "cooperatives.run_reconciliation"
    list_display = ("run_label", "started_at", "finished_at", "bookings_checked", "issue_count", "open_count")
    list_filter = ("started_at",)
    date_hierarchy = "started_at"
    inlines = (ReconciliationIssueInline,)
    fields = ("run_label", "started_at", "finished_at", "bookings_checked", "issue_count", "open_count")
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(open_total=Count("issues", filter=Q(issues__resolved_at__isnull=True)))
        )

    def get_urls(self):
        return [
            path("run/", self.admin_site.admin_view(self.run_view), name="cooperatives_reconciliationrun_run"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_operate": self.has_operate_permission(request)}
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("run"), ordering="id")
    def run_label(self, run):
        return _("Run #%(n)s") % {"n": run.pk}

    @admin.display(description=_("open issues"), ordering="open_total")
    def open_count(self, run):
        return run.open_total

    def run_view(self, request):
        """Run ``reconcile()`` in the request: fine for the admin (a few hundred bookings, one Stripe
        list call per booking with Stripe transfers); the daily task does the same in a worker."""
        self._require_operate(request)
        if request.method == "POST":
            try:
                run = services.reconcile()
            except LedgerError as exc:
                messages.error(request, str(exc))
            except stripe.StripeError as exc:
                messages.error(request, _("Stripe could not be reached: %(error)s") % {"error": exc})
            else:
                self.log_addition(
                    request,
                    run,
                    _("Reconciliation run: %(bookings)s bookings checked, %(issues)s issues.")
                    % {"bookings": run.bookings_checked, "issues": run.issue_count},
                )
                level = messages.WARNING if run.issue_count else messages.SUCCESS
                messages.add_message(
                    request,
                    level,
                    _("Reconciliation checked %(bookings)s bookings and found %(issues)s issues.")
                    % {"bookings": run.bookings_checked, "issues": run.issue_count},
                )
                return redirect("admin:cooperatives_reconciliationrun_change", run.pk)
        context = self._context(
            request, title=_("Run reconciliation now"), bookings=Share.objects.values("booking").distinct().count()
        )
        return TemplateResponse(request, "admin/cooperatives/reconciliationrun/run.html", context)


def issue_resolution(issue) -> str:
    """ "Open", or who resolved the issue, when, and how (needs select_related("resolved_by"))."""
    if issue.resolved_at is None:
        return _("Open")
    return format_html(
        "{} · {} · {}",
        date_format(timezone.localtime(issue.resolved_at), "DATETIME_FORMAT"),
        issue.resolved_by.email if issue.resolved_by else DASH,
        issue.resolution,
    )


class IssueResolveForm(forms.Form):
    note = forms.CharField(
        label=_("How was it resolved?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=_("What you found and did: the correction entry, the Stripe transfer, the bank's answer."),
    )


@admin.register(ReconciliationIssue)
class ReconciliationIssueAdmin(LedgerOperatorMixin, ReadOnlyAdmin):
    operate_permission = "cooperatives.resolve_reconciliationissue"
    list_display = ("kind", "booking_display", "detail", "run", "is_resolved", "resolved_at", "resolved_by")
    list_filter = ("kind", ResolvedFilter, "run")
    search_fields = ("detail", "booking__reference", "resolution")
    list_select_related = ("booking", "run", "resolved_by")
    fields = ("kind", "run", "booking_display", "detail", "resolved_at", "resolved_by", "resolution")
    readonly_fields = fields

    def get_urls(self):
        return [
            path(
                "<int:issue_id>/resolve/",
                self.admin_site.admin_view(self.resolve_view),
                name="cooperatives_reconciliationissue_resolve",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_operate": self.has_operate_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    def resolve_view(self, request, issue_id):
        self._require_operate(request)
        issue = get_object_or_404(ReconciliationIssue.objects.select_related("booking", "run"), pk=issue_id)
        form = IssueResolveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                issue = services.reconciliation_issue_resolve(
                    issue_id=issue.pk, actor=request.user, note=form.cleaned_data["note"]
                )
            except LedgerError as exc:
                messages.error(request, str(exc))
            else:
                message = _("Resolved: %(note)s") % {"note": issue.resolution}
                self.log_change(request, issue, message)
                messages.success(request, message)
                return redirect("admin:cooperatives_reconciliationrun_change", issue.run_id)
        context = self._context(request, title=_("Resolve a reconciliation issue"), form=form, issue=issue)
        return TemplateResponse(request, "admin/cooperatives/reconciliationissue/resolve.html", context)

    @admin.display(description=_("booking"), ordering="booking__reference")
    def booking_display(self, issue):
        return _booking_link(issue.booking_id, issue.booking.reference) if issue.booking_id else DASH

    @admin.display(description=_("resolved"), boolean=True, ordering="resolved_at")
    def is_resolved(self, issue):
        return issue.resolved_at is not None


# =====================================================================================
# The booking page shows its split and every ledger entry (bookings must not import us)
# =====================================================================================


class BookingShareInline(ShareDisplayMixin, ReadOnlyInline):
    model = Share
    fk_name = "booking"
    fields = (
        "recipient_display",
        "percent_display",
        "amount_display",
        "reversed_display",
        "netted_display",
        "status",
        "rail",
        "attention",
        "routed_to",
    )
    readonly_fields = fields
    show_change_link = True
    verbose_name = _("revenue share")
    verbose_name_plural = _("revenue shares (the split of this booking)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*SHARE_RELATED).order_by("id")


class BookingJournalEntryInline(ReadOnlyInline):
    model = JournalEntry
    fk_name = "booking"
    fields = ("posted_at", "kind", "memo", "legs_display")
    readonly_fields = fields
    show_change_link = True
    verbose_name = _("journal entry")
    verbose_name_plural = _("ledger entries of this booking")

    def get_queryset(self, request):
        legs = JournalLeg.objects.select_related("account").order_by("id")
        return super().get_queryset(request).prefetch_related(Prefetch("legs", queryset=legs))

    @admin.display(description=_("debits and credits"))
    def legs_display(self, entry):
        return format_html_join(
            mark_safe("<br>"),
            "{} {}: {}",
            (
                (_("Dr") if leg.amount > 0 else _("Cr"), leg.account.name, money_cell(abs(leg.amount), leg.currency))
                for leg in entry.legs.all()
            ),
        )


@admin.action(description=_("Split the payment again (after fixing the tour's share rules)"), permissions=("split",))
def split_payment_again(modeladmin, request, queryset):
    """For bookings whose split was refused at confirmation (rules over 100%): the same split, now."""
    for booking in queryset.select_related("departure"):
        try:
            shares = services.shares_split_again(booking=booking, actor=request.user)
        except LedgerError as exc:
            messages.error(request, _("%(booking)s: %(error)s") % {"booking": booking.reference, "error": exc})
            continue
        modeladmin.log_change(
            request,
            booking,
            ngettext("Payment split again: %(n)s share", "Payment split again: %(n)s shares", len(shares))
            % {"n": len(shares)},
        )
        messages.success(
            request,
            ngettext(
                "%(booking)s: split into %(n)s share; routing is queued.",
                "%(booking)s: split into %(n)s shares; routing is queued.",
                len(shares),
            )
            % {"booking": booking.reference, "n": len(shares)},
        )


def _has_split_permission(self, request) -> bool:
    return request.user.has_perm("cooperatives.split_payment")


def _extend_booking_admin() -> None:
    """Add the split, the ledger and the split-again action to the registered booking admin (once)."""
    extra = tuple(
        inline for inline in (BookingShareInline, BookingJournalEntryInline) if inline not in BookingAdmin.inlines
    )
    BookingAdmin.inlines = (*BookingAdmin.inlines, *extra)
    actions = tuple(BookingAdmin.actions or ())
    if split_payment_again not in actions:
        BookingAdmin.actions = (*actions, split_payment_again)
    BookingAdmin.has_split_permission = _has_split_permission


_extend_booking_admin()
from . import admin_portal  # noqa: E402, F401  (Invitation and PayoutChangeRequest admins)
