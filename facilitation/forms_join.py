"""Joining an open event with the short join code. The service checks the name again."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.utils.translation import gettext_lazy as _

from facilitation.models import LiveState
from facilitation.services import TEAM_SIZE_MAX, join_code_normalise, live_for_join_code
from workshops.forms import refuse_formula

NAME_MAX_LENGTH = 80


class JoinCodeForm(forms.Form):
    """The code and the name the others will see.

    ``joined_already(workshop_id)`` tells whether this browser already is a
    participant of that workshop; then no name is needed and none is made.
    After validation ``live`` is the workshop's live state, and ``code_failed``
    says whether a code was given that lets nobody in (the view counts those).
    """

    code = forms.CharField(
        label=_("Join code"),
        help_text=_("The six letters and numbers the facilitator shows, for example ABC 234."),
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "maxlength": "20",
                "class": "join-code-input",
            }
        ),
    )
    name = forms.CharField(
        label=_("Your name"),
        help_text=_("The name the others will see."),
        error_messages={"required": _("Write the name you want the others to see.")},
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "name", "maxlength": str(NAME_MAX_LENGTH)}),
    )

    team_size = forms.IntegerField(
        label=_("How many people are on this screen?"),
        help_text=_("Joining as a team on one device? Say how many you are. Otherwise leave it at 1."),
        required=False,
        initial=1,
        min_value=1,
        max_value=TEAM_SIZE_MAX,
        error_messages={
            "invalid": _("Give the number of people as a whole number from 1 to 50."),
            "min_value": _("Give the number of people as a whole number from 1 to 50."),
            "max_value": _("Give the number of people as a whole number from 1 to 50."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1"}),
    )

    def __init__(self, *args, joined_already: Callable[[int], bool] = lambda workshop_id: False, **kwargs):
        super().__init__(*args, **kwargs)
        self.joined_already = joined_already
        self.live: LiveState | None = None
        self.code_failed = False
        self.is_member = False

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        live = live_for_join_code(code)
        if live is None:
            self.code_failed = True
            # Unknown, switched off, replaced or closed: the same answer, so guessing learns nothing.
            raise forms.ValidationError(
                _("This code does not work. Check it against the one on the screen, or ask the facilitator.")
            )
        self.live = live
        self.is_member = self.joined_already(live.workshop_id)
        if self.is_member:
            # Fields are cleaned in order, so the name, cleaned next, is no longer asked for.
            self.fields["name"].required = False
        return join_code_normalise(code)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if len(name) > NAME_MAX_LENGTH:
            raise forms.ValidationError(_("Keep the name under 80 characters."))
        return refuse_formula(name)

    def clean_team_size(self) -> int:
        return self.cleaned_data.get("team_size") or 1
