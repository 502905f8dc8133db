"""Machinery of the authorization matrix: the URL walk, filling URL arguments with one workshop's objects,
running one request as one role with everything it changed rolled back, and a fingerprint of the data."""

from __future__ import annotations

import hashlib
from copy import deepcopy
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.security.world import MISSING, Side, World

LOGIN_PATH = "/account/login/"
ADMIN_LOGIN_PATH = "/admin/login/"


def url_names() -> dict[str, list[str]]:
    """Every named route of the URLconf, included apps too: name -> its URL arguments."""
    found: dict[str, list[str]] = {}

    def walk(patterns, namespace: str | None, arguments: list[str]) -> None:
        for pattern in patterns:
            own = list(pattern.pattern.converters) if hasattr(pattern.pattern, "converters") else []
            own += list(pattern.pattern.regex.groupindex)
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, inner, arguments + own)
            elif isinstance(pattern, URLPattern) and pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                found[name] = sorted(set(arguments + own))

    walk(get_resolver().url_patterns, None, [])
    return found


# Which object of a workshop fills each URL argument. Some names mean a different object on some routes.
def argument(side: Side | None, name: str, url_name: str) -> object:
    if side is None:  # an id, token or code that names nothing
        nothing = {"action": "no-such-action", "code": "ZZZZZZ", "token": "no-such-token", "key": str(MISSING)}
        return {**nothing, "kind": "json"}.get(name, MISSING)  # a download's format names no object
    match name:
        case "workshop_id":
            return side.workshop.pk
        case "case_id":
            return side.workshop.cases.get(position=1).pk
        case "participant_id":
            return side.guest.pk
        case "phase_id":
            voting = url_name.startswith(("facilitation:vote_", "facilitation:results_"))
            return side.vote_phase.pk if voting else side.phase.pk
        case "comment_id":
            return side.comment.pk
        case "room_id":
            return side.room.pk
        case "idea_id":
            return side.idea.pk
        case "question_id":
            return side.question_id
        case "category_id":
            return side.category.pk
        case "export_id":
            return side.export.pk
        case "template_id":
            return side.template.pk
        case "key":
            return str(side.template.pk)
        case "code":
            return side.join_code
        case "action":
            return "next"
        case "kind":
            return "json"
        case "token":
            return side.share_token if url_name == "reports:report_shared" else side.invitee_token
    raise AssertionError(f"no object for the URL argument {name!r} of {url_name}")


def build_url(world: World, url_name: str, arguments: list[str], target: str) -> str:
    """``target``: "A" or "B" (every argument from that workshop), "missing" (nothing exists), "A+B" / "B+A"
    (the first workshop's id with the second workshop's objects), or "A+missing" (A's id, objects nobody has)."""
    if target == "missing":
        kwargs = {name: argument(None, name, url_name) for name in arguments}
    elif target.endswith("+missing"):
        own = world.side(target.split("+")[0])
        kwargs = {name: argument(own if name == "workshop_id" else None, name, url_name) for name in arguments}
    elif "+" in target:
        own, foreign = (world.side(part) for part in target.split("+"))
        kwargs = {name: argument(own if name == "workshop_id" else foreign, name, url_name) for name in arguments}
    else:
        kwargs = {name: argument(world.side(target), name, url_name) for name in arguments}
    return reverse(url_name, kwargs=kwargs)


def outcome(response) -> str:
    """A response as the matrix writes it: the status, or "login" for a redirect to a sign-in page."""
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(LOGIN_PATH):
            return "login"
        if location.startswith(ADMIN_LOGIN_PATH):
            return "admin-login"
    return str(response.status_code)


@dataclass
class Cell:
    outcome: str
    changed: bool


class _Rollback(Exception):
    pass


def run(client, method: str, url: str, data: dict | None = None, *, track: bool = False) -> Cell:
    """One request; whatever it changed (rows, the client's cookies) is undone afterwards.

    With ``track``, ``changed`` says whether the request wrote any row.
    """
    cookies = deepcopy(client.cookies)
    cell = None
    try:
        with transaction.atomic():
            before = data_fingerprint() if track else None
            try:
                if method == "GET":
                    response = client.get(url)
                else:  # as the pages' scripts post: the live routes answer JSON instead of re-rendering a page
                    response = client.post(url, data or {}, HTTP_ACCEPT="application/json")
            except Exception as error:  # a 500: recorded as such, the matrix says where
                cell = Cell(f"500-{type(error).__name__}", False)
                raise _Rollback from error
            cell = Cell(outcome(response), track and data_fingerprint() != before)
            raise _Rollback
    except _Rollback:
        pass
    finally:
        client.cookies = cookies
    return cell


# What a request must never touch unless it is allowed to. Sessions and presence are the browser's own
# bookkeeping, not workshop data; a refused request writes neither anyway.
UNTRACKED_TABLES = ("django_session",)
FINGERPRINT_APPS = ("accounts", "workshops", "facilitation", "reports", "privacy", "auth", "account")


def data_fingerprint() -> str:
    """What the current transaction has written so far: PostgreSQL counts every row inserted, updated or
    deleted per table (``pg_stat_xact_user_tables``), so a request that writes anything at all shows, even
    a write of the same value. Elsewhere a hash of every row of the apps' tables."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables "
                "WHERE relname <> ALL(%s) AND n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY relname",
                [list(UNTRACKED_TABLES)],
            )
            return repr(cursor.fetchall())
    digest = hashlib.sha256()
    for app in FINGERPRINT_APPS:
        for model in apps.get_app_config(app).get_models():
            rows = model.objects.order_by("pk").values_list()
            digest.update(f"{model._meta.label}:{list(rows)!r}".encode())
    return digest.hexdigest()


def session_cookie(client) -> str | None:
    morsel = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return morsel.value if morsel else None
