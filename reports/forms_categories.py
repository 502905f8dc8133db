"""Forms of the category pages. They check the input's shape; the services enforce the rules again."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from reports.categories import DEFAULT_COLOUR
from reports.models import COLOUR, Category
from reports.selectors_categories import TaggingFilters, TaggingOptions


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    colour = forms.CharField(
        label=_("Colour"),
        max_length=7,
        initial=DEFAULT_COLOUR,
        validators=[COLOUR],
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_("Shown next to the category. As #RRGGBB, for example #0b4f8a."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=300,
        required=False,
        help_text=_("What belongs in this category, so that everyone classifies the same way."),
    )


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(
        label=_("Merge into"),
        queryset=Category.objects.none(),
        empty_label=_("Choose a category"),
        help_text=_("The comments of this category get the chosen one instead, and this category is removed."),
    )

    def __init__(self, *args, source: Category, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = Category.objects.filter(workshop_id=source.workshop_id).exclude(pk=source.pk)


class IdListField(forms.Field):
    """Many integer ids from repeated inputs (checkboxes with the same name)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        try:
            return sorted({int(item) for item in value})
        except (TypeError, ValueError):
            raise forms.ValidationError(_("The selection was not understood. Reload the page and try again.")) from None


class TaggingFilterForm(forms.Form):
    """The tagging list's filters (GET). Choices come from lists already read, so they cost no queries."""

    case = forms.TypedChoiceField(label=_("Case"), required=False, coerce=int, empty_value=None)
    round = forms.TypedChoiceField(label=_("Round"), required=False, coerce=int, empty_value=None)
    room = forms.TypedChoiceField(label=_("Room"), required=False, coerce=int, empty_value=None)
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    untagged = forms.BooleanField(label=_("Untagged only"), required=False)

    def __init__(self, data, *, options: TaggingOptions) -> None:
        super().__init__(data)
        every = [("", _("All"))]
        self.fields["case"].choices = every + [(case.pk, case.title) for case in options.cases]
        self.fields["round"].choices = every + [
            (item.pk, _("Round %(number)s") % {"number": item.number}) for item in options.rounds
        ]
        self.fields["room"].choices = every + [
            (room.pk, _("Round %(number)s, room %(room)s") % {"number": room.round.number, "room": room.label})
            for room in options.rooms
        ]
        self.fields["category"].choices = every + [
            (category.pk, f"{category.name} ({category.comment_count})") for category in options.categories
        ]

    def filters(self) -> TaggingFilters:
        """The valid filters; a value that is not (any more) among the choices is ignored."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return TaggingFilters(
            case=data.get("case"),
            round=data.get("round"),
            room=data.get("room"),
            category=data.get("category"),
            untagged=bool(data.get("untagged")),
        )

    @property
    def active(self) -> bool:
        return self.filters() != TaggingFilters()


class BulkTagForm(forms.Form):
    ADD, REMOVE = "add", "remove"

    comments = IdListField(required=False)
    page_comments = IdListField(required=False)
    all_on_page = forms.BooleanField(required=False)
    category = forms.IntegerField(
        label=_("Category"), error_messages={"required": _("Choose a category."), "invalid": _("Choose a category.")}
    )
    action = forms.ChoiceField(choices=[(ADD, ADD), (REMOVE, REMOVE)])

    def clean(self):
        data = super().clean()
        chosen = data.get("page_comments") if data.get("all_on_page") else data.get("comments")
        if not chosen and "comments" not in self.errors:
            raise forms.ValidationError(_("Select at least one comment."))
        data["chosen"] = chosen or []
        return data


class CommentCategoriesForm(forms.Form):
    """One comment's categories: every ticked box (ids; the view looks them up in the workshop)."""

    categories = IdListField(required=False)


class ReimportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Exported workbook (.xlsx)"),
        allow_empty_file=True,  # the reader says "The file is empty." like every other file problem
        help_text=_(
            "The workbook exported from this workshop, with the Category column filled in Excel. "
            "Separate several categories in one cell with a semicolon (;)."
        ),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )


class ReimportApplyForm(forms.Form):
    create_new = forms.BooleanField(label=_("Create the new categories"), required=False)
