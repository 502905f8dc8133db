"""The live-workshop fixtures serve the security tests too."""

from __future__ import annotations

from tests.facilitation.conftest import facilitator_client, live_workshop  # noqa: F401  (fixtures)
