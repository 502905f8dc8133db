from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

ENDED_STATUSES = {"closed", "archived", "cancelled"}


def _forget_live_links(sender, *, workshop, to_status, **kwargs) -> None:
    if to_status in ENDED_STATUSES:
        from facilitation.services import workshop_forget_live_links

        workshop_forget_live_links(workshop_id=workshop.pk)


class FacilitationConfig(AppConfig):
    name = "facilitation"
    verbose_name = _("Facilitation")

    def ready(self) -> None:
        from workshops.signals import workshop_status_changed

        workshop_status_changed.connect(_forget_live_links, dispatch_uid="facilitation.forget_live_links")
