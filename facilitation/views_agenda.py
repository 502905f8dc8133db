"""The agenda editor: facilitators plan a workshop's phases before (and while) it runs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from facilitation import selectors, services
from facilitation.forms import PhaseForm
from facilitation.models import Phase
from workshops.models import Workshop
from workshops.permissions import workshop_for_facilitator

MOVES = {"up": -1, "down": 1}
PARASTAMINEN = {Workshop.Format.PARASTAMINEN_A, Workshop.Format.PARASTAMINEN_B}


def _phase_of(workshop: Workshop, phase_id: int) -> Phase:
    return get_object_or_404(Phase.objects.select_related("workshop"), pk=phase_id, workshop=workshop)


def _to_agenda(workshop: Workshop, phase: Phase | None = None):
    response = redirect("facilitation:agenda", workshop_id=workshop.pk)
    if phase is not None:
        response["Location"] += f"#phase-{phase.pk}"
    return response


@login_required
def agenda(request, workshop_id: int):
    """The agenda as a list: order, kind, planned minutes, case and questions, and the total against the plan."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    phases = list(selectors.agenda_phases(workshop))
    if not phases and workshop.format in PARASTAMINEN and workshop.cases.exists():
        # The method's own agenda is the starting point; the facilitator adjusts it from here.
        services.agenda_create_default(workshop=workshop)
        phases = list(selectors.agenda_phases(workshop))
        messages.info(request, _("The Parastaminen agenda was made from the workshop's cases. Adjust it as you like."))
    total = sum(phase.duration_minutes for phase in phases)
    context = {
        "workshop": workshop,
        "phases": phases,
        "total_minutes": total,
        "over_minutes": total - workshop.duration_minutes,
    }
    return render(request, "facilitation/agenda.html", context)


def _phase_form_page(request, workshop: Workshop, form: PhaseForm, title: str):
    return render(request, "facilitation/phase_form.html", {"workshop": workshop, "form": form, "title": title})


@login_required
def phase_new(request, workshop_id: int):
    workshop = workshop_for_facilitator(request.user, workshop_id)
    form = PhaseForm(request.POST or None, workshop=workshop)
    if request.method == "POST" and form.is_valid():
        phase = services.phase_create(workshop=workshop, prompts=form.cleaned_data["prompts"], **form.phase_data())
        messages.success(request, _("The phase “%(title)s” was added.") % {"title": phase.title})
        return _to_agenda(workshop, phase)
    return _phase_form_page(request, workshop, form, _("Add a phase"))


@login_required
def phase_edit(request, workshop_id: int, phase_id: int):
    workshop = workshop_for_facilitator(request.user, workshop_id)
    phase = _phase_of(workshop, phase_id)
    form = PhaseForm(request.POST or None, instance=phase, workshop=workshop)
    if request.method == "POST" and form.is_valid():
        try:
            services.phase_update(phase=phase, data=form.phase_data(), prompts=form.cleaned_data["prompts"])
        except services.LiveError as error:
            # the service rolled everything back; show the reason next to the questions
            form.add_error("prompts", str(error))
        else:
            messages.success(request, _("Changes saved."))
            return _to_agenda(workshop, phase)
    return _phase_form_page(request, workshop, form, _("Edit phase"))


@login_required
def phase_delete(request, workshop_id: int, phase_id: int):
    """GET asks first (removal cannot be undone); POST removes, unless people have written in it or it runs now."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    phase = _phase_of(workshop, phase_id)
    if request.method == "POST":
        try:
            services.phase_delete(phase=phase)
        except services.LiveError as error:
            messages.error(request, str(error))
            return _to_agenda(workshop, phase)
        messages.success(request, _("The phase “%(title)s” was removed.") % {"title": phase.title})
        return _to_agenda(workshop)
    context = {"workshop": workshop, "object_name": phase.title, "title": _("Remove the phase?")}
    return render(request, "facilitation/phase_confirm_delete.html", context)


@login_required
@require_POST
def phase_move(request, workshop_id: int, phase_id: int):
    """Move a phase one step up or down (``direction``); the first up and the last down change nothing."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    phase = _phase_of(workshop, phase_id)
    offset = MOVES.get(request.POST.get("direction", ""))
    if offset is None:
        messages.error(request, _("Choose whether to move the phase up or down."))
        return _to_agenda(workshop, phase)
    try:
        services.phase_move(phase=phase, offset=offset)
    except services.LiveError as error:
        messages.error(request, str(error))
    else:
        phase.refresh_from_db(fields=["position"])
        messages.success(
            request, _("“%(title)s” is now number %(position)d.") % {"title": phase.title, "position": phase.position}
        )
    return _to_agenda(workshop, phase)


@login_required
@require_POST
def agenda_default(request, workshop_id: int):
    """Fill an empty agenda with the format's default phases."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    if workshop.phases.exists():
        messages.error(request, _("The agenda already has phases, so the default agenda was not added."))
        return _to_agenda(workshop)
    try:
        phases = services.agenda_create_default(workshop=workshop)
    except services.LiveError as error:
        messages.error(request, str(error))
    else:
        count = len(phases)
        text = ngettext(
            "The default agenda was added: %(count)d phase.", "The default agenda was added: %(count)d phases.", count
        )
        messages.success(request, text % {"count": count})
    return _to_agenda(workshop)
