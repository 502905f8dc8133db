"""Guards for Django's admin where bad input reached a query or a date and answered 500.

- ``SafeAutocompleteSelect``: when a change form with errors is shown again, Django's autocomplete widget
  looks the submitted values up in the related table to label them; a value that cannot be a key there
  ("x" or "1.5" for an integer id) made that query raise. Such a value is not a choice, so it is left out
  of the lookup (the field's own validation has already reported it).
- ``GuardedChangeList``: the date drill-down (``date_hierarchy``) turns ``?starts_at__year=`` and friends
  into dates and catches only some of what can go wrong (a year beyond 9999 or one too big for a C long
  raised ``OverflowError`` / ``ValueError``). Any of these is a bad lookup parameter, answered like the
  admin answers the others: the list without the filter and an error note (``?e=1``).
- ``GuardedModelAdmin.get_changeform_initial_data``: an add form takes its initial values from the query
  string as they are (``?created_at=x``), and the date-time field's split widget then raised on a string
  (``'str' object has no attribute 'utcoffset'``). Each value is read by its form field first.
- ``is_key``: whether a submitted value can be a key of a field, used for the admin's action selections
  too (``config/admin_site.py``).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection


def is_key(field, value) -> bool:
    """Whether ``value`` can be looked up in ``field`` without the database or the driver refusing it."""
    try:
        key = field.get_prep_value(field.to_python(value))
    except (ValidationError, ValueError, TypeError, OverflowError):
        return False
    low, high = connection.ops.integer_field_range(field.get_internal_type())
    if isinstance(key, int) and low is not None and high is not None:
        return low <= key <= high
    return True


class SafeAutocompleteSelect(AutocompleteSelect):
    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        options = remote.model._meta
        target = options.get_field(getattr(remote, "field_name", None) or options.pk.attname)
        return super().optgroups(name, [item for item in value if is_key(target, item)], attr)


class GuardedChangeList(ChangeList):
    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error


class GuardedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose ``autocomplete_fields`` use ``SafeAutocompleteSelect`` and whose list is a
    ``GuardedChangeList``."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changelist(self, request, **kwargs):
        return GuardedChangeList

    def get_changeform_initial_data(self, request):
        """The query string's initial values as their form fields read them; one a field cannot read is
        left out (the form starts empty there, as without it), so no widget is handed a value it cannot
        show."""
        initial = {}
        for name, value in super().get_changeform_initial_data(request).items():
            try:
                form_field = self.model._meta.get_field(name).formfield()
            except (FieldDoesNotExist, AttributeError):  # not a model field, or a relation's reverse side
                form_field = None
            if form_field is None:
                initial[name] = value
                continue
            try:
                initial[name] = form_field.to_python(value)
            except (ValidationError, ValueError, TypeError, OverflowError):
                continue
        return initial
