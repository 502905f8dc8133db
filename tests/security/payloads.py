"""What the matrix POSTs to each route: data that would change something if the role were allowed to.

Each entry takes the workshop side whose objects the URL names (for a mixed URL, the foreign one), so an
id in the body is as foreign as the ids in the path.
"""

from __future__ import annotations

import uuid

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.security.world import MISSING, Side


def _feedback(side: Side) -> dict:
    """An answer to every question of the workshop's survey (its default questions too), each valid for its kind."""
    from facilitation.models import SurveyQuestion

    answers = {"rating": "4", "yes_no": "yes", "text": "Hyvä päivä"}
    questions = SurveyQuestion.objects.filter(workshop_id=side.workshop.pk).values_list("pk", "kind")
    return {f"q{pk}": answers.get(kind, "Hyvä päivä") for pk, kind in questions} or {f"q{side.question_id}": "x"}


def _csv(_side: Side) -> dict:
    return {"file": SimpleUploadedFile("osallistujat.csv", b"name,email\nUusi Ihminen,uusi@example.fi\n", "text/csv")}


PAYLOADS = {
    "set_language": lambda s: {"language": "sv", "next": "/"},
    "workshops:register": lambda s: {
        "new_organisation_name": "Uusi kunta",
        "new_organisation_kind": "municipality",
        "title": "Uusi pyyntö",
        "goal": "Tavoite",
        "format": "parastaminen_b",
        "preferred_dates": "Maaliskuu",
        "expected_participants": "20",
        "invited_groups": ["staff"],
        "language": "fi",
    },
    "workshops:create": lambda s: {
        "title": "Suoraan luotu",
        "goal": "Tavoite",
        "format": "parastaminen_b",
        "organisation": s.workshop.organisation_id,
        "preferred_dates": "",
        "expected_participants": "20",
        "language": "fi",
        "date": "2030-01-15",
        "time": "13:00",
        "duration_minutes": "120",
    },
    "workshops:edit": lambda s: {
        "title": "Muutettu otsikko",
        "goal": "Muutettu",
        "format": "parastaminen_b",
        "preferred_dates": "",
        "expected_participants": "20",
        "case_proposals": "",
        "language": "fi",
        "duration_minutes": "120",
    },
    "workshops:accept": lambda s: {"date": "2030-01-15", "time": "13:00", "duration_minutes": "120", "language": "fi"},
    "workshops:decline": lambda s: {"reason": "Ei nyt"},
    "workshops:transition": lambda s: {"to_status": "closed"},
    "workshops:case_new": lambda s: {"title": "Uusi case", "presenter_name": "Esittäjä"},
    "workshops:case_edit": lambda s: {"title": "Muutettu case", "presenter_name": "Esittäjä"},
    "workshops:participants": lambda s: {
        "name": "Uusi Osallistuja",
        "email": "uusi.o@example.fi",
        "role": "participant",
    },
    "workshops:participant_edit": lambda s: {"name": "Muutettu Nimi", "email": s.guest.email, "role": "participant"},
    "workshops:participants_upload": _csv,
    "workshops:invitations_send": lambda s: {"mode": "one", "participant": s.guest.pk},
    "workshops:template_import": lambda s: {
        "file": SimpleUploadedFile("pohja.json", b'{"format": 1, "name": "Tuotu", "phases": []}', "application/json")
    },
    "workshops:template_save": lambda s: {"name": "Tallennettu pohja", "description": ""},
    "workshops:template_apply": lambda s: {"template": "parastaminen_b", "replace": "on"},
    "facilitation:comment_new": lambda s: {
        "phase": s.phase.pk,
        "prompt": s.prompt_id,
        "text": "Uusi kommentti",
        "client_id": str(uuid.uuid4()),
    },
    "facilitation:comment_edit": lambda s: {"text": "Muutettu kommentti"},
    "facilitation:comment_react": lambda s: {"kind": "agree"},
    "facilitation:control_action": lambda s: {},
    "facilitation:room_summary": lambda s: {"text": "Huoneen yhteenveto"},
    "facilitation:phase_new": lambda s: {"kind": "discussion", "title": "Uusi vaihe", "duration_minutes": "10"},
    "facilitation:phase_edit": lambda s: {"kind": "discussion", "title": "Muutettu vaihe", "duration_minutes": "10"},
    "facilitation:phase_move": lambda s: {"direction": "down"},
    "facilitation:join_code": lambda s: {"code": s.join_code, "name": "Uusi Tulija", "team_size": "1"},
    "facilitation:join_code_prefilled": lambda s: {"code": s.join_code, "name": "Uusi Tulija", "team_size": "1"},
    "facilitation:join_code_toggle": lambda s: {"action": "off"},
    "facilitation:rounds_settings": lambda s: {
        "mode": "B",
        "leaders_stay": "case",
        "min_size": "2",
        "max_size": "6",
        "rooms": "",
        "round_minutes": "20",
    },
    "facilitation:rounds_plan": lambda s: {"replace": "1"},
    "facilitation:rounds_move": lambda s: {"participant": s.guest.pk, "round": "1", "room": "1"},
    "facilitation:idea_new": lambda s: {"phase": s.idea.phase_id, "text": "Uusi idea", "client_id": str(uuid.uuid4())},
    "facilitation:idea_hide": lambda s: {},
    "facilitation:idea_edit": lambda s: {"text": "Muutettu idea"},
    "facilitation:idea_merge": lambda s: {"idea": s.idea.pk, "into": s.idea.pk + 1, "confirm": "on"},
    "facilitation:idea_merge_one": lambda s: {"into": s.idea.pk + 1, "confirm": "on"},
    "facilitation:team_size": lambda s: {"size": "3"},
    "facilitation:vote_dot": lambda s: {"idea": s.vote_idea.pk},
    "facilitation:vote_rating": lambda s: {"idea": s.vote_idea.pk, "value": "4"},
    "facilitation:results_toggle": lambda s: {"action": "open"},
    "facilitation:feedback": _feedback,
    "facilitation:survey_edit": lambda s: {"intro": "Kerro meille", "open_days_after": "7"},
    "facilitation:survey_question_add": lambda s: {"new-text": "Uusi kysymys?", "new-kind": "text"},
    "facilitation:survey_question_edit": lambda s: {
        f"q{s.question_id}-text": "Muutettu kysymys?",
        f"q{s.question_id}-kind": "text",
    },
    "facilitation:survey_question_move": lambda s: {"direction": "down"},
    "facilitation:survey_question_delete": lambda s: {"confirm": "yes"},
    "facilitation:hide_many": lambda s: {"comment": str(s.comment.pk), "idea": str(s.idea.pk), "confirm": "yes"},
    "reports:categories": lambda s: {"name": "Uusi luokka", "colour": "#0b4f8a"},
    "reports:category_edit": lambda s: {"name": "Muutettu luokka", "colour": "#0b4f8a"},
    "reports:category_merge": lambda s: {"target": s.category.pk + 1, "confirm": "1"},
    "reports:tagging_bulk": lambda s: {"category": s.category.pk, "action": "add", "comments": str(s.comment.pk)},
    "reports:tagging_comment": lambda s: {"categories": str(s.category.pk)},
    "reports:reimport": lambda s: {
        "file": SimpleUploadedFile("luokat.csv", b"id,luokka\n1,Uusi\n", "text/csv"),
    },
    "reports:report_share": lambda s: {"action": "off"},
}


# Bodies that depend on who posts: a pair of ideas is waiting for one voter's answer only.
ROLE_PAYLOADS = {
    "facilitation:vote_duel": lambda s, role: {"duel": s.duels.get(role, MISSING), "choice": "left"},
}


def payload(url_name: str, side: Side, role: str | None = None) -> dict:
    """The POST body for ``url_name`` as ``role`` sends it (an empty form where the route needs nothing)."""
    if url_name in ROLE_PAYLOADS:
        return ROLE_PAYLOADS[url_name](side, role)
    make = PAYLOADS.get(url_name)
    return make(side) if make else {}
