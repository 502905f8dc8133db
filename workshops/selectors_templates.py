"""Reads for the method library: which templates a user sees, and each one's summary.

A saved template is visible to its creator; a shared one also to everyone in
the same organisation, and to every platform facilitator. The built-in methods
are visible to everyone signed in (everyone signed in can ask for a workshop).
A template the user may not see answers 404, exactly like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import translation

from accounts.models import User
from workshops.methods import builtin
from workshops.methods.document import Summary, summarise
from workshops.models import WorkshopTemplate

MAX_CHOICES = 300


@dataclass
class TemplateEntry:
    """One template of the library, built-in or saved, as the pages show and use it."""

    key: str
    name: str
    description: str
    builtin: bool
    template: WorkshopTemplate | None = None
    can_delete: bool = False
    summary: Summary = field(default_factory=Summary)

    def document(self, language: str | None = None) -> dict:
        """The template's document; a built-in's texts in ``language`` (default: the active one)."""
        if self.template is not None:
            data = dict(self.template.data)
            data.update(name=self.template.name, description=self.template.description)
            return data
        with translation.override(language or translation.get_language()):
            return builtin.document(self.key)


def templates_visible_to(user: User) -> QuerySet[WorkshopTemplate]:
    """Saved templates the user may see and use, by name, with their creator and organisation loaded."""
    queryset = WorkshopTemplate.objects.select_related("created_by", "organisation").order_by("name", "id")
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    visible = Q(created_by=user)
    if user.is_facilitator:
        visible |= Q(shared=True)
    elif user.organisation_id:
        visible |= Q(shared=True, organisation_id=user.organisation_id)
    return queryset.filter(visible)


def builtin_entries() -> list[TemplateEntry]:
    """The built-in methods in the active language."""
    entries = []
    for key, method in builtin.BUILTINS.items():
        entry = TemplateEntry(key=key, name=str(method.name), description=str(method.description), builtin=True)
        entry.summary = summarise(entry.document())
        entries.append(entry)
    return entries


def saved_entry(template: WorkshopTemplate, user: User) -> TemplateEntry:
    """A saved template as a library entry (no queries beyond the template row)."""
    return TemplateEntry(
        key=str(template.pk),
        name=template.name,
        description=template.description,
        builtin=False,
        template=template,
        can_delete=template.created_by_id == user.pk,
        summary=summarise(template.data),
    )


def template_for_user(user: User, template_id: int) -> WorkshopTemplate:
    """A saved template the user may see, or 404."""
    template = templates_visible_to(user).filter(pk=template_id).first()
    if template is None:
        raise Http404
    return template


def template_entry(user: User, key: str) -> TemplateEntry:
    """A built-in (by its key) or a visible saved template (by its id), or 404."""
    if key in builtin.BUILTINS:
        method = builtin.BUILTINS[key]
        return TemplateEntry(key=key, name=str(method.name), description=str(method.description), builtin=True)
    if not key.isdigit():
        raise Http404
    return saved_entry(template_for_user(user, int(key)), user)


def template_choices(user: User) -> list:
    """Choices for a template select: the built-ins, then the user's visible saved templates."""
    builtins = [(key, str(method.name)) for key, method in builtin.BUILTINS.items()]
    saved = [(str(pk), name) for pk, name in templates_visible_to(user).values_list("pk", "name")[:MAX_CHOICES]]
    choices = [(translation.gettext("Built-in methods"), builtins)]
    if saved:
        choices.append((translation.gettext("Saved templates"), saved))
    return choices
