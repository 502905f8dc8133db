"""The settings of a workshop's small-group rounds. The service validates the model again."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from facilitation.models import Rotation

GROUP_MIN, GROUP_MAX = 2, 50
ROOMS_MAX = 200
ROUND_MINUTES_MAX = 240


def _label(name: str) -> str:
    return capfirst(Rotation._meta.get_field(name).verbose_name)


def _group_size(name: str, initial: int, help_text: str = "") -> forms.IntegerField:
    return forms.IntegerField(
        label=_label(name),
        help_text=help_text,
        min_value=GROUP_MIN,
        max_value=GROUP_MAX,
        initial=initial,
        error_messages={
            "required": _("Enter a group size: a number of people from 2 to 50."),
            "invalid": _("Enter a whole number of people."),
            "min_value": _("A group has at least %(limit_value)s people."),
            "max_value": _("A group has at most %(limit_value)s people."),
        },
    )


class RotationForm(forms.ModelForm):
    """How the rounds rotate, the group sizes and the round length; ``rooms`` empty lets the sizes decide."""

    min_size = _group_size("min_size", 4, _("Small groups of 4–7 people have worked well."))
    max_size = _group_size("max_size", 7)
    rooms = forms.IntegerField(
        label=_label("rooms"),
        required=False,
        min_value=1,
        max_value=ROOMS_MAX,
        help_text=_("Leave empty to choose the number of rooms from the group sizes."),
        error_messages={
            "invalid": _("Enter a whole number of rooms, or leave it empty."),
            "min_value": _("At least %(limit_value)s room."),
            "max_value": _("At most %(limit_value)s rooms."),
        },
    )
    round_minutes = forms.IntegerField(
        label=_label("round_minutes"),
        min_value=1,
        max_value=ROUND_MINUTES_MAX,
        initial=15,
        error_messages={
            "required": _("Enter how many minutes one round lasts."),
            "invalid": _("Enter a whole number of minutes."),
            "min_value": _("A round lasts at least %(limit_value)s minute."),
            "max_value": _("A round lasts at most %(limit_value)s minutes."),
        },
    )

    room_links = forms.CharField(
        label=_("Video meeting links of the rooms"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "If each room has its own video meeting, one link per line in room order: A, B, C … "
            "For rotating stations, in the order of the cases. Leave empty when everyone uses the workshop's own link."
        ),
    )

    class Meta:
        model = Rotation
        fields = ["mode", "leaders_stay", "min_size", "max_size", "rooms", "remix", "round_minutes"]
        help_texts = {
            "mode": _(
                "Rotating groups: the groups move from case to case. "
                "Rotating stations: each case stays in its own room and the groups visit them in turn."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and self.instance.room_links:
            self.initial["room_links"] = "\n".join(self.instance.room_links)

    def clean_room_links(self) -> list[str]:
        links = [line.strip() for line in self.cleaned_data.get("room_links", "").splitlines() if line.strip()]
        check = URLValidator(schemes=["https", "http"])
        for number, link in enumerate(links, start=1):
            try:
                check(link)
            except ValidationError:
                raise ValidationError(
                    _("Line %(number)d is not a web address: %(link)s") % {"number": number, "link": link[:80]}
                ) from None
        if len(links) > 200:
            raise ValidationError(_("At most 200 links, one per room."))
        return links

    def clean(self):
        cleaned = super().clean()
        smallest, largest = cleaned.get("min_size"), cleaned.get("max_size")
        if smallest is not None and largest is not None and smallest > largest:
            self.add_error(
                "max_size",
                _("The largest group (%(largest)d) cannot be smaller than the smallest group (%(smallest)d).")
                % {"largest": largest, "smallest": smallest},
            )
        return cleaned

    def rotation_data(self) -> dict:
        """The model fields for ``rotation_update``."""
        data = {name: self.cleaned_data[name] for name in self._meta.fields}
        data["room_links"] = self.cleaned_data.get("room_links", [])
        return data
