"""Forms for planning the live workshop. Services check the rules again."""

from __future__ import annotations

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from facilitation.models import Phase, Prompt
from facilitation.services.agenda import IDEA_OPTIONS
from workshops.forms import FormulaSafeMixin, refuse_formula
from workshops.models import Workshop

MAX_PROMPTS = 10

PROMPT_MAX_LENGTH = Prompt._meta.get_field("text").max_length


class PhaseForm(FormulaSafeMixin, forms.ModelForm):
    """One phase of the agenda; ``prompts`` is one question per line and becomes ``Prompt`` rows."""

    prompts = forms.CharField(label=_("Questions"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    duration_minutes = forms.IntegerField(
        label=capfirst(Phase._meta.get_field("duration_minutes").verbose_name),
        min_value=1,
        max_value=600,
        initial=10,
        error_messages={
            "min_value": _("A phase lasts at least %(limit_value)s minute."),
            "max_value": _("A phase lasts at most %(limit_value)s minutes."),
        },
    )
    # Instructions are shown on screen only and often start with a dash for a list.
    formula_exempt = ("kind", "instructions")

    field_order = ["kind", "title", "duration_minutes", "case", "instructions", "prompts", "private_first"]

    class Meta:
        model = Phase
        fields = [
            "kind",
            "title",
            "duration_minutes",
            "case",
            "instructions",
            "private_first",
            *IDEA_OPTIONS,
        ]
        widgets = {"instructions": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "case": _("Needed for a case presentation; a reflection may also be about one case."),
            "instructions": _("Shown to everyone while the phase runs."),
            "idea_max_length": _("Idea collection: how long one idea may be."),
            "ideas_public": _("Idea collection: off means each participant sees only their own ideas."),
            "offers_to_run": _("Idea collection: for pop-up sessions, an idea can say “I can run this”."),
            "idea_source": _("Prioritisation: the idea collection to prioritise; empty means the nearest one before."),
            "voting": _("Prioritisation: pairwise duels suit many ideas; dots and ratings suit a short list."),
            "min_appearances": _("Prioritisation: an idea is ranked once it has been compared this many times."),
            "dots_per_person": _("Prioritisation with dots: how many dots each person (or each team member) has."),
        }

    def __init__(self, *args, workshop: Workshop, **kwargs):
        super().__init__(*args, **kwargs)
        self.workshop = workshop
        self.fields["prompts"].help_text = _(
            "One question per line, at most %(count)d. Each question collects its own answers. "
            "Leave empty for one open discussion."
        ) % {"count": MAX_PROMPTS}
        case = self.fields["case"]
        case.queryset = workshop.cases.order_by("position", "id")
        case.empty_label = _("— no case —")
        case.error_messages["invalid_choice"] = _("Choose one of this workshop's cases.")
        for name in IDEA_OPTIONS:
            # Only idea collection and prioritisation use these; an empty one keeps its default.
            self.fields[name].required = False
        source = self.fields["idea_source"]
        source.queryset = workshop.phases.filter(kind=Phase.Kind.IDEAS).order_by("position", "id")
        source.empty_label = _("— the nearest idea collection before this phase —")
        source.error_messages["invalid_choice"] = _("Choose one of this workshop's idea collections.")
        if self.instance.pk and not self.is_bound:
            self.initial["prompts"] = "\n".join(prompt.text for prompt in self.instance.prompts.all())

    def clean_prompts(self) -> list[str]:
        lines = [" ".join(line.split()) for line in self.cleaned_data["prompts"].splitlines()]
        prompts = [line for line in lines if line]
        if len(prompts) > MAX_PROMPTS:
            raise forms.ValidationError(
                _("At most %(max)d questions; you wrote %(count)d.") % {"max": MAX_PROMPTS, "count": len(prompts)}
            )
        errors = []
        for number, text in enumerate(prompts, start=1):
            if len(text) > PROMPT_MAX_LENGTH:
                errors.append(
                    forms.ValidationError(
                        _("Question %(number)d is %(length)d characters long; at most %(max)d fit.")
                        % {"number": number, "length": len(text), "max": PROMPT_MAX_LENGTH}
                    )
                )
            try:
                refuse_formula(text)
            except forms.ValidationError:
                errors.append(
                    forms.ValidationError(
                        _("Question %(number)d starts like a spreadsheet formula (=, +, -, @); remove that character.")
                        % {"number": number}
                    )
                )
        if errors:
            raise forms.ValidationError(errors)
        return prompts

    def clean(self):
        cleaned = super().clean()
        for name in ("idea_max_length", "voting", "min_appearances", "dots_per_person"):
            if cleaned.get(name) in (None, "") and name not in self.errors:
                cleaned[name] = Phase._meta.get_field(name).default
        case = cleaned.get("case")
        if case is not None and case.workshop_id != self.workshop.pk:
            self.add_error("case", _("Choose one of this workshop's cases."))
        elif case is None and cleaned.get("kind") == Phase.Kind.PRESENTATION and "case" not in self.errors:
            self.add_error("case", _("A case presentation needs a case: choose the case that is presented."))
        return cleaned

    def _post_clean(self):
        # the workshop is not a form field; set it before the model's own validation
        self.instance.workshop = self.workshop
        super()._post_clean()

    def phase_data(self) -> dict:
        """The model fields for ``phase_create`` / ``phase_update`` (prompts go separately)."""
        return {name: self.cleaned_data[name] for name in self._meta.fields}
