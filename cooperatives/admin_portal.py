"""Admin of the leader portal's records: invitations and payout-detail change requests.

Imported by ``cooperatives/admin.py``. Both admins are thin: adding an invitation calls
``portal_services.invitation_create`` (token, expiry, e-mail after commit); "resend" and
"revoke" are actions; a change request is approved or rejected with an action or with the
buttons of its page, which call ``payout_change_request_approve`` / ``_reject``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import portal_services as services
from .models import Invitation, PayoutChangeRequest


class InvitationAddForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ("email", "cooperative", "fund", "role", "language")
        help_texts = {
            "email": _("The person signs in (or creates an account) with this address to accept."),
            "cooperative": _("Choose a cooperative or a community fund, not both."),
        }

    def clean(self):
        data = super().clean()
        if bool(data.get("cooperative")) == bool(data.get("fund")):
            raise forms.ValidationError(_("Choose a cooperative or a community fund (one of the two)."))
        return data


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "organisation_label", "role", "state", "expires_at", "sent_at", "invited_by")
    list_filter = ("role", "language", ("accepted_at", admin.EmptyFieldListFilter))
    search_fields = ("email", "cooperative__name", "fund__name")
    list_select_related = ("cooperative", "fund", "invited_by")
    actions = ("resend", "revoke")
    readonly_fields = (
        "email",
        "cooperative",
        "fund",
        "role",
        "language",
        "state",
        "expires_at",
        "sent_at",
        "invited_by",
        "accepted_at",
        "accepted_by",
        "revoked_at",
        "created_at",
    )

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = InvitationAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        return InvitationAddForm.Meta.fields if obj is None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the record says who was invited and when

    @admin.display(description=_("organisation"))
    def organisation_label(self, obj):
        return obj.organisation

    @admin.display(description=_("state"))
    def state(self, obj):
        if obj.revoked_at:
            return _("revoked")
        if obj.accepted_at:
            return _("accepted")
        if obj.expires_at and obj.expires_at <= timezone.now():
            return _("expired")
        return _("waiting")

    def save_model(self, request, obj, form, change):
        if change:  # nothing is editable after creation
            return
        data = form.cleaned_data
        try:
            created = services.invitation_create(
                email=data["email"],
                role=data["role"],
                cooperative=data.get("cooperative"),
                fund=data.get("fund"),
                invited_by=request.user,
                language=data.get("language") or "es",
            )
        except services.PortalError as exc:  # the form's clean() catches these first
            raise forms.ValidationError(str(exc)) from exc
        for field in Invitation._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False
        messages.info(
            request,
            format_html(
                "{} <code>{}</code>",
                _("The invitation is e-mailed to %(email)s. The link, valid for the next days, in case it is needed:")
                % {"email": created.email},
                created.link,
            ),
        )

    @admin.action(description=_("Resend with a fresh link"), permissions=("change",))
    def resend(self, request, queryset):
        sent = 0
        for invitation in queryset:
            try:
                services.invitation_resend(invitation_id=invitation.pk, actor=request.user)
            except services.PortalError as exc:
                self.message_user(request, f"{invitation.email}: {exc}", messages.WARNING)
            else:
                sent += 1
                self.log_change(request, invitation, _("Invitation sent again with a fresh link."))
        if sent:
            self.message_user(
                request,
                ngettext("%(n)d invitation sent again.", "%(n)d invitations sent again.", sent) % {"n": sent},
                messages.SUCCESS,
            )

    @admin.action(description=_("Revoke (the link stops working)"), permissions=("change",))
    def revoke(self, request, queryset):
        revoked = 0
        for invitation in queryset:
            try:
                services.invitation_revoke(invitation_id=invitation.pk, actor=request.user)
            except services.PortalError as exc:
                self.message_user(request, f"{invitation.email}: {exc}", messages.WARNING)
            else:
                revoked += 1
                self.log_change(request, invitation, _("Invitation revoked."))
        if revoked:
            self.message_user(
                request,
                ngettext("%(n)d invitation revoked.", "%(n)d invitations revoked.", revoked) % {"n": revoked},
                messages.SUCCESS,
            )


@admin.register(PayoutChangeRequest)
class PayoutChangeRequestAdmin(admin.ModelAdmin):
    list_display = ("organisation_label", "payout_method", "requested_details", "status", "requested_by", "created_at")
    list_filter = ("status", "payout_method")
    list_select_related = ("cooperative", "fund", "requested_by")
    search_fields = ("cooperative__name", "fund__name", "requested_by__email", "bank_account_holder")
    actions = ("approve", "reject")
    change_form_template = "cooperatives/admin/payout_request_change_form.html"
    fields = (
        "organisation_label",
        "current_details",
        "payout_method",
        "requested_details",
        "note",
        "requested_by",
        "created_at",
        "status",
        "decided_by",
        "decided_at",
        "decision_note",
    )

    def get_readonly_fields(self, request, obj=None):
        readonly = [name for name in self.fields if name != "decision_note"]
        if obj is not None and obj.status != PayoutChangeRequest.Status.PENDING:
            readonly.append("decision_note")
        return readonly

    def has_add_permission(self, request):
        return False  # leaders and treasurers ask from the portal

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("organisation"))
    def organisation_label(self, obj):
        return obj.cooperative or obj.fund

    @admin.display(description=_("requested details"))
    def requested_details(self, obj):
        if obj.payout_method == "stripe_connect":
            return obj.stripe_account_id
        return format_html("{} · {} · CCI {}", obj.bank_name or "—", obj.bank_account_holder, obj.bank_cci)

    @admin.display(description=_("details on file now"))
    def current_details(self, obj):
        org = obj.cooperative or obj.fund
        if org is None:
            return "—"
        if org.payout_method == "stripe_connect":
            return format_html("{} · {}", org.get_payout_method_display(), org.stripe_account_id)
        if org.payout_method == "bank_transfer":
            return format_html(
                "{} · {} · {} · CCI {}",
                org.get_payout_method_display(),
                org.bank_name or "—",
                org.bank_account_holder,
                org.bank_cci,
            )
        return org.get_payout_method_display()

    def _decide(self, request, queryset, approve: bool):
        decide = services.payout_change_request_approve if approve else services.payout_change_request_reject
        done = 0
        for pending in queryset:
            try:
                decide(request_id=pending.pk, actor=request.user)
            except services.PortalError as exc:
                self.message_user(request, f"{pending}: {exc}", messages.WARNING)
            else:
                done += 1
                if approve:
                    self.log_change(request, pending, _("Approved and applied."))
                    self.log_change(
                        request,
                        pending.cooperative or pending.fund,
                        _("Payout details changed: change request #%(n)s approved.") % {"n": pending.pk},
                    )
                else:
                    self.log_change(request, pending, _("Rejected."))
        if done:
            text = (
                ngettext("%(n)d request approved and applied.", "%(n)d requests approved and applied.", done)
                if approve
                else ngettext("%(n)d request rejected.", "%(n)d requests rejected.", done)
            )
            self.message_user(request, text % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("Approve and apply the selected requests"), permissions=("change",))
    def approve(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(description=_("Reject the selected requests"), permissions=("change",))
    def reject(self, request, queryset):
        self._decide(request, queryset, approve=False)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_decide"] = obj is not None and obj.status == PayoutChangeRequest.Status.PENDING
        return super().render_change_form(request, context, add, change, form_url, obj)

    def response_change(self, request, obj):
        """The page's "Approve" / "Reject" buttons: the note is saved first, then the service decides."""
        for name, approve in (("_approve", True), ("_reject", False)):
            if name in request.POST:
                self._decide(request, PayoutChangeRequest.objects.filter(pk=obj.pk), approve=approve)
                return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)
