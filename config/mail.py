"""What every sent mail shares."""

from __future__ import annotations

from django.template.loader import render_to_string


def render_subject(template_name: str, context: dict) -> str:
    """A subject template rendered on one line: a mail header cannot hold the template's line breaks
    (Django refuses them), nor should it carry its indentation."""
    return " ".join(render_to_string(template_name, context).split())
