"""Admin building blocks shared by the apps: tabular inlines whose fields have names, photo inlines that go
through photo_store."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationTabularInline

from .images import delete_rendered, photo_store, rendered_paths, validate_photo
from .money import Money

NBSP = "\u00a0"


def money_cell(amount: int | None, currency: str) -> str:
    """An amount in minor units as an admin cell: ``Money.format()`` with a non-breaking space, so
    narrow columns do not split "S/" from the amount."""
    return Money(amount or 0, currency).format().replace(" ", NBSP)


class LabelledInlineMixin:
    """A tabular inline whose inputs have an accessible name.

    Django's ``TabularInline`` puts the labels in the column headers only: its inputs, selects and "Delete"
    boxes have no ``<label>``, so a screen reader announces "edit text" (axe: ``label`` and ``select-name``,
    critical). Each visible field of each row gets ``aria-label`` = its label ("Day", "Title [en]", "Delete").
    """

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        def add_fields(self, form, index):
            formset.add_fields(self, form, index)
            for field in form.fields.values():
                if not field.widget.is_hidden and field.label:
                    field.widget.attrs.setdefault("aria-label", str(field.label))

        return type(formset.__name__, (formset,), {"add_fields": add_fields})


class PhotoAdminForm(forms.ModelForm):
    upload = forms.FileField(
        label=_("Photo file"),
        required=False,
        help_text=_("JPEG, PNG or WebP. It is re-encoded and resized; the original is not kept."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    class Meta:
        exclude = ("image",)  # noqa: DJ006 - the admin supplies the fields; the file comes via `upload`

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        if upload:
            try:
                validate_photo(upload)
            except ValidationError as exc:
                self.add_error("upload", exc)
        elif not self.instance.pk and self.has_changed():
            self.add_error("upload", _("Choose a photo file."))
        return cleaned


class PhotoInline(LabelledInlineMixin, TranslationTabularInline):
    form = PhotoAdminForm
    extra = 0
    fields = ("preview", "upload", "alt_text", "caption", "order")
    readonly_fields = ("preview",)
    ordering = ("order", "id")

    @admin.display(description=_("Preview"))
    def preview(self, obj):
        if not obj or not obj.image:
            return "—"
        return format_html(
            '<img src="{}" alt="{}" width="120" class="photo-preview">', obj.rendition_url("thumb"), obj.alt_text
        )


class PhotoFormsetMixin:
    """ModelAdmin mixin: store uploads of PhotoInline formsets through ``photo_store``."""

    def save_formset(self, request, form, formset, change):
        if not issubclass(formset.form, PhotoAdminForm):
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for obj in formset.deleted_objects:
            paths = rendered_paths(obj)
            obj.delete()
            transaction.on_commit(lambda paths=paths: delete_rendered(paths))
        for photo_form in formset.forms:
            if photo_form in formset.deleted_forms or not photo_form.has_changed():
                continue
            upload = photo_form.cleaned_data.get("upload")
            if upload:
                photo_store(photo=photo_form.instance, upload=upload)
            elif photo_form.instance.pk:
                photo_form.instance.save()
        return None
