"""Pages for the "before" of a workshop: registration, the facilitator's queue, planning,
cases, the participant list and invitations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from workshops import selectors, services
from workshops.forms import (
    CaseForm,
    DeclineForm,
    ParticipantForm,
    ParticipantUploadForm,
    PlanningForm,
    RegistrationForm,
    WorkshopEditForm,
)
from workshops.forms_templates import StartFromTemplateForm
from workshops.methods.document import TemplateError, per_case_notice
from workshops.models import Case, Participant, Workshop
from workshops.permissions import (
    require_facilitator,
    workshop_for_facilitator,
    workshop_for_organiser,
    workshop_for_planning,
)

PARTICIPANTS_PER_PAGE = 50
PREVIEW_SESSION_KEY = "kehittamo_import_preview"


def _registration_kwargs(form: RegistrationForm, user) -> dict[str, object]:
    data = form.cleaned_data
    organisation = data["organisation"] or services.organisation_get_or_create(
        name=data["new_organisation_name"], kind=data["new_organisation_kind"] or "municipality"
    )
    return {
        "user": user,
        "organisation": organisation,
        "title": data["title"],
        "goal": data["goal"],
        "format": data["format"],
        "preferred_dates": data["preferred_dates"],
        "expected_participants": data["expected_participants"],
        "invited_groups": data["invited_groups"],
        "case_proposals": data["case_proposals"],
        "language": data["language"],
    }


def _accept(workshop: Workshop, planning: PlanningForm, user) -> Workshop:
    data = planning.cleaned_data
    return services.workshop_accept(
        workshop=workshop,
        by=user,
        starts_at=planning.starts_at(),
        duration_minutes=data["duration_minutes"],
        meeting_url=data["meeting_url"],
        language=data["language"],
    )


@login_required
def register(request):
    """A contact person asks for a workshop (continuous registration)."""
    form = RegistrationForm(request.POST or None, user=request.user, initial={"language": request.LANGUAGE_CODE})
    if request.method == "POST" and form.is_valid():
        workshop = services.workshop_register(**_registration_kwargs(form, request.user))
        messages.success(request, _("Thank you! Your request was sent. A facilitator will contact you."))
        return redirect("workshops:manage", workshop_id=workshop.pk)
    return render(request, "workshops/register.html", {"form": form})


@login_required
def create_direct(request):
    """A facilitator creates an accepted workshop in one step, optionally starting from a template."""
    require_facilitator(request.user)
    form = RegistrationForm(request.POST or None, user=request.user, initial={"language": request.LANGUAGE_CODE})
    planning = PlanningForm(request.POST or None, initial={"language": request.LANGUAGE_CODE}, prefix="plan")
    start = StartFromTemplateForm(
        request.POST or None, user=request.user, prefix="tpl", initial={"template": request.GET.get("template", "")}
    )
    valid = [form.is_valid(), planning.is_valid(), start.is_valid()]  # every form shows its errors at once
    if request.method == "POST" and all(valid):
        template = start.cleaned_data["template"]
        data = planning.cleaned_data
        try:
            workshop = services.workshop_create_direct(
                registration=_registration_kwargs(form, request.user),
                starts_at=planning.starts_at(),
                duration_minutes=data["duration_minutes"],
                meeting_url=data["meeting_url"],
                language=data["language"],
                template=template,
            )
        except TemplateError as error:
            start.add_error("template", str(error))
        else:
            messages.success(request, _("The workshop was created."))
            if template is not None:
                notice = per_case_notice(template.document(), case_count=0)
                messages.info(
                    request,
                    " ".join(
                        filter(None, [_("The agenda was made from “%(name)s”.") % {"name": template.name}, notice])
                    ),
                )
            return redirect("workshops:manage", workshop_id=workshop.pk)
    context = {"form": form, "planning": planning, "start": start}
    return render(request, "workshops/create_direct.html", context)


@login_required
def queue(request):
    """The facilitator's view: requests waiting for an answer, and the upcoming workshops."""
    require_facilitator(request.user)
    return render(
        request,
        "workshops/queue.html",
        {"requests": selectors.request_queue(), "upcoming": selectors.upcoming_workshops()},
    )


@login_required
def manage(request, workshop_id: int):
    """The organiser's page of one workshop: status, history, cases, participants, actions."""
    workshop = workshop_for_organiser(request.user, workshop_id)
    workshop = selectors.workshop_for_manage_page(workshop.pk)
    user = request.user
    allowed = services.TRANSITIONS.get(workshop.status, set()) - {Workshop.Status.PLANNED, Workshop.Status.DECLINED}
    context = {
        "workshop": workshop,
        "is_facilitator": user.is_facilitator,
        "can_plan": user.is_facilitator or workshop.is_accepted,
        "can_edit": user.is_facilitator or workshop.status == Workshop.Status.REQUESTED,
        "transitions": [(status, Workshop.Status(status).label) for status in sorted(allowed)]
        if user.is_facilitator
        else [],
    }
    return render(request, "workshops/manage.html", context)


@login_required
def edit(request, workshop_id: int):
    workshop = workshop_for_organiser(request.user, workshop_id)
    if not request.user.is_facilitator and workshop.status != Workshop.Status.REQUESTED:
        raise PermissionDenied
    form = WorkshopEditForm(request.POST or None, instance=workshop)
    if request.method == "POST" and form.is_valid():
        services.workshop_update(workshop=workshop, data={name: form.cleaned_data[name] for name in form.changed_data})
        messages.success(request, _("Changes saved."))
        return redirect("workshops:manage", workshop_id=workshop.pk)
    return render(
        request, "workshops/form_page.html", {"form": form, "workshop": workshop, "title": _("Edit workshop")}
    )


@login_required
def accept(request, workshop_id: int):
    workshop = workshop_for_facilitator(request.user, workshop_id)
    if workshop.status != Workshop.Status.REQUESTED:
        messages.error(request, _("Only a requested workshop can be accepted."))
        return redirect("workshops:manage", workshop_id=workshop.pk)
    form = PlanningForm(
        request.POST or None,
        initial={"language": workshop.language, "duration_minutes": workshop.duration_minutes},
    )
    if request.method == "POST" and form.is_valid():
        _accept(workshop, form, request.user)
        messages.success(request, _("The workshop was accepted and the contact person was informed by e-mail."))
        return redirect("workshops:manage", workshop_id=workshop.pk)
    return render(request, "workshops/accept.html", {"form": form, "workshop": workshop})


@login_required
def decline(request, workshop_id: int):
    workshop = workshop_for_facilitator(request.user, workshop_id)
    if workshop.status != Workshop.Status.REQUESTED:
        messages.error(request, _("Only a requested workshop can be declined."))
        return redirect("workshops:manage", workshop_id=workshop.pk)
    form = DeclineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.workshop_decline(workshop=workshop, by=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, _("The request was declined and the contact person was informed by e-mail."))
        return redirect("workshops:queue")
    return render(
        request, "workshops/form_page.html", {"form": form, "workshop": workshop, "title": _("Decline the request")}
    )


@login_required
@require_POST
def transition(request, workshop_id: int):
    """Facilitator moves the workshop along its workflow (the service refuses illegal steps)."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    to_status = request.POST.get("to_status", "")
    if to_status not in Workshop.Status.values:
        messages.error(request, _("Unknown status."))
    else:
        try:
            services.workshop_transition(workshop=workshop, to_status=to_status, by=request.user)
            messages.success(request, _("Status changed to: %(status)s") % {"status": Workshop.Status(to_status).label})
        except services.TransitionError:
            messages.error(request, _("That status change is not possible now."))
    return redirect("workshops:manage", workshop_id=workshop.pk)


@login_required
@require_POST
def duplicate(request, workshop_id: int):
    workshop = workshop_for_facilitator(request.user, workshop_id)
    copy = services.workshop_duplicate(workshop=workshop, by=request.user)
    messages.success(request, _("A copy was made with the same cases. Set its date and participants."))
    return redirect("workshops:manage", workshop_id=copy.pk)


# --- cases ----------------------------------------------------------------------
@login_required
def case_new(request, workshop_id: int):
    workshop = workshop_for_planning(request.user, workshop_id)
    form = CaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.case_create(workshop=workshop, **form.cleaned_data)
        messages.success(request, _("The case was added."))
        return redirect("workshops:manage", workshop_id=workshop.pk)
    return render(request, "workshops/form_page.html", {"form": form, "workshop": workshop, "title": _("Add a case")})


def _case_of(workshop: Workshop, case_id: int) -> Case:
    return get_object_or_404(Case, pk=case_id, workshop=workshop)


@login_required
def case_edit(request, workshop_id: int, case_id: int):
    workshop = workshop_for_planning(request.user, workshop_id)
    case = _case_of(workshop, case_id)
    form = CaseForm(request.POST or None, instance=case)
    if request.method == "POST" and form.is_valid():
        services.case_update(case=case, data=form.cleaned_data)
        messages.success(request, _("Changes saved."))
        return redirect("workshops:manage", workshop_id=workshop.pk)
    return render(request, "workshops/form_page.html", {"form": form, "workshop": workshop, "title": _("Edit case")})


@login_required
def case_delete(request, workshop_id: int, case_id: int):
    workshop = workshop_for_planning(request.user, workshop_id)
    case = _case_of(workshop, case_id)
    return _confirm_delete(
        request,
        workshop,
        name=case.title,
        title=_("Remove the case?"),
        delete=lambda: services.case_delete(case=case),
        done=_("The case was removed."),
        next_url="workshops:manage",
    )


# --- participants -------------------------------------------------------------
@login_required
def participants(request, workshop_id: int):
    """The participant list with a form to add one person."""
    workshop = workshop_for_planning(request.user, workshop_id)
    form = ParticipantForm(request.POST or None, workshop=workshop)
    if request.method == "POST" and form.is_valid():
        services.participant_create(workshop=workshop, **form.cleaned_data)
        messages.success(request, _("%(name)s was added.") % {"name": form.cleaned_data["name"]})
        return redirect("workshops:participants", workshop_id=workshop.pk)
    page = Paginator(selectors.participants_of(workshop), PARTICIPANTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "workshops/participants.html",
        {"workshop": workshop, "form": form, "page": page, "upload_form": ParticipantUploadForm()},
    )


def _participant_of(workshop: Workshop, participant_id: int) -> Participant:
    return get_object_or_404(Participant, pk=participant_id, workshop=workshop)


@login_required
def participant_edit(request, workshop_id: int, participant_id: int):
    workshop = workshop_for_planning(request.user, workshop_id)
    participant = _participant_of(workshop, participant_id)
    form = ParticipantForm(request.POST or None, instance=participant, workshop=workshop)
    if request.method == "POST" and form.is_valid():
        services.participant_update(participant=participant, data=form.cleaned_data)
        messages.success(request, _("Changes saved."))
        return redirect("workshops:participants", workshop_id=workshop.pk)
    return render(
        request, "workshops/form_page.html", {"form": form, "workshop": workshop, "title": _("Edit participant")}
    )


@login_required
def participant_delete(request, workshop_id: int, participant_id: int):
    workshop = workshop_for_planning(request.user, workshop_id)
    participant = _participant_of(workshop, participant_id)
    return _confirm_delete(
        request,
        workshop,
        name=participant.name,
        title=_("Remove the participant?"),
        delete=lambda: services.participant_delete(participant=participant),
        done=_("%(name)s was removed.") % {"name": participant.name},
        next_url="workshops:participants",
    )


@login_required
def participants_upload(request, workshop_id: int):
    """Upload a CSV/XLSX list: first a preview of every row, then import the valid ones."""
    from workshops.importing import MAX_FILE_BYTES, ParticipantFileError, read_participant_file

    workshop = workshop_for_planning(request.user, workshop_id)
    if request.method == "POST" and request.POST.get("confirm"):
        stored = request.session.get(PREVIEW_SESSION_KEY, {})
        if stored.get("workshop") != workshop.pk:
            messages.error(request, _("The preview has expired. Please upload the file again."))
            return redirect("workshops:participants", workshop_id=workshop.pk)
        created = services.participants_import(workshop=workshop, rows=stored["rows"])
        del request.session[PREVIEW_SESSION_KEY]
        messages.success(request, _("%(count)d participants were added.") % {"count": len(created)})
        return redirect("workshops:participants", workshop_id=workshop.pk)

    form = ParticipantUploadForm(request.POST or None, request.FILES or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > MAX_FILE_BYTES:
                raise ParticipantFileError(
                    _("The file is too big: at most %(size)d MB.") % {"size": MAX_FILE_BYTES // (1024 * 1024)}
                )
            data = upload.read()
            existing = selectors.participants_of(workshop).exclude(email="").values_list("email", flat=True)
            preview = read_participant_file(filename=upload.name, data=data, existing_emails=existing)
        except ParticipantFileError as error:
            form.add_error("file", str(error))
        else:
            request.session[PREVIEW_SESSION_KEY] = {
                "workshop": workshop.pk,
                "rows": [row.values for row in preview.valid_rows],
            }
    return render(
        request, "workshops/participants_upload.html", {"workshop": workshop, "form": form, "preview": preview}
    )


# --- invitations ----------------------------------------------------------------
@login_required
def invitations(request, workshop_id: int):
    """Who has been invited, who opened their link, who failed; send, retry, re-send, revoke."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    page = Paginator(selectors.participants_of(workshop), PARTICIPANTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "workshops/invitations.html",
        {
            "workshop": workshop,
            "page": page,
            "overview": selectors.invitation_overview(workshop),
            "batch": selectors.latest_invitation_batch(workshop),
        },
    )


@login_required
@require_POST
def invitations_send(request, workshop_id: int):
    from workshops.invitations import NothingToSend, invitation_batch_start

    workshop = workshop_for_facilitator(request.user, workshop_id)
    mode = request.POST.get("mode", "new")
    participant_ids = None
    if mode == "failed":
        participant_ids = list(
            workshop.participants.filter(invitation_status=Participant.InvitationStatus.FAILED).values_list(
                "pk", flat=True
            )
        )
    elif mode == "one":
        participant_ids = [_participant_of(workshop, _int(request.POST.get("participant"))).pk]
    try:
        invitation_batch_start(
            workshop=workshop,
            requested_by=request.user,
            only_not_invited=(mode == "new"),
            participant_ids=participant_ids,
        )
    except NothingToSend as error:  # includes WorkshopNotScheduled and WorkshopNotInvitable, worded for the user
        messages.error(request, str(error))
    else:
        messages.success(request, _("Sending invitations. You can follow the progress below."))
    return redirect("workshops:invitations", workshop_id=workshop.pk)


@login_required
def invitations_progress(request, workshop_id: int):
    """JSON for the progress bar on the invitation page."""
    from workshops.invitations import invitation_batch_progress

    workshop = workshop_for_facilitator(request.user, workshop_id)
    batch = selectors.latest_invitation_batch(workshop)
    progress = invitation_batch_progress(batch=batch) if batch else None
    return JsonResponse({"batch": progress, "overview": selectors.invitation_overview(workshop)})


@login_required
@require_POST
def participant_revoke(request, workshop_id: int, participant_id: int):
    workshop = workshop_for_facilitator(request.user, workshop_id)
    participant = _participant_of(workshop, participant_id)
    services.participant_revoke_token(participant=participant)
    messages.success(request, _("%(name)s's link no longer works.") % {"name": participant.name})
    return redirect("workshops:invitations", workshop_id=workshop.pk)


def _confirm_delete(request, workshop: Workshop, *, name: str, title: str, delete, done: str, next_url: str):
    """GET asks first (removal cannot be undone); POST removes through the given service call."""
    if request.method == "POST":
        try:
            delete()
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(next_url, workshop_id=workshop.pk)
        messages.success(request, done)
        return redirect(next_url, workshop_id=workshop.pk)
    context = {"workshop": workshop, "object_name": name, "title": title}
    return render(request, "workshops/confirm_delete.html", context)


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise Http404 from None
