"""The agenda: phases, their prompts, and the format's default agenda."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Max
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from facilitation import realtime
from facilitation.models import LiveState, Phase, Prompt
from facilitation.services.common import (
    LiveError,
)
from workshops.models import Case, Workshop

# Settings only idea collection and prioritisation phases use (the phase form's extra fields).
IDEA_OPTIONS = (
    "idea_max_length",
    "ideas_public",
    "offers_to_run",
    "idea_source",
    "voting",
    "min_appearances",
    "dots_per_person",
)

REFLECTION_PROMPTS = [
    gettext_lazy("What did I learn?"),
    gettext_lazy("What could be useful in my own work?"),
]


# --- agenda ----------------------------------------------------------------------
def _renumber(workshop: Workshop) -> None:
    for index, phase in enumerate(Phase.objects.filter(workshop=workshop).order_by("position", "id"), start=1):
        if phase.position != index:
            Phase.objects.filter(pk=phase.pk).update(position=index)


def _set_prompts(phase: Phase, prompts: list[str]) -> None:
    """Save the phase's questions; a question that already has answers is never dropped or swapped.

    Unchanged questions are found by their text (so removing or reordering
    lines keeps answers with their question); the remaining new lines take over
    the remaining old questions in order, which is how a reworded question
    keeps its answers.
    """
    prompts = [" ".join(text.split()) for text in prompts if text.strip()]
    existing = list(phase.prompts.annotate(answers=Count("comments")).order_by("position", "id"))
    by_text = {prompt.text: prompt for prompt in existing}
    chosen: list[Prompt | None] = []
    for text in prompts:
        match = by_text.pop(text, None)
        chosen.append(match)
    taken = {prompt.pk for prompt in chosen if prompt is not None}
    leftovers = [prompt for prompt in existing if prompt.pk not in taken]
    for index, prompt in enumerate(chosen):
        if prompt is None and leftovers:
            chosen[index] = leftovers.pop(0)
    for prompt in leftovers:
        if prompt.answers:
            message = _("The prompt “%(prompt)s” already has answers and cannot be removed.")
            raise LiveError(message % {"prompt": prompt})
    for prompt in leftovers:
        prompt.delete()
    for index, (text, prompt) in enumerate(zip(prompts, chosen, strict=True), start=1):
        if prompt is None:
            Prompt.objects.create(phase=phase, position=index, text=text)
        elif prompt.text != text or prompt.position != index:
            Prompt.objects.filter(pk=prompt.pk).update(text=text, position=index)


@transaction.atomic
def phase_create(
    *,
    workshop: Workshop,
    kind: str,
    title: str,
    duration_minutes: int,
    instructions: str = "",
    case: Case | None = None,
    private_first: bool = False,
    prompts: list[str] | None = None,
    **options,
) -> Phase:
    """Add a phase at the end of the agenda; ``options`` are the idea and voting settings (``IDEA_OPTIONS``)."""
    unknown = set(options) - set(IDEA_OPTIONS)
    if unknown:
        raise TypeError(f"phase_create() got unexpected settings: {sorted(unknown)}")
    last = Phase.objects.filter(workshop=workshop).aggregate(last=Max("position"))["last"] or 0
    phase = Phase(
        workshop=workshop,
        position=last + 1,
        kind=kind,
        title=title,
        duration_minutes=duration_minutes,
        instructions=instructions,
        case=case,
        private_first=private_first,
        **options,
    )
    phase.full_clean(exclude=["workshop", "case", "idea_source"])
    phase.save()
    _set_prompts(phase, prompts or [])
    return phase


@transaction.atomic
def phase_update(*, phase: Phase, data: dict, prompts: list[str] | None = None) -> Phase:
    """Save edited fields and prompts of a phase; prompts with answers are kept.

    Editing the phase a live workshop is in shows it again to everyone (broadcasts ``phase`` and ``timer``
    after commit): open pages show the edit at once, and the panel's shared copies are made anew."""
    for name, value in data.items():
        setattr(phase, name, value)
    phase.full_clean()
    phase.save()
    if prompts is not None:
        _set_prompts(phase, prompts)
    running = (
        LiveState.objects.select_related("current_phase__case", "workshop")
        .filter(pk=phase.workshop_id, current_phase=phase, workshop__status=Workshop.Status.LIVE)
        .first()
    )
    if running is not None:
        realtime.publish_phase(running)
    return phase


@transaction.atomic
def phase_delete(*, phase: Phase) -> None:
    """Remove a phase nobody has written in and that is not running now."""
    if phase.comments.exists() or phase.ideas.exists():
        raise LiveError(_("People have already written in this phase, so it cannot be removed."))
    if LiveState.objects.filter(current_phase=phase).exists():
        raise LiveError(_("This phase is running now; move to another phase first."))
    workshop = phase.workshop
    phase.delete()
    _renumber(workshop)


@transaction.atomic
def phase_move(*, phase: Phase, offset: int) -> None:
    """Move a phase one step earlier (-1) or later (+1) in the agenda."""
    phases = list(Phase.objects.select_for_update().filter(workshop_id=phase.workshop_id).order_by("position", "id"))
    index = next(i for i, other in enumerate(phases) if other.pk == phase.pk)
    target = index + offset
    if 0 <= target < len(phases):
        phases[index], phases[target] = phases[target], phases[index]
    for position, other in enumerate(phases, start=1):
        if other.position != position:
            Phase.objects.filter(pk=other.pk).update(position=position)


@transaction.atomic
def agenda_create_default(*, workshop: Workshop) -> list[Phase]:
    """The format's default agenda in the workshop's language, if it has none yet.

    Parastaminen: introduction, then each case presented and followed by an
    individual reflection (what did I learn? what could be useful in my own
    work?), the small-group rounds, wrap-up and feedback.
    """
    Workshop.objects.select_for_update().get(pk=workshop.pk)
    if Phase.objects.filter(workshop=workshop).exists():
        return list(workshop.phases.all())
    F = Workshop.Format
    K = Phase.Kind
    with translation.override(workshop.language):
        plan: list[dict] = [
            {"kind": K.INTRO, "title": _("Welcome and introduction"), "duration_minutes": 10},
        ]
        for case in workshop.cases.order_by("position", "id"):
            plan.append(
                {
                    "kind": K.PRESENTATION,
                    "title": _("Case: %(title)s") % {"title": case.title},
                    "duration_minutes": 15,
                    "case": case,
                    "instructions": _("Write down observations and questions on the case while you listen."),
                }
            )
            if workshop.format != F.LARGE_EVENT:
                plan.append(
                    {
                        "kind": K.REFLECTION,
                        "title": _("Reflection: %(title)s") % {"title": case.title},
                        "duration_minutes": 5,
                        "case": case,
                        "instructions": _("Answer on your own first; short notes are enough."),
                        "prompts": [str(prompt) for prompt in REFLECTION_PROMPTS],
                    }
                )
        if workshop.format == F.LARGE_EVENT:
            plan.append({"kind": K.DISCUSSION, "title": _("Ideas and discussion"), "duration_minutes": 30})
        else:
            plan.append({"kind": K.ROUNDS, "title": _("Small-group rounds"), "duration_minutes": 45})
        plan.append({"kind": K.WRAP_UP, "title": _("Wrap-up"), "duration_minutes": 15})
        plan.append({"kind": K.FEEDBACK, "title": _("Feedback"), "duration_minutes": 5})
    return [phase_create(workshop=workshop, **item) for item in plan]
