"""Writes of the method library: save a workshop as a template, import, delete, apply to a workshop.

Errors people can fix come back as ``TemplateError`` (``DocumentError`` for a
file that breaks the format, listing every problem) with a message in their
language; nothing is saved then.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from facilitation.models import Comment, Idea, LiveState, Phase
from workshops.methods import convert
from workshops.methods import document as methods
from workshops.methods.document import DocumentError, TemplateError
from workshops.models import Workshop, WorkshopTemplate
from workshops.selectors_templates import TemplateEntry

__all__ = [
    "DocumentError",
    "TemplateError",
    "template_apply",
    "template_delete",
    "template_import",
    "template_save",
]

# A template cannot be applied to a workshop that is over.
FINISHED_STATUSES = {
    Workshop.Status.CLOSED,
    Workshop.Status.ARCHIVED,
    Workshop.Status.DECLINED,
    Workshop.Status.CANCELLED,
}


def _can_share(user: User) -> bool:
    # Sharing reaches the user's organisation, or (for platform facilitators) the other facilitators.
    return bool(user.organisation_id) or user.is_facilitator


def _store(*, user: User, document: dict, shared: bool) -> WorkshopTemplate:
    now = timezone.now()
    return WorkshopTemplate.objects.create(
        name=document["name"],
        description=document["description"],
        organisation_id=user.organisation_id,
        shared=shared and _can_share(user),
        created_by=user,
        data=document,
        created_at=now,
        updated_at=now,
    )


@transaction.atomic
def template_save(
    *, workshop: Workshop, user: User, name: str, description: str = "", shared: bool = False
) -> WorkshopTemplate:
    """Save the workshop's agenda, room settings and feedback survey as a new template of ``user``.

    The document is validated exactly as an imported file would be, so every
    saved template can be exported and imported again.
    """
    document = methods.validate(convert.serialize(workshop, name=name, description=description))
    return _store(user=user, document=document, shared=shared)


@transaction.atomic
def template_import(*, user: User, data: bytes, shared: bool = False) -> WorkshopTemplate:
    """Save an uploaded template file as a new template of ``user``; raises ``DocumentError`` for a bad file."""
    return _store(user=user, document=methods.parse(data), shared=shared)


@transaction.atomic
def template_delete(*, template: WorkshopTemplate, user: User) -> None:
    """Remove a saved template; only its creator may."""
    if template.created_by_id != user.pk:
        raise PermissionDenied
    template.delete()


def _agenda_in_use(workshop: Workshop) -> bool:
    phases = Phase.objects.filter(workshop=workshop)
    return (
        Comment.objects.filter(phase__in=phases).exists()
        or Idea.objects.filter(phase__in=phases).exists()
        or LiveState.objects.filter(workshop=workshop, current_phase__isnull=False).exists()
    )


@transaction.atomic
def template_apply(*, workshop: Workshop, template: TemplateEntry, replace: bool = False) -> list[Phase]:
    """Build the workshop's agenda, room settings and survey from ``template``; returns the new phases.

    A built-in is written in the workshop's language. A workshop that already
    has an agenda is changed only with ``replace``, and only while nobody has
    written in it and no phase is running; then its phases are removed first.
    """
    locked = Workshop.objects.select_for_update().get(pk=workshop.pk)
    if locked.status in FINISHED_STATUSES:
        raise TemplateError(_("This workshop is over, so its agenda cannot be changed."))
    if Phase.objects.filter(workshop=locked).exists():
        if not replace:
            raise TemplateError(_("The workshop already has an agenda. Confirm that it may be replaced."))
        if _agenda_in_use(locked):
            raise TemplateError(
                _("People have already written in this agenda or it is running, so it cannot be replaced.")
            )
        Phase.objects.filter(workshop=locked).delete()
    document = methods.validate(template.document(language=locked.language))
    return convert.apply(locked, document)
