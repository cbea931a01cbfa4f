from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class UnitsForm(forms.Form):
    """Step 1: how many travellers. Prices are never read from the form."""

    departure = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    adults = forms.IntegerField(label=_("Adults"), min_value=1, max_value=50, initial=2)
    children = forms.IntegerField(label=_("Children"), min_value=0, max_value=50, initial=0, required=False)

    def clean_children(self):
        return self.cleaned_data.get("children") or 0


class ParticipantForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=160)
    dietary_needs = forms.CharField(
        label=_("Dietary needs or allergies"),
        max_length=300,
        required=False,
        help_text=_("For example: vegetarian, no nuts."),
    )


class BookingDetailsForm(forms.Form):
    emergency_contact_name = forms.CharField(label=_("Emergency contact name"), max_length=160)
    emergency_contact_phone = forms.CharField(label=_("Emergency contact phone"), max_length=40)
    language = forms.ChoiceField(label=_("Preferred language for the tour and e-mails"), choices=settings.LANGUAGES)
    notes = forms.CharField(
        label=_("Notes for the guide"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


ParticipantFormSet = forms.formset_factory(ParticipantForm, extra=0, min_num=1, validate_min=True)


class CancelForm(forms.Form):
    confirm = forms.BooleanField(label=_("Yes, cancel this booking"), required=True)
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=300)
