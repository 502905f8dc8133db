"""Background work for data protection: the retention rule, run daily by Celery beat."""

from __future__ import annotations

from celery import shared_task

from privacy import services


@shared_task(name="privacy.erase_expired_personal_data")
def erase_expired_personal_data() -> list[int]:
    """Erase the personal data of workshops that ended more than ``KEHITTAMO_RETENTION_DAYS`` ago.

    Safe to run again: an erased workshop is not erased twice. Returns the erased workshops' ids.
    """
    return services.retention_erase_due()
