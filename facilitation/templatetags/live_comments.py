"""The live page's template of a comment, for the comments pushed to it
(``templates/facilitation/partials/live_shell_bottom.html``).

A push carries a comment's data and its text and meta (``realtime.comment_payload``); the page's script builds
the rest of the item (reactions, reply, edit and delete, moderation) from this template, putting the comment's
ids where the stand-ins are.
"""

from __future__ import annotations

import functools
import json

from django import template
from django.urls import get_script_prefix
from django.utils import translation

from facilitation import realtime

register = template.Library()


@functools.lru_cache(maxsize=128)
def _rendered(workshop_id: int, language: str, prefix: str) -> str:
    # The same for every viewer of a workshop in one language: rendered once per process.
    return realtime.comment_template(workshop_id)


@register.simple_tag
def comment_template(workshop_id: int) -> str:
    return _rendered(workshop_id, translation.get_language(), get_script_prefix())


@register.simple_tag
def comment_stand_ins() -> str:
    """The stand-ins by the names of the pushed comment's fields, as JSON (escaped for an attribute)."""
    return json.dumps({name: str(number) for name, number in realtime.COMMENT_STAND_INS.items()})
