"""Forms for registering, planning and filling a workshop. Services check the rules again."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from workshops.importing import looks_like_formula
from workshops.models import Case, Participant, Workshop


def refuse_formula(value: str) -> str:
    """Refuse text that a spreadsheet program would run as a formula when the list is exported."""
    if looks_like_formula(value):
        raise forms.ValidationError(_("Starts like a spreadsheet formula (=, +, -, @); remove that character."))
    return value


class FormulaSafeMixin:
    """Apply refuse_formula() to every text field of the form."""

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            if isinstance(value, str) and name not in getattr(self, "formula_exempt", ()):
                try:
                    refuse_formula(value)
                except forms.ValidationError as error:
                    self.add_error(name, error)
        return cleaned


class RegistrationForm(FormulaSafeMixin, forms.ModelForm):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.order_by("name"),
        required=False,
        empty_label=_("— a new organisation, named below —"),
        help_text=_("Pick your organisation, or leave this empty and write its name below."),
    )
    new_organisation_name = forms.CharField(label=_("Name of a new organisation"), max_length=200, required=False)
    new_organisation_kind = forms.ChoiceField(
        label=_("Kind of the new organisation"), choices=Organisation.Kind.choices, required=False
    )
    invited_groups = forms.MultipleChoiceField(
        label=_("Whom do you intend to invite?"),
        choices=[c for c in Participant.RoleGroup.choices if c[0] != Participant.RoleGroup.OTHER],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    formula_exempt = ("format", "language", "new_organisation_kind")

    class Meta:
        model = Workshop
        fields = ["title", "goal", "format", "preferred_dates", "expected_participants", "case_proposals", "language"]
        widgets = {
            "goal": forms.Textarea(attrs={"rows": 4}),
            "preferred_dates": forms.Textarea(attrs={"rows": 3}),
            "case_proposals": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "preferred_dates": _("For example: Tuesdays or Thursdays in March, 13–15."),
            "case_proposals": _("Optional: the good practices you would like to present, and who could present them."),
            "language": _("The language of the workshop and of the invitations."),
        }

    field_order = ["organisation", "new_organisation_name", "new_organisation_kind", "title", "goal", "format"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["goal"].required = True
        self.fields["expected_participants"].min_value = 1
        self.fields["expected_participants"].widget.attrs["min"] = 1
        if user is not None and user.organisation_id:
            self.fields["organisation"].initial = user.organisation_id

    def clean_expected_participants(self):
        value = self.cleaned_data.get("expected_participants")
        if value is not None and not 1 <= value <= 5000:
            raise forms.ValidationError(_("Give a number between 1 and 5000."))
        return value

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("organisation"):
            name = " ".join((cleaned.get("new_organisation_name") or "").split())
            if not name:
                self.add_error("new_organisation_name", _("Pick an organisation or write the name of a new one."))
            cleaned["new_organisation_name"] = name
        return cleaned


class PlanningForm(forms.Form):
    """Date, time and place agreed for a workshop (Europe/Helsinki)."""

    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    time = forms.TimeField(label=_("Start time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=15, max_value=600, initial=120)
    meeting_url = forms.URLField(
        label=_("Video meeting link"),
        required=False,
        assume_scheme="https",
        help_text=_("Only if the workshop is held remotely."),
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    def starts_at(self) -> datetime:
        data = self.cleaned_data
        return datetime.combine(data["date"], data["time"], tzinfo=ZoneInfo(settings.TIME_ZONE))


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text=_("The contact person receives this by e-mail."),
    )


class WorkshopEditForm(FormulaSafeMixin, forms.ModelForm):
    formula_exempt = ("format", "language")

    class Meta:
        model = Workshop
        fields = [
            "title",
            "goal",
            "format",
            "preferred_dates",
            "expected_participants",
            "case_proposals",
            "language",
            "duration_minutes",
            "meeting_url",
        ]
        widgets = {
            "goal": forms.Textarea(attrs={"rows": 4}),
            "preferred_dates": forms.Textarea(attrs={"rows": 3}),
            "case_proposals": forms.Textarea(attrs={"rows": 4}),
        }


class CaseForm(FormulaSafeMixin, forms.ModelForm):
    class Meta:
        model = Case
        fields = ["title", "presenter_name", "presenter_email", "description", "material_url"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        help_texts = {"material_url": _("For example slides or a video. Participants see the link.")}


class ParticipantForm(FormulaSafeMixin, forms.ModelForm):
    formula_exempt = ("role_group", "role")

    class Meta:
        model = Participant
        fields = ["name", "email", "organisation_name", "department", "role_group", "role"]

    def __init__(self, *args, workshop: Workshop, **kwargs):
        super().__init__(*args, **kwargs)
        self.workshop = workshop
        self.fields["email"].required = True

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        taken = Participant.objects.filter(workshop=self.workshop, email__iexact=email)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("This e-mail address is already on the participant list."))
        return email

    def _post_clean(self):
        # the workshop is not a form field; set it before the model's own validation
        self.instance.workshop = self.workshop
        super()._post_clean()


class ParticipantUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Participant list (CSV or Excel)"),
        help_text=_(
            "One participant per row. Column headings such as Name, E-mail, Organisation, Department and Role "
            "(or Nimi, Sähköposti, Organisaatio, Toimiala, Rooli). "
            "Semicolon-separated CSV from Finnish Excel works too."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )
