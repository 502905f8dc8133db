"""Writes about accounts."""

from __future__ import annotations

from django.conf import settings

from accounts.models import User


def user_profile_update(*, user: User, name: str | None = None, language: str | None = None) -> User:
    """Update a user's name and/or preferred language. Saves only the changed fields."""
    fields: list[str] = []
    if name is not None and name != user.name:
        user.name = name.strip()
        fields.append("name")
    if language is not None and language in dict(settings.LANGUAGES) and language != user.language:
        user.language = language
        fields.append("language")
    if fields and user.pk:
        user.save(update_fields=fields)
    return user
