"""Pages for categorising a workshop's comments: the categories, tagging in the platform, and re-import
of the exported workbook after the Category column was filled in Excel. Facilitators only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from facilitation.models import Comment
from reports import categories as services
from reports import selectors_categories as selectors
from reports.forms_categories import (
    BulkTagForm,
    CategoryForm,
    CommentCategoriesForm,
    MergeForm,
    ReimportApplyForm,
    ReimportUploadForm,
    TaggingFilterForm,
)
from reports.models import Category
from workshops.permissions import workshop_for_facilitator

REIMPORT_SESSION_KEY = "kehittamo_reimport_preview_{workshop}"


def _category(workshop, category_id: int) -> Category:
    category = selectors.category_of(workshop, category_id)
    if category is None:
        raise Http404
    return category


def _posted(request):
    """The POST data for a form, so that an empty POST still binds (and shows "required")."""
    return request.POST if request.method == "POST" else None


def _category_fields(form: CategoryForm) -> dict[str, str]:
    data = form.cleaned_data
    return {"name": data["name"], "colour": data["colour"], "description": data["description"]}


# --- categories -----------------------------------------------------------------------


@login_required
def categories(request, workshop_id: int):
    """The workshop's categories with their counts, and a form to add one."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    form = CategoryForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            category = services.category_create(workshop=workshop, **_category_fields(form))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The category “%(name)s” was added.") % {"name": category.name})
            return redirect("reports:categories", workshop_id=workshop.pk)
    context = {"workshop": workshop, "categories": selectors.categories_with_counts(workshop), "form": form}
    return render(request, "reports/categories.html", context)


@login_required
def category_edit(request, workshop_id: int, category_id: int):
    workshop = workshop_for_facilitator(request.user, workshop_id)
    category = _category(workshop, category_id)
    original_name = category.name
    initial = {"name": category.name, "colour": category.colour, "description": category.description}
    form = CategoryForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.category_update(category=category, **_category_fields(form))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The category “%(name)s” was saved.") % {"name": category.name})
            return redirect("reports:categories", workshop_id=workshop.pk)
    context = {"workshop": workshop, "category": category, "original_name": original_name, "form": form}
    return render(request, "reports/categories_edit.html", context)


@login_required
def category_delete(request, workshop_id: int, category_id: int):
    """GET asks first and says how many comments lose the category; POST deletes it."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    category = _category(workshop, category_id)
    if request.method == "POST":
        count = services.category_delete(category=category)
        messages.success(
            request,
            ngettext(
                "The category “%(name)s” was deleted and removed from %(count)d comment.",
                "The category “%(name)s” was deleted and removed from %(count)d comments.",
                count,
            )
            % {"name": category.name, "count": count},
        )
        return redirect("reports:categories", workshop_id=workshop.pk)
    return render(request, "reports/categories_delete.html", {"workshop": workshop, "category": category})


@login_required
def category_merge(request, workshop_id: int, category_id: int):
    """Choose the category to merge into, confirm, then merge (the chosen one stays)."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    source = _category(workshop, category_id)
    form = MergeForm(_posted(request), source=source)
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["target"]
        if request.POST.get("confirm"):
            services.category_merge(source=source, target=target)
            messages.success(
                request,
                _("“%(source)s” was merged into “%(target)s”.") % {"source": source.name, "target": target.name},
            )
            return redirect("reports:categories", workshop_id=workshop.pk)
        context = {"workshop": workshop, "category": source, "target": target, "form": form, "confirm": True}
        return render(request, "reports/categories_merge.html", context)
    return render(request, "reports/categories_merge.html", {"workshop": workshop, "category": source, "form": form})


# --- tagging --------------------------------------------------------------------------


def _back_to_tagging(request, workshop):
    """Back to the tagging page the form was sent from, with its filters and page."""
    base = reverse("reports:tagging", kwargs={"workshop_id": workshop.pk})
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) and target.startswith(base)
    return redirect(target if safe else base)


@login_required
def tagging(request, workshop_id: int):
    """The workshop's comments with their categories, filters, and tagging one by one or in bulk."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    options = selectors.tagging_options(workshop)
    filter_form = TaggingFilterForm(request.GET or None, options=options)
    filters = filter_form.filters()
    page = selectors.tagging_page(workshop, filters, request.GET.get("page"))
    context = {
        "workshop": workshop,
        "options": options,
        "filter_form": filter_form,
        "filtered": filters != selectors.TaggingFilters(),
        "page": page,
    }
    return render(request, "reports/tagging.html", context)


@login_required
@require_POST
def tagging_bulk(request, workshop_id: int):
    """Add a category to, or remove it from, the selected comments (another workshop's are ignored)."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    form = BulkTagForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return _back_to_tagging(request, workshop)
    category = get_object_or_404(Category, pk=form.cleaned_data["category"], workshop=workshop)
    chosen = form.cleaned_data["chosen"]
    if form.cleaned_data["action"] == BulkTagForm.ADD:
        count = services.comments_tag_bulk(workshop=workshop, comment_ids=chosen, category=category)
        text = ngettext(
            "“%(name)s” was added to %(count)d comment.", "“%(name)s” was added to %(count)d comments.", count
        )
    else:
        count = services.comments_untag_bulk(workshop=workshop, comment_ids=chosen, category=category)
        text = ngettext(
            "“%(name)s” was removed from %(count)d comment.", "“%(name)s” was removed from %(count)d comments.", count
        )
    messages.success(request, text % {"name": category.name, "count": count})
    return _back_to_tagging(request, workshop)


@login_required
@require_POST
def tagging_comment(request, workshop_id: int, comment_id: int):
    """Give one comment exactly the ticked categories."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    comment = get_object_or_404(Comment, pk=comment_id, workshop=workshop, deleted_at__isnull=True)
    form = CommentCategoriesForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("categories", [])))
        return _back_to_tagging(request, workshop)
    wanted = list(Category.objects.filter(workshop=workshop, pk__in=form.cleaned_data["categories"]))
    if len(wanted) != len(form.cleaned_data["categories"]):
        raise Http404  # a category of another workshop, or one deleted meanwhile
    services.comment_categories_set(comment=comment, categories=wanted)
    messages.success(request, _("The comment's categories were saved."))
    return _back_to_tagging(request, workshop)


# --- re-import ------------------------------------------------------------------------


def _session_key(workshop) -> str:
    return REIMPORT_SESSION_KEY.format(workshop=workshop.pk)


@login_required
def reimport(request, workshop_id: int):
    """Upload the workbook with the Category column filled: a preview first, nothing saved yet."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    form = ReimportUploadForm(_posted(request), request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            preview = services.reimport_preview(workshop=workshop, file=form.cleaned_data["file"])
        except services.ReimportError as error:
            form.add_error("file", error.message)
        else:
            request.session[_session_key(workshop)] = preview.to_session()
            context = {"workshop": workshop, "preview": preview, "apply_form": ReimportApplyForm()}
            return render(request, "reports/reimport_preview.html", context)
    return render(request, "reports/reimport.html", {"workshop": workshop, "form": form})


@login_required
@require_POST
def reimport_apply(request, workshop_id: int):
    """Apply the previewed file; new categories only when the box was ticked."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    stored = request.session.get(_session_key(workshop))
    try:
        preview = services.ReimportPreview.from_session(stored)
    except (KeyError, TypeError, ValueError):
        preview = None
    if preview is None or preview.workshop_id != workshop.pk:
        messages.error(request, _("The preview has expired. Please upload the file again."))
        return redirect("reports:reimport", workshop_id=workshop.pk)
    form = ReimportApplyForm(request.POST)
    form.is_valid()
    summary = services.reimport_apply(
        workshop=workshop, preview=preview, create_new=bool(form.cleaned_data.get("create_new"))
    )
    del request.session[_session_key(workshop)]
    messages.success(
        request,
        ngettext(
            "The categories of %(count)d comment were updated: %(added)d added, %(removed)d removed.",
            "The categories of %(count)d comments were updated: %(added)d added, %(removed)d removed.",
            summary.comments_changed,
        )
        % {"count": summary.comments_changed, "added": summary.added, "removed": summary.removed},
    )
    if summary.created:
        messages.success(request, _("New categories: %(names)s.") % {"names": ", ".join(summary.created)})
    if summary.left_as_is:
        messages.info(
            request,
            ngettext(
                "%(count)d comment was left as it was (a new category that was not created, or deleted since).",
                "%(count)d comments were left as they were (a new category that was not created, or deleted since).",
                summary.left_as_is,
            )
            % {"count": summary.left_as_is},
        )
    return redirect("reports:categories", workshop_id=workshop.pk)
