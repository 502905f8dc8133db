from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts import views as account_views
from config.health import healthz
from config.wellknown import security_txt
from workshops import views as workshop_views

admin.site.site_header = _("Kehittämö administration")
admin.site.site_title = _("Kehittämö")

urlpatterns = [
    path("", workshop_views.home, name="home"),
    path("", include("workshops.urls")),
    path("", include("facilitation.urls")),
    path("", include("reports.urls")),
    path("", include("privacy.urls")),
    path("account/", include("allauth.urls")),
    path("account/language/", account_views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path(".well-known/security.txt", security_txt, name="security_txt"),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
handler429 = "config.errors.too_many_requests"
