"""Authorization, proven as a matrix: every named route of the URLconf x every role x the objects of workshop A
and of workshop B, GET and (where the route takes one) POST, each cell with the outcome the design says.

Roles (the columns of every row, in this order):
    anonymous  nobody signed in, no guest session
    guest      a participant of workshop A without an account (personal link)
    leader     a group leader of A (leads a room of A's running round), also without an account
    presenter  the presenter of A's first case (moderates its comments), also without an account
    contact_a  the contact person of A's organisation
    contact_b  the contact person of another organisation (B's)
    facilitator  platform staff
    admin      a superuser (also staff)

Workshop B is built exactly like A in organisation B, so ``contact_b`` is to B what ``contact_a`` is to A.

Outcomes: a status code ("200", "302", "400", "403", "404", "405", ...), "login" (a redirect to the sign-in
page), "admin-login" (to the admin's sign-in page). A trailing "*" means the request wrote to the database;
without it the request must have written nothing at all (PostgreSQL counts every row written in the
transaction, so even a write of the same value shows). Every refused POST is therefore proven harmless.

Further rules checked for every row:
- an object of a foreign workshop answers exactly like a missing id: a role's cells on the workshop that is
  not theirs equal the same URL with ids that exist nowhere, and a workshop's URL naming another
  workshop's object (``/w/A/comments/<B's comment>/``) answers exactly like one naming no object (and writes
  nothing);
- the set of route names in the URLconf equals the set of names in the tables below: a new route without a
  row fails ``test_every_route_has_a_row``.

Every request runs in a savepoint that is rolled back, so each cell starts from the same two workshops. A few
routes act only in another state of the live workshop (an idea collection, a voting, the feedback phase): their
cells run with both workshops put in that state first (``ROUTE_STATES``), so their allowed POSTs really write.
POSTs carry the data of tests/security/payloads.py and are sent as the pages' scripts send them
(``Accept: application/json``): the live routes then answer JSON instead of re-rendering the page; every
view checks permission before it looks at the body or the format. The CSRF check is off (the test client's
default), so a refusal is the permission check's, not the token's.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.db import transaction

from facilitation.models import Duel, Idea, LiveState, Phase
from tests.security.matrix import build_url, run, url_names
from tests.security.payloads import PAYLOADS, ROLE_PAYLOADS, payload
from tests.security.world import MISSING, NOWHERE, ROLES, build_world

pytestmark = pytest.mark.django_db

# Which workshop is a role's own: its cells on the other one must answer like a missing id.
HOME = {"guest": "A", "leader": "A", "presenter": "A", "contact_a": "A", "contact_b": "B"}


@dataclass(frozen=True)
class Row:
    """Expected outcomes of one route. ``get``/``post``: for a route with ids in its path, (the line on A's
    objects, the line on B's objects); for one without, a single line. ``post=None``: a read-only route
    (``require_GET``: a POST answers 405 before anything else). ``capability``: the path holds a secret
    (a personal link, a join code, a report token) that lets whoever has it in, so it has no foreign
    object to compare with a missing one."""

    get: tuple[str, str] | str
    post: tuple[str, str] | str | None = None
    capability: bool = False


def cells(line: str) -> dict[str, str]:
    values = line.split()
    assert len(values) == len(ROLES), line
    return dict(zip(ROLES, values, strict=True))


# fmt: off
# ---------------------------------------------------------------------------------------------------------------
# The table. Columns: anonymous guest leader presenter contact_a contact_b facilitator admin
# ---------------------------------------------------------------------------------------------------------------
TABLE: dict[str, Row] = {
    "facilitation:agenda": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
    ),
    "facilitation:agenda_default": Row(
        get=("login login login login 405 405 405 405", "login login login login 405 405 405 405"),
        post=("login login login login 403 404 302 302", "login login login login 404 403 302 302"),
    ),
    # The big screen is the facilitator's: a browser that is nobody yet is sent to sign in, people of the
    # workshop get 403, everyone else 404.
    "facilitation:bigscreen": Row(
        get=("login 403 403 403 403 404 200 200", "login 404 404 404 404 403 200 200"),
    ),
    "facilitation:bigscreen_data": Row(
        get=("404 403 403 403 403 404 200 200", "404 404 404 404 404 403 200 200"),
    ),
    # Live writes: the viewer check (404 for outsiders) comes first; then the service refuses (400, nothing
    # written) what is not the role's to do: another's comment, a comment outside one's case, a room not one's own.
    "facilitation:comment_delete": Row(
        get=("405 405 405 405 405 405 405 405", "405 405 405 405 405 405 405 405"),
        post=("404 200* 400 400 400 404 400 400", "404 404 404 404 404 400 400 400"),
    ),
    "facilitation:comment_edit": Row(
        get=("405 405 405 405 405 405 405 405", "405 405 405 405 405 405 405 405"),
        post=("404 200* 400 400 400 404 400 400", "404 404 404 404 404 400 400 400"),
    ),
    "facilitation:comment_hide": Row(
        get=("405 405 405 405 405 405 405 405", "405 405 405 405 405 405 405 405"),
        post=("404 400 400 200* 400 404 200* 200*", "404 404 404 404 404 400 200* 200*"),
    ),
    "facilitation:comment_new": Row(
        get=("405 405 405 405 405 405 405 405", "405 405 405 405 405 405 405 405"),
        post=("404 201* 201* 201* 201* 404 201* 201*", "404 404 404 404 404 201* 201* 201*"),
    ),
    "facilitation:comment_react": Row(
        get=("405 405 405 405 405 405 405 405", "405 405 405 405 405 405 405 405"),
        post=("404 200* 200* 200* 200* 404 200* 200*", "404 404 404 404 404 200* 200* 200*"),
    ),
    "facilitation:control": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
    ),
    "facilitation:control_action": Row(
        get=("login login login login 403 404 405 405", "login login login login 404 403 405 405"),
        post=("login login login login 403 404 200* 200*", "login login login login 404 403 200* 200*"),
    ),
    "facilitation:events": Row(
        get=("404 200 200 200 200 404 200 200", "404 404 404 404 404 200 200 200"),
    ),
    # Run in the feedback phase: everyone answers once, anonymously, except facilitators (400: they do not answer).
    "facilitation:feedback": Row(
        get=("404 200 200 200 200 404 200 200", "404 404 404 404 404 200 200 200"),
        post=("404 201* 201* 201* 201* 404 400 400", "404 404 404 404 404 201* 400 400"),
    ),
    # Hiding many at once: facilitators anything, the presenter the comments on their case (A's first case);
    # everyone else who sees the workshop gets 403. Ids of another workshop in the body are left alone.
    "facilitation:hide_many": Row(
        get=("405 405 405 405 405 405 405 405", "405 405 405 405 405 405 405 405"),
        post=("404 403 403 302* 403 404 302* 302*", "404 404 404 404 404 403 302* 302*"),
    ),
    "facilitation:idea_edit": Row(
        get=("405 405 405 405 405 405 405 405", "405 405 405 405 405 405 405 405"),
        post=("404 403 403 403 403 404 200* 200*", "404 404 404 404 404 403 200* 200*"),
    ),
    "facilitation:idea_hide": Row(
        get=("405 405 405 405 405 405 405 405", "405 405 405 405 405 405 405 405"),
        post=("404 403 403 403 403 404 200* 200*", "404 404 404 404 404 403 200* 200*"),
    ),
    "facilitation:idea_merge": Row(
        get=("405 405 405 405 405 405 405 405", "405 405 405 405 405 405 405 405"),
        post=("404 403 403 403 403 404 200* 200*", "404 404 404 404 404 403 200* 200*"),
    ),
    "facilitation:idea_merge_one": Row(
        get=("405 405 405 405 405 405 405 405", "405 405 405 405 405 405 405 405"),
        post=("404 403 403 403 403 404 200* 200*", "404 404 404 404 404 403 200* 200*"),
    ),
    # Run with both workshops in their idea collection (ROUTE_STATES): everyone who sees the workshop sends ideas.
    "facilitation:idea_new": Row(
        get=("405 405 405 405 405 405 405 405", "405 405 405 405 405 405 405 405"),
        post=("404 201* 201* 201* 201* 404 201* 201*", "404 404 404 404 404 201* 201* 201*"),
    ),
    # Join codes and personal links are capabilities: whoever has one may join (a member goes straight in).
    "facilitation:join_code": Row(
        get="200 200 200 200 200 200 200 200",
        post="302* 302 302 302 302* 302* 302* 302*",
        capability=True,
    ),
    "facilitation:join_code_prefilled": Row(
        get=("200 302 302 302 200 200 200 200", "200 200 200 200 200 200 200 200"),
        post=("302* 302 302 302 302* 302* 302* 302*", "302* 302* 302* 302* 302* 302* 302* 302*"),
        capability=True,
    ),
    "facilitation:join_code_toggle": Row(
        get=("login login login login 405 405 405 405", "login login login login 405 405 405 405"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "facilitation:join_qr": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
    ),
    "facilitation:join_screen": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
    ),
    "facilitation:live": Row(
        get=("404 200 200 200 200 404 200 200", "404 404 404 404 404 200 200 200"),
    ),
    "facilitation:moderation": Row(
        get=("404 403 403 200 403 404 200 200", "404 404 404 404 404 403 200 200"),
    ),
    "facilitation:panel": Row(
        get=("404 200 200 200 200 404 200 200", "404 404 404 404 404 200 200 200"),
    ),
    "facilitation:phase_delete": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 302 302", "login login login login 404 403 302 302"),
    ),
    "facilitation:phase_edit": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "facilitation:phase_move": Row(
        get=("login login login login 405 405 405 405", "login login login login 405 405 405 405"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "facilitation:phase_new": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    # Participants see the ranking only once the facilitator opens the results (403 until then).
    "facilitation:results_ranking": Row(
        get=("404 403 403 403 403 404 200 200", "404 404 404 404 404 403 200 200"),
    ),
    "facilitation:results_toggle": Row(
        get=("405 405 405 405 405 405 405 405", "405 405 405 405 405 405 405 405"),
        post=("404 403 403 403 403 404 200* 200*", "404 404 404 404 404 403 200* 200*"),
    ),
    "facilitation:room_help": Row(
        get=("405 405 405 405 405 405 405 405", "405 405 405 405 405 405 405 405"),
        post=("404 200* 200* 400 400 404 200* 200*", "404 404 404 404 404 400 200* 200*"),
    ),
    "facilitation:room_summary": Row(
        get=("405 405 405 405 405 405 405 405", "405 405 405 405 405 405 405 405"),
        post=("404 400 200* 400 400 404 200* 200*", "404 404 404 404 404 400 200* 200*"),
    ),
    "facilitation:rooms_live": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
    ),
    "facilitation:rounds": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
    ),
    "facilitation:rounds_move": Row(
        get=("login login login login 405 405 405 405", "login login login login 405 405 405 405"),
        post=("login login login login 403 404 200* 200*", "login login login login 404 403 200* 200*"),
    ),
    "facilitation:rounds_plan": Row(
        get=("login login login login 405 405 405 405", "login login login login 405 405 405 405"),
        post=("login login login login 403 404 302 302", "login login login login 404 403 302 302"),
    ),
    "facilitation:rounds_rebalance": Row(
        get=("login login login login 405 405 405 405", "login login login login 405 405 405 405"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "facilitation:rounds_settings": Row(
        get=("login login login login 405 405 405 405", "login login login login 405 405 405 405"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "facilitation:summaries": Row(
        get=("404 200 200 200 200 404 200 200", "404 404 404 404 404 200 200 200"),
    ),
    "facilitation:survey_edit": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "facilitation:survey_question_add": Row(
        get=("login login login login 405 405 405 405", "login login login login 405 405 405 405"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "facilitation:survey_question_delete": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "facilitation:survey_question_edit": Row(
        get=("login login login login 405 405 405 405", "login login login login 405 405 405 405"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "facilitation:survey_question_move": Row(
        get=("login login login login 405 405 405 405", "login login login login 405 405 405 405"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "facilitation:team_size": Row(
        get=("405 405 405 405 405 405 405 405", "405 405 405 405 405 405 405 405"),
        post=("404 200* 200* 200* 400 404 400 400", "404 404 404 404 404 400 400 400"),
    ),
    "facilitation:threads": Row(
        get=("404 200 200 200 200 404 200 200", "404 404 404 404 404 200 200 200"),
    ),
    # Votes run with both workshops in a voting by the route's method (ROUTE_STATES); a pair answered is one
    # waiting for that voter. Everyone who sees the workshop votes, facilitators too (as themselves).
    "facilitation:vote_dot": Row(
        get=("405 405 405 405 405 405 405 405", "405 405 405 405 405 405 405 405"),
        post=("404 200* 200* 200* 200* 404 200* 200*", "404 404 404 404 404 200* 200* 200*"),
    ),
    "facilitation:vote_duel": Row(
        get=("405 405 405 405 405 405 405 405", "405 405 405 405 405 405 405 405"),
        post=("404 200* 200* 200* 200* 404 200* 200*", "404 404 404 404 404 200* 200* 200*"),
    ),
    "facilitation:vote_next": Row(
        get=("405 405 405 405 405 405 405 405", "405 405 405 405 405 405 405 405"),
        post=("404 200* 200* 200* 200* 404 200* 200*", "404 404 404 404 404 200* 200* 200*"),
    ),
    "facilitation:vote_rating": Row(
        get=("405 405 405 405 405 405 405 405", "405 405 405 405 405 405 405 405"),
        post=("404 200* 200* 200* 200* 404 200* 200*", "404 404 404 404 404 200* 200* 200*"),
    ),
    "healthz": Row(
        get="200 200 200 200 200 200 200 200",
    ),
    "home": Row(
        get="200 200 200 200 200 200 200 200",
        post="200 200 200 200 200 200 200 200",
    ),
    # Data protection. The privacy notice and the accessibility statement are public.
    "privacy:accessibility": Row(
        get="200 200 200 200 200 200 200 200",
    ),
    "privacy:notice": Row(
        get="200 200 200 200 200 200 200 200",
    ),
    # One's own data: only a participant of the workshop, about themselves; staff and contact persons are no
    # participants of it, so they get 404 like everyone else.
    "privacy:my_data": Row(
        get=("404 200 200 200 404 404 404 404", "404 404 404 404 404 404 404 404"),
    ),
    "privacy:my_data_export": Row(
        get=("404 200 200 200 404 404 404 404", "404 404 404 404 404 404 404 404"),
    ),
    "privacy:my_data_delete": Row(
        get=("404 200 200 200 404 404 404 404", "404 404 404 404 404 404 404 404"),
        post=("404 302* 302* 302* 404 404 404 404", "404 404 404 404 404 404 404 404"),
    ),
    # Erasure and the data subject's access request are the facilitators' (the contact person of the
    # workshop's organisation 403, everyone else 404). A live workshop cannot be erased: sent back, nothing written.
    "privacy:workshop": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
    ),
    "privacy:workshop_erase": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 302 302", "login login login login 404 403 302 302"),
    ),
    "privacy:participant_erase": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "privacy:participant_export": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
    ),
    "reports:categories": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "reports:category_delete": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "reports:category_edit": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "reports:category_merge": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "reports:export": Row(
        get=("login login login login 200 404 200 200", "login login login login 404 200 200 200"),
    ),
    "reports:export_csv": Row(
        get=("login login login login 200 404 200 200", "login login login login 404 200 200 200"),
    ),
    # The export of the world failed (no file): 404 for all who may see the workshop, like a missing export.
    "reports:export_download": Row(
        get=("login login login login 404 404 404 404", "login login login login 404 404 404 404"),
    ),
    "reports:export_progress": Row(
        get=("login login login login 200 404 200 200", "login login login login 404 200 200 200"),
    ),
    "reports:export_start": Row(
        get=("login login login login 405 405 405 405", "login login login login 405 405 405 405"),
        post=("login login login login 302* 404 302* 302*", "login login login login 404 302* 302* 302*"),
    ),
    "reports:reimport": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
    ),
    "reports:reimport_apply": Row(
        get=("login login login login 405 405 405 405", "login login login login 405 405 405 405"),
        post=("login login login login 403 404 302 302", "login login login login 404 403 302 302"),
    ),
    "reports:report": Row(
        get=("login login login login 200 404 200 200", "login login login login 404 200 200 200"),
    ),
    "reports:report_share": Row(
        get=("login login login login 405 405 405 405", "login login login login 405 405 405 405"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    # The shared report opens only after the workshop: 404 for all while it is live.
    "reports:report_shared": Row(
        get=("404 404 404 404 404 404 404 404", "404 404 404 404 404 404 404 404"),
        capability=True,
    ),
    "reports:tagging": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
    ),
    "reports:tagging_bulk": Row(
        get=("login login login login 405 405 405 405", "login login login login 405 405 405 405"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "reports:tagging_comment": Row(
        get=("login login login login 405 405 405 405", "login login login login 405 405 405 405"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "security_txt": Row(
        get="200 200 200 200 200 200 200 200",
    ),
    "set_language": Row(
        get="405 405 405 405 405 405 405 405",
        post="302 302 302 302 302* 302* 302* 302*",
    ),
    # A live workshop is no longer waiting for acceptance: the facilitator is sent back to it.
    "workshops:accept": Row(
        get=("login login login login 403 404 302 302", "login login login login 404 403 302 302"),
        post=("login login login login 403 404 302 302", "login login login login 404 403 302 302"),
    ),
    "workshops:case_delete": Row(
        get=("login login login login 200 404 200 200", "login login login login 404 200 200 200"),
        post=("login login login login 302 404 302 302", "login login login login 404 302 302 302"),
    ),
    "workshops:case_edit": Row(
        get=("login login login login 200 404 200 200", "login login login login 404 200 200 200"),
        post=("login login login login 302* 404 302* 302*", "login login login login 404 302* 302* 302*"),
    ),
    "workshops:case_new": Row(
        get=("login login login login 200 404 200 200", "login login login login 404 200 200 200"),
        post=("login login login login 302* 404 302* 302*", "login login login login 404 302* 302* 302*"),
    ),
    # Pages without a workshop for facilitators only: every other signed-in person gets 403.
    "workshops:create": Row(
        get="login login login login 403 403 200 200",
        post="login login login login 403 403 200 200",
    ),
    "workshops:decline": Row(
        get=("login login login login 403 404 302 302", "login login login login 404 403 302 302"),
        post=("login login login login 403 404 302 302", "login login login login 404 403 302 302"),
    ),
    "workshops:duplicate": Row(
        get=("login login login login 405 405 405 405", "login login login login 405 405 405 405"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "workshops:edit": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "workshops:invitations": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
    ),
    "workshops:invitations_progress": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
    ),
    "workshops:invitations_send": Row(
        get=("login login login login 405 405 405 405", "login login login login 405 405 405 405"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "workshops:join": Row(
        get=("302 302 302 302 302 302 302 302", "302 302 302 302 302 302 302 302"),
        post=("302* 302* 302* 302* 302* 302* 302* 302*", "302* 302* 302* 302* 302* 302* 302* 302*"),
        capability=True,
    ),
    # The lobby of a live workshop sends its people on to the live page.
    "workshops:lobby": Row(
        get=("404 302 302 302 302 404 302 302", "404 404 404 404 404 302 302 302"),
        post=("404 302 302 302 302 404 302 302", "404 404 404 404 404 302 302 302"),
    ),
    # Planning pages: the contact person of the workshop's organisation works here too (an accepted workshop).
    "workshops:manage": Row(
        get=("login login login login 200 404 200 200", "login login login login 404 200 200 200"),
        post=("login login login login 200 404 200 200", "login login login login 404 200 200 200"),
    ),
    "workshops:participant_delete": Row(
        get=("login login login login 200 404 200 200", "login login login login 404 200 200 200"),
        post=("login login login login 302* 404 302* 302*", "login login login login 404 302* 302* 302*"),
    ),
    "workshops:participant_edit": Row(
        get=("login login login login 200 404 200 200", "login login login login 404 200 200 200"),
        post=("login login login login 302* 404 302* 302*", "login login login login 404 302* 302* 302*"),
    ),
    "workshops:participant_revoke": Row(
        get=("login login login login 405 405 405 405", "login login login login 405 405 405 405"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
    "workshops:participants": Row(
        get=("login login login login 200 404 200 200", "login login login login 404 200 200 200"),
        post=("login login login login 302* 404 302* 302*", "login login login login 404 302* 302* 302*"),
    ),
    "workshops:participants_upload": Row(
        get=("login login login login 200 404 200 200", "login login login login 404 200 200 200"),
        post=("login login login login 200 404 200 200", "login login login login 404 200 200 200"),
    ),
    "workshops:queue": Row(
        get="login login login login 403 403 200 200",
        post="login login login login 403 403 200 200",
    ),
    "workshops:register": Row(
        get="login login login login 200 200 200 200",
        post="login login login login 302* 302* 302* 302*",
    ),
    "workshops:template_apply": Row(
        get=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
        post=("login login login login 403 404 200 200", "login login login login 404 403 200 200"),
    ),
    # Only a template's creator removes it; staff who may use a shared template get 403.
    "workshops:template_delete": Row(
        get=("login login login login 200 404 403 403", "login login login login 404 200 403 403"),
        post=("login login login login 302* 404 403 403", "login login login login 404 302* 403 403"),
    ),
    "workshops:template_export": Row(
        get=("login login login login 200 404 200 200", "login login login login 404 200 200 200"),
        post=("login login login login 200 404 200 200", "login login login login 404 200 200 200"),
    ),
    "workshops:template_import": Row(
        get="login login login login 200 200 200 200",
        post="login login login login 200 200 200 200",
    ),
    "workshops:template_library": Row(
        get="login login login login 200 200 200 200",
        post="login login login login 200 200 200 200",
    ),
    "workshops:template_save": Row(
        get=("login login login login 200 404 200 200", "login login login login 404 200 200 200"),
        post=("login login login login 302* 404 302* 302*", "login login login login 404 302* 302* 302*"),
    ),
    "workshops:transition": Row(
        get=("login login login login 405 405 405 405", "login login login login 405 405 405 405"),
        post=("login login login login 403 404 302* 302*", "login login login login 404 403 302* 302*"),
    ),
}
# fmt: on

# ---------------------------------------------------------------------------------------------------------------
# Routes of Django's admin and of allauth, grouped: they belong to no workshop, so they have one line each.
# The admin's object ids are filled with workshop A's rows (its workshop, guest, organisation, contact person).
# Staff (facilitators) may open the admin but hold no model permissions: 403 on every model page; only the
# superuser works there. Everyone else is sent to the admin's sign-in page, and a POST from them writes nothing.
# ---------------------------------------------------------------------------------------------------------------
OUTSIDE = "admin-login admin-login admin-login admin-login admin-login admin-login"
ADMIN_MODEL_PAGES = [
    f"admin:{model}_{page}"
    for model in (
        "auth_group",
        "account_emailaddress",
        "accounts_organisation",
        "accounts_user",
        "workshops_invitationbatch",
        "workshops_workshop",
        "workshops_participant",
        "privacy_deletionrequest",
        "privacy_erasure",
    )
    for page in ("changelist", "add", "history", "delete", "change")
]
ADMIN_ROUTES: dict[str, str] = {
    "admin:index": f"{OUTSIDE} 200 200",
    "admin:login": "200 200 200 200 200 200 302 302",
    "admin:logout": "302 302 302 302 302 302 405 405",  # GET: the others are sent on; staff must POST
    "admin:password_change": f"{OUTSIDE} 200 200",
    "admin:password_change_done": f"{OUTSIDE} 200 200",
    "admin:autocomplete": f"{OUTSIDE} 403 403",
    "admin:jsi18n": f"{OUTSIDE} 200 200",
    "admin:view_on_site": f"{OUTSIDE} 404 404",
    "admin:app_list": f"{OUTSIDE} 404 200",
    "admin:auth_user_password_change": f"{OUTSIDE} 403 200",
    **dict.fromkeys(ADMIN_MODEL_PAGES, f"{OUTSIDE} 403 200"),
    # Erasures and deletion requests are the audit trail the services write: nobody adds or deletes one by
    # hand (the superuser gets 403) and the change page only shows one. Invitation batches are the
    # invitation service's too: no add form.
    "admin:privacy_deletionrequest_add": f"{OUTSIDE} 403 403",
    "admin:privacy_erasure_add": f"{OUTSIDE} 403 403",
    "admin:privacy_deletionrequest_delete": f"{OUTSIDE} 403 403",
    "admin:privacy_erasure_delete": f"{OUTSIDE} 403 403",
    "admin:workshops_invitationbatch_add": f"{OUTSIDE} 403 403",
    # No group and no invitation batch exists: the admin sends staff back to its index with a message.
    "admin:auth_group_history": f"{OUTSIDE} 302 302",
    "admin:auth_group_change": f"{OUTSIDE} 403 302",
    "admin:auth_group_delete": f"{OUTSIDE} 403 302",
    "admin:workshops_invitationbatch_history": f"{OUTSIDE} 302 302",
    "admin:workshops_invitationbatch_change": f"{OUTSIDE} 403 302",
    "admin:workshops_invitationbatch_delete": f"{OUTSIDE} 403 302",
}
# allauth: the sign-in, sign-up and password-reset pages are open to everyone (a signed-in user is sent on);
# pages about one's own account send everyone else to sign in.
ACCOUNT_ROUTES: dict[str, str] = {
    "account_login": "200 200 200 200 302 302 302 302",
    "account_signup": "200 200 200 200 302 302 302 302",
    "account_logout": "302 302 302 302 200 200 200 200",
    "account_inactive": "200 200 200 200 200 200 200 200",
    "account_reauthenticate": "login login login login 200 200 200 200",
    "account_email": "login login login login 200 200 200 200",
    "account_email_verification_sent": "200 200 200 200 200 200 200 200",
    "account_confirm_email": "200 200 200 200 200 200 200 200",  # an unknown key: a page that says so
    "account_confirm_login_code": "login login login login 302 302 302 302",
    "account_change_password": "login login login login 200 200 200 200",
    "account_set_password": "login login login login 302 302 302 302",
    "account_reset_password": "200 200 200 200 200 200 200 200",
    "account_reset_password_done": "200 200 200 200 200 200 200 200",
    "account_reset_password_from_key": "200 200 200 200 200 200 200 200",  # an unknown key: a page that says so
    "account_reset_password_from_key_done": "200 200 200 200 200 200 200 200",
}
GROUPED = {**ADMIN_ROUTES, **ACCOUNT_ROUTES}


# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The two workshops, built once for the module inside a transaction that is rolled back at its end."""
    logging.disable(logging.WARNING)  # 404/403 warnings of thousands of refused requests cost time, say nothing
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            logging.disable(logging.NOTSET)


def test_every_route_has_a_row():
    assert set(url_names()) == set(TABLE) | set(GROUPED), "a route without a row in the matrix (or a stale row)"


# ---------------------------------------------------------------------------------------------------------------
ROUTES = url_names()
APP_ROUTES = sorted(name for name in ROUTES if name not in GROUPED)
DECIDED_BEFORE_IDS = {"login", "admin-login", "405"}  # refused by a decorator before any id is looked up


def _objects(arguments: list[str]) -> list[str]:
    return [name for name in arguments if name not in {"workshop_id", "action"}]


# --- the state a route's action needs -------------------------------------------------------------------------
# Both workshops stand on their discussion phase. Some actions are possible only elsewhere: an idea only in the
# idea collection, an answer to the survey only in the feedback phase, a vote only in a voting by that method
# (and an answer only to a pair waiting for it). Those routes' cells run with both workshops put in that state
# (in a savepoint rolled back afterwards), so an allowed POST proves a real write and a refused one proves that
# it wrote nothing where it could have.
PARTICIPANT_ROLES = ("guest", "leader", "presenter")
VOTERS = {
    "A": ("guest", "leader", "presenter", "contact_a", "facilitator", "admin"),
    "B": ("contact_b", "facilitator", "admin"),
}


def _on_phase(world, phase_of, **changes) -> None:
    for side in (world.a, world.b):
        phase = phase_of(side)
        if changes:
            Phase.objects.filter(pk=phase.pk).update(**changes)
        LiveState.objects.filter(pk=side.workshop.pk).update(current_phase=phase)


def _voting(method: str):
    return lambda world: _on_phase(world, lambda side: side.vote_phase, voting=method)


def _pairs_waiting(world) -> None:
    """A pairwise voting, and for every voter a pair of ideas (none of them their own) waiting for an answer."""
    _voting(Phase.Voting.PAIRWISE)(world)
    for name, side in (("A", world.a), ("B", world.b)):
        others = Idea.objects.filter(phase=side.ideas_phase, author_user__isnull=False).first()
        for role in VOTERS[name]:
            voter = (
                {"voter_participant": getattr(side, role)}
                if role in PARTICIPANT_ROLES
                else {"voter_user": world.users[role]}
            )
            right = others if role == "guest" else side.idea
            side.duels[role] = Duel.objects.create(phase=side.vote_phase, left=side.vote_idea, right=right, **voter).pk


ROUTE_STATES = {
    "facilitation:idea_new": lambda world: _on_phase(world, lambda side: side.ideas_phase),
    "facilitation:feedback": lambda world: _on_phase(world, lambda side: side.feedback_phase),
    "facilitation:vote_next": _voting(Phase.Voting.PAIRWISE),
    "facilitation:vote_duel": _pairs_waiting,
    "facilitation:vote_dot": _voting(Phase.Voting.DOTS),
    "facilitation:vote_rating": _voting(Phase.Voting.RATING),
}


@contextmanager
def route_state(world, name: str):
    """Both workshops in the state ``name``'s action needs, for as long as the block runs."""
    prepare = ROUTE_STATES.get(name)
    if prepare is None:
        yield
        return
    try:
        with transaction.atomic():
            prepare(world)
            yield
            transaction.set_rollback(True)
    finally:
        world.a.duels.clear()
        world.b.duels.clear()


def _observe(world, name: str, method: str, target: str, roles=ROLES, body: str | None = None) -> dict[str, str]:
    """One line of the matrix as it is: each role's outcome for ``method`` on ``target``'s URL; a POST sends
    the data naming the objects of ``body`` (by default the workshop whose objects the URL names)."""
    arguments = ROUTES[name]
    url = build_url(world, name, arguments, target)
    body_side = world.side(body or target[-1])
    line = {}
    for role in roles:
        data = payload(name, body_side, role) if method == "POST" else None
        cell = run(world.clients[role], method, url, data, track=method == "POST")
        line[role] = cell.outcome + ("*" if cell.changed else "")
    return line


def _expected(row: Row, method: str) -> dict[str, dict[str, str]]:
    lines = row.get if method == "GET" else row.post
    if isinstance(lines, str):
        return {"A": cells(lines)}
    return {"A": cells(lines[0]), "B": cells(lines[1])}


def _as_code(name: str, observed: dict) -> str:
    """The observed row, written as a row of TABLE (printed when a row is missing or wrong)."""

    def lines(method):
        found = observed.get(method)
        if found is None:
            return "None"
        texts = [" ".join(found[side][role] for role in ROLES) for side in found]
        return repr(texts[0]) if len(texts) == 1 else f"({texts[0]!r},\n              {texts[1]!r})"

    return f"    {name!r}: Row(\n        get={lines('GET')},\n        post={lines('POST')},\n    ),"


# A refusal: the request was turned away (or sent to sign in) and wrote nothing. These cells cost a few
# queries each; the others render whole pages.
REFUSALS = {"login", "admin-login", "400", "403", "404", "405", "409"}
# Routes whose allowed POSTs the quick run checks too: they answer JSON or a redirect (no page to render), and
# the state set-up above exists to prove that they really write.
QUICK_WRITES = {*ROUTE_STATES, "facilitation:survey_question_add", "facilitation:survey_question_edit"}


def _check_route(world, name: str, *, everything: bool) -> None:
    with route_state(world, name):
        _check_route_in_state(world, name, everything=everything)


def _check_route_in_state(world, name: str, *, everything: bool) -> None:
    arguments = ROUTES[name]
    row = TABLE.get(name)
    sides = ("A", "B") if arguments else ("A",)
    methods = ("GET", "POST") if row is None or row.post is not None else ("GET",)
    if row is None:
        observed = {method: {side: _observe(world, name, method, side) for side in sides} for method in methods}
        raise AssertionError(f"no row for {name}; as it behaves now:\n{_as_code(name, observed)}")
    problems = []
    expected = {}
    for method in methods:
        expected[method] = _expected(row, method)
        assert set(expected[method]) == set(sides), f"{name}: the {method} row needs one line per workshop"
        for side in sides:
            wanted = expected[method][side]
            quick = method == "POST" and name in QUICK_WRITES
            roles = [role for role in ROLES if everything or quick or wanted[role] in REFUSALS]
            got = _observe(world, name, method, side, roles=roles)
            problems += [
                f"{method} {side} as {role}: expected {wanted[role]}, got {got[role]}"
                for role in roles
                if got[role] != wanted[role]
            ]
    if problems:
        observed = {method: {side: _observe(world, name, method, side) for side in sides} for method in methods}
        raise AssertionError("\n".join([name, *problems, "as it behaves now:", _as_code(name, observed)]))
    if row.capability:
        return
    for method in methods:
        _foreign_workshops_answer_like_missing_ones(world, name, method, expected[method])
        if method == "POST" and (name in PAYLOADS or name in ROLE_PAYLOADS):
            _foreign_ids_in_the_body_answer_like_missing_ones(world, name, expected[method])


@pytest.mark.parametrize("name", APP_ROUTES)
def test_route_refuses_whom_the_table_refuses(world, name):
    """Every refusal cell of the route's row (GET and POST, A's and B's objects), and foreign objects answer
    like missing ones. The cells that let a role in render whole pages: ``test_route_every_cell`` has them."""
    _check_route(world, name, everything=False)


@pytest.mark.faults
@pytest.mark.parametrize("name", APP_ROUTES)
def test_route_every_cell(world, name):
    """Every cell of the route's row, the allowed ones too (make test-faults; CI runs it after make test)."""
    _check_route(world, name, everything=True)


# The superuser passes the same checks as a facilitator (both are staff), so the foreign-object comparisons,
# which cost a request or two per role, leave it out; its own cells are all in the table.
COMPARED = [role for role in ROLES if role != "admin"]
REFUSED_EARLY = {"login", "admin-login", "405", "403", "404"}  # refused before any object of the URL is read


def _foreign_workshops_answer_like_missing_ones(world, name: str, method: str, observed: dict) -> None:
    """A workshop that is not the role's own answers exactly like one that does not exist; and within one's
    own workshop, another workshop's object answers exactly like a missing one and changes nothing."""
    arguments = ROUTES[name]
    if not arguments:
        return
    for role in ("anonymous", *HOME):
        foreign_sides = ("A", "B") if role == "anonymous" else ("B" if HOME[role] == "A" else "A",)
        for side in foreign_sides:
            cell = observed[side][role]
            if cell in DECIDED_BEFORE_IDS:
                continue
            missing = _observe(world, name, method, "missing", roles=[role], body=side)[role]
            assert cell == missing, f"{method} {name} as {role}: {side}'s object {cell}, a missing one {missing}"
    if "workshop_id" not in arguments or not _objects(arguments):
        return
    for role in COMPARED:
        home = HOME.get(role, "A")
        other = "B" if home == "A" else "A"
        if observed[home][role] in REFUSED_EARLY:
            continue  # the workshop itself was refused: no object of the URL is looked at
        foreign = _observe(world, name, method, f"{home}+{other}", roles=[role])[role]
        missing = _observe(world, name, method, f"{home}+missing", roles=[role], body=other)[role]
        assert foreign == missing and not foreign.endswith("*"), (
            f"{method} {name} as {role} in {home}: {other}'s object {foreign}, a missing one {missing}"
        )


def _foreign_ids_in_the_body_answer_like_missing_ones(world, name: str, observed: dict) -> None:
    """A POST to one's own workshop naming another workshop's objects in its body (a phase, a comment, a
    category, a participant, an idea) answers and writes exactly like one naming objects that do not exist."""
    if "workshop_id" not in ROUTES[name]:
        return  # no workshop in the path
    for role in COMPARED:
        home = HOME.get(role, "A")
        other = "B" if home == "A" else "A"
        if observed[home][role] in REFUSED_EARLY or payload(name, world.a, role) == payload(name, world.b, role):
            continue  # refused before the body is read, or a body that names no object
        url = build_url(world, name, ROUTES[name], home)
        foreign = run(world.clients[role], "POST", url, payload(name, world.side(other), role), track=True)
        missing = run(world.clients[role], "POST", url, payload(name, NOWHERE, role), track=True)
        assert (foreign.outcome, foreign.changed) == (missing.outcome, missing.changed), (
            f"POST {name} as {role} in {home} with {other}'s ids in the body: {foreign}, with missing ids {missing}"
        )


def test_a_revoked_link_also_ends_the_session_that_came_in_with_it(world):
    """Revoking a personal link (the facilitator's answer to a link that reached the wrong person) shuts out
    the browser that already joined with it, on every live route, exactly like a stranger."""
    from workshops.services import participant_revoke_token

    guest = world.clients["guest"]
    live = build_url(world, "facilitation:live", ["workshop_id"], "A")
    events = build_url(world, "facilitation:events", ["workshop_id"], "A")
    assert run(guest, "GET", live).outcome == "200"
    with transaction.atomic():
        participant_revoke_token(participant=world.a.guest)
        assert run(guest, "GET", live).outcome == "404"
        assert run(guest, "GET", events).outcome == "404"
        new = payload("facilitation:comment_new", world.a)
        comment = build_url(world, "facilitation:comment_new", ["workshop_id"], "A")
        cell = run(guest, "POST", comment, new, track=True)
        assert (cell.outcome, cell.changed) == ("404", False)
        transaction.set_rollback(True)
    world.a.guest.refresh_from_db()


# --- the grouped routes: Django's admin and allauth ---------------------------------------------------------
STAFF = ("facilitator", "admin")


def _grouped_url(world, name: str) -> str:
    from allauth.account.models import EmailAddress
    from django.contrib.contenttypes.models import ContentType
    from django.urls import reverse

    contact = world.users["contact_a"]
    rows = {
        "workshops_workshop": world.a.workshop.pk,
        "workshops_participant": world.a.guest.pk,
        "accounts_organisation": world.a.workshop.organisation_id,
        "accounts_user": contact.pk,
        "account_emailaddress": EmailAddress.objects.get(user=contact).pk,
        "privacy_deletionrequest": world.a.deletion_request.pk,
        "privacy_erasure": world.a.erasure.pk,
    }
    kwargs = {}
    for argument in ROUTES[name]:
        if argument == "object_id":
            model = name.removeprefix("admin:").rsplit("_", 1)[0]
            kwargs[argument] = rows.get(model, MISSING)
        elif argument == "id":
            kwargs[argument] = contact.pk
        elif argument == "app_label":
            kwargs[argument] = "workshops"
        elif argument == "content_type_id":
            kwargs[argument] = ContentType.objects.get_for_model(type(world.a.workshop)).pk
        else:  # allauth's keys in e-mailed links
            kwargs[argument] = "x1-bogus"
    if name == "admin:view_on_site":
        kwargs["object_id"] = world.a.workshop.pk
    return reverse(name, kwargs=kwargs)


def _check_grouped(world, name: str, *, everything: bool) -> None:
    url = _grouped_url(world, name)
    wanted = cells(GROUPED[name])
    roles = [role for role in ROLES if everything or wanted[role] in REFUSALS]
    observed = {role: run(world.clients[role], "GET", url).outcome for role in roles}
    if observed != {role: wanted[role] for role in roles}:
        line = " ".join(run(world.clients[role], "GET", url).outcome for role in ROLES)
        raise AssertionError(f"{name}: as it behaves now {line!r}")
    # A POST of a form that would change something writes nothing, except the admin's own work in the admin.
    data = {"name": "x", "title": "x", "post": "yes", "email": "uusi@example.fi", "password1": "x", "password2": "x"}
    for role in roles:
        if role in STAFF and name.startswith("admin:"):
            continue
        cell = run(world.clients[role], "POST", url, data, track=True)
        assert not cell.changed, f"POST {name} as {role} wrote to the database"


@pytest.mark.parametrize("name", sorted(GROUPED))
def test_grouped_route_refuses_whom_it_should(world, name):
    """Admin and allauth routes: every refusal cell, and a POST from those refused writes nothing."""
    _check_grouped(world, name, everything=False)


@pytest.mark.faults
@pytest.mark.parametrize("name", sorted(GROUPED))
def test_grouped_route_every_cell(world, name):
    """Admin and allauth routes, every cell (make test-faults)."""
    _check_grouped(world, name, everything=True)
