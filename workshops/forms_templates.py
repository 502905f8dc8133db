"""Forms of the method library. Services check the rules again."""

from __future__ import annotations

from django import forms
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from workshops.forms import FormulaSafeMixin
from workshops.methods.document import DESCRIPTION_MAX_LENGTH, MAX_FILE_BYTES, NAME_MAX_LENGTH
from workshops.selectors_templates import TemplateEntry, template_choices, template_entry


def _can_share(user) -> bool:
    return bool(user.organisation_id) or user.is_facilitator


class TemplateSaveForm(FormulaSafeMixin, forms.Form):
    """Name, description and sharing of a workshop saved as a template."""

    name = forms.CharField(label=_("Name of the template"), max_length=NAME_MAX_LENGTH)
    description = forms.CharField(
        label=_("Description"),
        max_length=DESCRIPTION_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("When and how to use this template, for the colleagues who pick it."),
    )
    shared = forms.BooleanField(label=_("Share with my organisation"), required=False)
    formula_exempt = ("description",)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        _sharing_field(self, user)


def _sharing_field(form: forms.Form, user) -> None:
    if not _can_share(user):
        # Without an organisation there is nobody to share with.
        del form.fields["shared"]
    elif user.is_facilitator:
        form.fields["shared"].help_text = _(
            "Everyone who runs workshops in your organisation can use it; so can the other platform facilitators."
        )
    else:
        form.fields["shared"].help_text = _("Everyone who runs workshops in your organisation can use it.")


class TemplateImportForm(forms.Form):
    """A template file (JSON) passed on by a colleague."""

    file = forms.FileField(
        label=_("Template file (JSON)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )
    shared = forms.BooleanField(label=_("Share with my organisation"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "A file exported from the method library of Kehittämö, at most %(size)d KB."
        ) % {"size": MAX_FILE_BYTES // 1024}
        _sharing_field(self, user)


class TemplateChoiceField(forms.ChoiceField):
    """A select of the built-in and the user's visible saved templates; cleans to a ``TemplateEntry``."""

    def __init__(self, *, user, empty_label=None, **kwargs):
        self.user = user
        choices = template_choices(user)
        if empty_label is not None:
            choices = [("", empty_label), *choices]
        super().__init__(choices=choices, **kwargs)
        self.error_messages["invalid_choice"] = _("Choose one of the templates in the list.")

    def clean(self, value) -> TemplateEntry | None:
        value = super().clean(value)
        if not value:
            return None
        try:
            return template_entry(self.user, value)
        except Http404:  # deleted or no longer shared since the page was shown
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from None


class StartFromTemplateForm(forms.Form):
    """The optional "start from a template" choice when a facilitator creates a workshop."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"] = TemplateChoiceField(
            user=user,
            empty_label=_("— no template: start with an empty agenda —"),
            required=False,
            label=_("Start from a template"),
            help_text=_(
                "The agenda, room settings and feedback survey are made from the template in the workshop's "
                "language. You can change everything afterwards."
            ),
        )


class TemplateApplyForm(forms.Form):
    """Pick the template for an existing workshop; replacing an agenda must be confirmed."""

    def __init__(self, *args, user, has_agenda: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"] = TemplateChoiceField(user=user, label=_("Template"))
        if has_agenda:
            self.fields["replace"] = forms.BooleanField(
                label=_("Replace the current agenda"),
                help_text=_("Its phases are removed. This is possible only while nobody has written in them."),
                error_messages={"required": _("Tick this to confirm that the current agenda is replaced.")},
            )
