"""The live-workshop fixtures are the starting point of every report."""

from __future__ import annotations

from tests.facilitation.conftest import facilitator_client, live_workshop  # noqa: F401  (fixtures)
