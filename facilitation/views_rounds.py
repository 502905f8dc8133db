"""The small-group rounds page: facilitators set how the rounds rotate, plan them and move people between rooms."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from facilitation import selectors_rounds, services
from facilitation.forms_rounds import RotationForm
from facilitation.models import Room
from facilitation.views import wants_json
from workshops.models import Participant, Workshop
from workshops.permissions import workshop_for_facilitator


def _to_rounds(workshop: Workshop, number: int | None = None):
    response = redirect("facilitation:rounds", workshop_id=workshop.pk)
    if number is not None:
        response["Location"] += f"#round-{number}"
    return response


def _page(request, workshop: Workshop, form: RotationForm | None = None, status: int = 200):
    page = selectors_rounds.rounds_page(workshop)
    context = {
        "workshop": workshop,
        "page": page,
        "rounds": page.rounds,
        "form": form or RotationForm(instance=page.rotation),
    }
    return render(request, "facilitation/rounds.html", context, status=status)


@login_required
@require_GET
def rounds(request, workshop_id: int):
    """The rotation settings and the planned rounds as a grid of rooms and their people."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    return _page(request, workshop)


@login_required
@require_POST
def rounds_settings(request, workshop_id: int):
    """Save the rotation settings; the stored plan stays until the facilitator plans again."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    form = RotationForm(request.POST, instance=selectors_rounds.rotation_of(workshop))
    if form.is_valid():
        try:
            services.rotation_update(workshop=workshop, data=form.rotation_data())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if workshop.rounds.exists():
                messages.success(request, _("Settings saved. Plan the rounds again to use them."))
            else:
                messages.success(request, _("Settings saved."))
            return _to_rounds(workshop)
    return _page(request, workshop, form)


@login_required
@require_POST
def rounds_plan(request, workshop_id: int):
    """Plan every round for the people present. Replacing a stored plan needs ``replace`` (the confirm button)."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    if workshop.rounds.exists() and request.POST.get("replace") != "1":
        messages.error(request, _("The rounds are already planned. Confirm that a new plan replaces them."))
        return _to_rounds(workshop)
    try:
        planned = services.rounds_plan(workshop=workshop)
    except services.LiveError as error:
        messages.error(request, str(error))
        return _to_rounds(workshop)
    count = len(planned)
    messages.success(
        request,
        ngettext("%(count)d round was planned.", "%(count)d rounds were planned.", count) % {"count": count},
    )
    return _to_rounds(workshop, 1 if count else None)


@login_required
@require_POST
def rounds_rebalance(request, workshop_id: int):
    """Plan the rounds not yet started again for the people present now."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    try:
        services.rounds_rebalance(workshop=workshop)
    except services.LiveError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The rounds not yet started were planned again for the people present."))
    return _to_rounds(workshop)


def _number(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number >= 0 else None


@login_required
@require_POST
def rounds_move(request, workshop_id: int):
    """Move one person to another room of a round (``participant``, ``round`` number, ``room`` index).

    Answers JSON to the drag-and-drop script, otherwise goes back to the round with a message.
    """
    workshop = workshop_for_facilitator(request.user, workshop_id)
    participant_id, number, index = (_number(request.POST.get(name)) for name in ("participant", "round", "room"))
    participant = None
    if participant_id is not None:
        participant = Participant.objects.filter(pk=participant_id, workshop=workshop).first()
    try:
        if participant is None or number is None or index is None:
            raise services.LiveError(_("Choose a person of this workshop and a room to move them to."))
        services.member_move(workshop=workshop, participant=participant, number=number, room_index=index)
    except services.LiveError as error:
        if wants_json(request):
            return JsonResponse({"error": str(error)}, status=400)
        messages.error(request, str(error))
        return _to_rounds(workshop, number)
    text = _("Moved %(name)s to room %(room)s.") % {"name": participant.name, "room": Room(index=index).label}
    if wants_json(request):
        pairs = selectors_rounds.repeated_pairs_by_round(workshop)
        return JsonResponse({"ok": True, "message": text, "repeated_pairs": pairs})
    messages.success(request, text)
    return _to_rounds(workshop, number)
