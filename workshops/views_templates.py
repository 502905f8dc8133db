"""The method library: list, export, import and delete templates; save a workshop as one, apply one to it."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from workshops import selectors_templates as selectors
from workshops import services_templates as services
from workshops.forms_templates import TemplateApplyForm, TemplateImportForm, TemplateSaveForm
from workshops.methods.document import MAX_FILE_BYTES, per_case_notice
from workshops.permissions import workshop_for_facilitator, workshop_for_organiser

TEMPLATES_PER_PAGE = 20


@login_required
def library(request):
    """The built-in methods and the saved templates the user may use, with their phases and minutes."""
    user = request.user
    page = Paginator(selectors.templates_visible_to(user), TEMPLATES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "builtins": selectors.builtin_entries(),
        "page": page,
        "saved": [selectors.saved_entry(template, user) for template in page],
        "can_create": user.is_facilitator,
    }
    return render(request, "workshops/templates_library.html", context)


@login_required
def export(request, key: str):
    """Download a template as a JSON file; a built-in in the user's current language."""
    entry = selectors.template_entry(request.user, key)
    document = entry.document(language=request.LANGUAGE_CODE)
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    filename = f"{slugify(entry.name)[:60] or 'template'}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def import_file(request):
    """Upload a template file; every problem of a bad file is listed and nothing is saved."""
    form = TemplateImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > MAX_FILE_BYTES:
                raise services.DocumentError(
                    [_("The file is too big: at most %(max)d KB.") % {"max": MAX_FILE_BYTES // 1024}]
                )
            template = services.template_import(
                user=request.user, data=upload.read(MAX_FILE_BYTES + 1), shared=form.cleaned_data.get("shared", False)
            )
        except services.DocumentError as error:
            for message in error.errors:
                form.add_error("file", message)
        else:
            messages.success(request, _("The template “%(name)s” was imported.") % {"name": template.name})
            return redirect("workshops:template_library")
    return render(request, "workshops/template_import.html", {"form": form})


@login_required
def delete(request, template_id: int):
    """GET asks first; POST removes the user's own template. Someone else's visible template answers 403."""
    template = selectors.template_for_user(request.user, template_id)
    if template.created_by_id != request.user.pk:
        raise PermissionDenied
    if request.method == "POST":
        services.template_delete(template=template, user=request.user)
        messages.success(request, _("The template “%(name)s” was removed.") % {"name": template.name})
        return redirect("workshops:template_library")
    return render(request, "workshops/template_confirm_delete.html", {"template": template})


@login_required
def save(request, workshop_id: int):
    """Save the workshop's agenda, room settings and survey as a new template."""
    workshop = workshop_for_organiser(request.user, workshop_id)
    form = TemplateSaveForm(request.POST or None, user=request.user, initial={"name": workshop.title})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            template = services.template_save(
                workshop=workshop,
                user=request.user,
                name=data["name"],
                description=data["description"],
                shared=data.get("shared", False),
            )
        except services.DocumentError as error:
            for message in error.errors:
                form.add_error(None, message)
        else:
            messages.success(request, _("The template “%(name)s” was saved.") % {"name": template.name})
            return redirect("workshops:template_library")
    return render(request, "workshops/template_form.html", {"form": form, "workshop": workshop})


@login_required
def apply(request, workshop_id: int):
    """Make the workshop's agenda from a template; an existing agenda is replaced only when confirmed."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    phase_count = workshop.phases.count()
    case_count = workshop.cases.count()
    form = TemplateApplyForm(
        request.POST or None,
        user=request.user,
        has_agenda=bool(phase_count),
        initial={"template": request.GET.get("template", "")},
    )
    if request.method == "POST" and form.is_valid():
        entry = form.cleaned_data["template"]
        try:
            phases = services.template_apply(
                workshop=workshop, template=entry, replace=form.cleaned_data.get("replace", False)
            )
        except services.TemplateError as error:
            form.add_error(None, str(error))
        else:
            text = ngettext(
                "The agenda was made from “%(name)s”: %(count)d phase.",
                "The agenda was made from “%(name)s”: %(count)d phases.",
                len(phases),
            )
            messages.success(request, text % {"name": entry.name, "count": len(phases)})
            notice = per_case_notice(entry.document(), case_count=case_count)
            if notice:
                messages.info(request, notice)
            return redirect("facilitation:agenda", workshop_id=workshop.pk)
    context = {"form": form, "workshop": workshop, "phase_count": phase_count, "case_count": case_count}
    return render(request, "workshops/template_apply.html", context)
