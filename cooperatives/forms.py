"""Forms of the cooperative leaders' portal: they parse input; the services decide."""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from cacaotours.core.models import PayoutMethod

from .models import Share

CCI_RE = re.compile(r"^[0-9]{20}$")
ACCOUNT_RE = re.compile(r"^acct_[A-Za-z0-9]{6,}$")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class EntryFilterForm(forms.Form):
    """GET filters of the share list. Query names are Spanish, like the portal's URLs."""

    desde = forms.DateField(label=_("From"), required=False, widget=DateInput)
    hasta = forms.DateField(label=_("To"), required=False, widget=DateInput)
    tour = forms.TypedChoiceField(label=_("Tour"), required=False, coerce=int, empty_value=None)
    estado = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, tours: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tour"].choices = [("", _("All tours")), *tours]
        self.fields["estado"].choices = [("", _("Any status")), *Share.Status.choices]

    def clean(self):
        data = super().clean()
        since, until = data.get("desde"), data.get("hasta")
        if since and until and since > until:
            self.add_error(
                "hasta", _("The end date (%(until)s) is before the start date.") % {"until": until.isoformat()}
            )
        for name in ("desde", "hasta"):
            value = data.get(name)
            if value and not (date(2000, 1, 1) <= value <= date(2100, 12, 31)):
                self.add_error(name, _("Enter a date between 2000 and 2100."))
        return data

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)


class StatementMonthForm(forms.Form):
    mes = forms.RegexField(
        label=_("Month"),
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        error_messages={"invalid": _("Choose a month (year and month).")},
        # Browsers without a month picker show a text box: js/portal.js then adds a pattern and a
        # placeholder (HTML allows neither on type="month").
        widget=forms.TextInput(attrs={"type": "month", "data-month-fallback": "2026-03"}),
    )


class PayoutChangeRequestForm(forms.Form):
    """A leader's or treasurer's request; field errors here, the same rules again in the service."""

    payout_method = forms.ChoiceField(
        label=_("How should Kallpa pay the community?"),
        choices=[
            (PayoutMethod.BANK_TRANSFER, _("Bank transfer to a Peruvian account (CCI)")),
            (PayoutMethod.STRIPE_CONNECT, _("Stripe Connect (automatic transfer after each payment)")),
        ],
        widget=forms.RadioSelect,
    )
    bank_name = forms.CharField(label=_("Bank"), max_length=80, required=False)
    bank_account_holder = forms.CharField(
        label=_("Account holder"),
        max_length=120,
        required=False,
        help_text=_("Exactly as the bank has it: the association or the person."),
    )
    bank_cci = forms.CharField(
        label=_("CCI (20 digits)"),
        max_length=40,
        required=False,
        help_text=_("The Código de Cuenta Interbancario: 20 digits. Spaces and dashes are ignored."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    stripe_account_id = forms.CharField(
        label=_("Stripe connected account id"),
        max_length=64,
        required=False,
        help_text=_("It starts with acct_, for example acct_1AbC23dEfG."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    note = forms.CharField(
        label=_("Note for Kallpa"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the change, or anything Kallpa should check (up to 300 characters)."),
    )

    def clean_bank_cci(self):
        return "".join(self.cleaned_data.get("bank_cci", "").split()).replace("-", "")

    def clean_stripe_account_id(self):
        return self.cleaned_data.get("stripe_account_id", "").strip()

    def clean(self):
        data = super().clean()
        method = data.get("payout_method")
        if method == PayoutMethod.BANK_TRANSFER:
            if not data.get("bank_account_holder", "").strip():
                self.add_error("bank_account_holder", _("Enter the account holder's name."))
            cci = data.get("bank_cci", "")
            if not cci:
                self.add_error("bank_cci", _("Enter the CCI: 20 digits."))
            elif not CCI_RE.match(cci):
                self.add_error(
                    "bank_cci",
                    _("A CCI has exactly 20 digits; this one has %(count)s characters.") % {"count": len(cci)},
                )
        elif method == PayoutMethod.STRIPE_CONNECT:
            account = data.get("stripe_account_id", "")
            if not account:
                self.add_error("stripe_account_id", _("Enter the Stripe connected account id."))
            elif not ACCOUNT_RE.match(account):
                self.add_error("stripe_account_id", _("A Stripe connected account id looks like acct_1AbC23dEfG."))
        return data
