"""Seeding and requests made inside the fault stack (run by ``faults_stack.Stack.call`` in a child process)."""

from __future__ import annotations

import dataclasses


def live_workshop(participants: int = 20) -> dict:
    """A live workshop on a discussion phase with guests (session cookies as the join view makes them)."""
    from bench.live import seed

    return dataclasses.asdict(seed(participants, label="faults"))


def big_workshop(comments: int = 60000) -> int:
    """A finished workshop with many comments (the export benchmark's), for a long export; returns its id."""
    from bench.export import child_seed

    return child_seed(comments, 1)["workshop"]


def export_request(workshop_id: int) -> int:
    """Ask for the workshop's workbook as the export button does; returns the export's id."""
    from accounts.models import User
    from reports import services
    from workshops.models import Workshop

    user = User.objects.filter(is_staff=True).order_by("pk").first()
    return services.export_request(workshop=Workshop.objects.get(pk=workshop_id), user=user, language="fi").pk


def invitations_request(people: int) -> dict:
    """A planned workshop with ``people`` invitees and a batch sending them invitations."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import User
    from workshops import invitations
    from workshops.models import Participant, Workshop
    from workshops.services import organisation_get_or_create, workshop_create

    user, _created = User.objects.get_or_create(
        email="faults-facilitator@example.fi", defaults={"name": "Fault Facilitator", "is_staff": True}
    )
    workshop = workshop_create(
        organisation=organisation_get_or_create(name="Fault municipality"),
        title="Invitations under faults",
        status=Workshop.Status.PLANNED,
    )
    Workshop.objects.filter(pk=workshop.pk).update(starts_at=timezone.now() + timedelta(days=7))
    Participant.objects.bulk_create(
        Participant(workshop=workshop, name=f"Invitee {number}", email=f"invitee{number}@example.fi")
        for number in range(people)
    )
    batch = invitations.invitation_batch_start(workshop=Workshop.objects.get(pk=workshop.pk), requested_by=user)
    return {"workshop_id": workshop.pk, "batch_id": batch.pk}
