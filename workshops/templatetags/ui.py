"""Template helpers shared by every page's forms."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag
def accessible_widget(field):
    """Render a form widget tied to its error list and help text for screen readers."""
    described_by = []
    if field.errors:
        described_by.append(f"{field.auto_id}_errors")
    if field.help_text:
        described_by.append(f"{field.auto_id}_helptext")
    attrs = {}
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.filter
def role_group_label(value: str) -> str:
    """The translated name of a participant's role group value."""
    from workshops.models import Participant

    return dict(Participant.RoleGroup.choices).get(value, "")


@register.filter
def role_label(value: str) -> str:
    """The translated name of a participant's workshop role value."""
    from workshops.models import Participant

    return dict(Participant.Role.choices).get(value or Participant.Role.PARTICIPANT, "")
