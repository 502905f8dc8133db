"""Background work for workshops: sending invitation batches."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import MaxRetriesExceededError
from django.conf import settings
from django.core.cache import cache
from django.core.mail import get_connection

from workshops import invitations
from workshops.models import InvitationBatch

logger = logging.getLogger(__name__)


def _lock_seconds() -> int:
    """How long the task's lock lives unless renewed (renewed as the work goes on; a dead worker's expires)."""
    return settings.KEHITTAMO_TASK_LOCK_SECONDS


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=10)
def invitations_send(self, batch_id: int) -> dict:
    """Send a batch's queued invitations one participant at a time, saving each outcome; safe to run again.

    Every participant's result and the batch counters are committed before the
    next one, so a crash leaves a true state and a retry continues where it
    stopped without mailing anyone twice. Ends with the batch DONE and a PLANNED
    workshop moved to INVITATIONS_SENT. Returns the batch's progress dict.
    """
    batch = InvitationBatch.objects.select_related("workshop", "requested_by").filter(pk=batch_id).first()
    if batch is None:
        logger.warning("invitation batch is gone", extra={"batch_id": batch_id})
        return {"status": "missing", "total": 0, "sent": 0, "failed": 0, "done": True, "percent": 100}
    if batch.status == InvitationBatch.Status.DONE:
        return invitations.invitation_batch_progress(batch=batch)

    lock = f"kehittamo:invitation-batch:{batch_id}"
    if not cache.add(lock, self.request.id or "eager", _lock_seconds()):
        # A re-delivered message while another worker is still sending this batch: let that one finish.
        if self.request.is_eager:
            return invitations.invitation_batch_progress(batch=batch)
        try:
            raise self.retry(countdown=_lock_seconds())
        except MaxRetriesExceededError:
            return invitations.invitation_batch_progress(batch=batch)
    try:
        _send_queued(batch=batch, lock=lock)
    except Exception as exc:
        # Eager runs (no worker) cannot be retried later: they give up at once.
        if not self.request.is_eager and self.request.retries < self.max_retries:
            raise self.retry(exc=exc) from exc
        invitations.invitation_batch_finish(batch=batch, error=invitations.invitation_error_text(exc))
        if not isinstance(exc, invitations.SEND_ERRORS):
            logger.exception("invitation batch failed", extra={"batch_id": batch_id})
            raise
        # The mail server stayed unreachable: every participant shows the error and can be retried.
        logger.error("invitation batch gave up: %s", type(exc).__name__, extra={"batch_id": batch_id})
    finally:
        cache.delete(lock)
    return invitations.invitation_batch_progress(batch=batch)


def _send_queued(*, batch: InvitationBatch, lock: str) -> None:
    """Mail every still-queued participant of the batch over one connection, then finish the batch."""
    invitations.invitation_batch_mark_running(batch=batch)
    invitations.invitation_batch_interrupted(batch=batch)
    queued = invitations.invitation_batch_queued(batch=batch)
    if queued:
        connection = get_connection()
        connection.open()  # unreachable mail server: the task is retried, nobody is marked failed yet
        try:
            for participant in queued:
                invitations.invitation_send_one(batch=batch, participant=participant, connection=connection)
                cache.touch(lock, _lock_seconds())
        finally:
            invitations.invitation_connection_close(connection)
    invitations.invitation_batch_finish(batch=batch)
