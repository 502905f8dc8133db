"""The project's admin site: Django's, with two holes in its input handling closed for every model.

- An empty ``_to_field`` parameter (``?_to_field=``) slipped past the admin's check of which fields may be
  used ("" is falsy) and then reached ``get_object`` as a field name: ``FieldDoesNotExist``, a 500 on
  every change and delete page. An empty value means "not given", so it is dropped.
- An action's selection (``_selected_action``) went into ``pk__in`` unchecked: "x" or "1e+177" for an
  integer id raised ``ValueError``. A value that cannot be a key selects nothing, so it is dropped (with
  nothing left the admin says that items must be selected).
- "View on site" (``r/<content_type_id>/<object_id>/``, contenttypes' ``shortcut``) turned an id that is
  not a UUID for a model keyed by one into an uncaught ``ValidationError``; like any id that names no
  object it is a 404.

Installed through ``AdminConfig.default_site`` so every registration (allauth's and auth's too) uses it.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import TO_FIELD_VAR
from django.core.exceptions import ValidationError
from django.http import Http404

from config.admin_guards import is_key


def _without_empty_to_field(data):
    if TO_FIELD_VAR in data and not data.get(TO_FIELD_VAR):
        data = data.copy()
        del data[TO_FIELD_VAR]
    return data


def _only_keys(data, pk):
    selected = data.getlist(ACTION_CHECKBOX_NAME)
    keys = [value for value in selected if is_key(pk, value)]
    if keys != selected:
        data = data.copy()
        data.setlist(ACTION_CHECKBOX_NAME, keys)
    return data


def _shortcut(request, content_type_id, object_id):
    from django.contrib.contenttypes import views as contenttype_views  # models: not before the apps are ready

    try:
        return contenttype_views.shortcut(request, content_type_id, object_id)
    except ValidationError as error:
        raise Http404 from error


class AdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        from django.contrib.contenttypes import views as contenttype_views

        if view is contenttype_views.shortcut:
            view = _shortcut
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def guarded(request, *args, **kwargs):
            request.GET = _without_empty_to_field(request.GET)
            if request.method == "POST":
                request.POST = _without_empty_to_field(request.POST)
                model_admin = getattr(view, "__self__", None)
                if isinstance(model_admin, admin.ModelAdmin) and ACTION_CHECKBOX_NAME in request.POST:
                    request.POST = _only_keys(request.POST, model_admin.model._meta.pk)
            return inner(request, *args, **kwargs)

        return guarded


class AdminConfig(DjangoAdminConfig):
    default_site = "config.admin_site.AdminSite"
