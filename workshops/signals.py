"""Signals other apps listen to, so the workshop workflow does not import them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the transaction that changes the status: workshop, from_status, to_status, by.
workshop_status_changed = Signal()
