"""The built-in methods of the library, written as template documents with translatable texts.

``document(key)`` renders one in the active language (callers wrap it in
``translation.override``: the workshop's language when applying, the
facilitator's when listing or exporting). ``{case}`` in a per-case phase is
the case's title; translators keep it as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from facilitation.models import Phase, Rotation, SurveyQuestion
from workshops.methods.document import FORMAT, VERSION

K = Phase.Kind


@dataclass(frozen=True)
class Builtin:
    key: str
    name: Promise
    description: Promise
    build: Callable[[], dict]


def _phase(kind: str, title: Promise, minutes: int, instructions: Promise | str = "", **extra) -> dict:
    return {"kind": kind, "title": title, "duration_minutes": minutes, "instructions": instructions, **extra}


def _survey(*extra: dict) -> dict:
    return {
        "intro": _("Your answers are anonymous: they are stored without your name or any link to you."),
        "open_days_after": 14,
        "questions": [
            {
                "kind": SurveyQuestion.Kind.RATING,
                "text": _("Overall, how would you rate the workshop?"),
                "required": False,
            },
            {"kind": SurveyQuestion.Kind.TEXT, "text": _("What worked well?"), "required": False},
            {"kind": SurveyQuestion.Kind.TEXT, "text": _("What should be improved?"), "required": False},
            {"kind": SurveyQuestion.Kind.YES_NO, "text": _("Would you use this method again?"), "required": False},
            *extra,
        ],
    }


def _feedback_phase() -> dict:
    return _phase(K.FEEDBACK, _("Feedback"), 5, _("Answer anonymously; it takes about two minutes."))


def _intro(minutes: int = 10) -> dict:
    return _phase(
        K.INTRO,
        _("Welcome and introduction"),
        minutes,
        _("The goal of the workshop, how we work today and how to take part on the platform."),
    )


def _rotation(mode: str, *, leaders_stay: str, remix: bool, round_minutes: int) -> dict:
    return {
        "mode": mode,
        "leaders_stay": leaders_stay,
        "min_size": 4,
        "max_size": 7,
        "rooms": None,
        "remix": remix,
        "round_minutes": round_minutes,
    }


def _parastaminen_a() -> dict:
    return {
        "phases": [
            _intro(),
            _phase(
                K.PRESENTATION,
                _("Case: {case}"),
                15,
                _("Write down observations and questions on the case while you listen."),
                per_case=True,
            ),
            _phase(
                K.REFLECTION,
                _("Reflection: {case}"),
                5,
                _("Answer on your own first; short notes are enough. The answers are shown to all after the round."),
                per_case=True,
                private_first=True,
                prompts=[_("What did I learn?"), _("What could be useful in my own work?")],
            ),
            _phase(
                K.ROUNDS,
                _("Small-group rounds"),
                40,
                _(
                    "Each small group discusses the cases in turn. The group leader keeps the discussion going "
                    "and writes down the group's main points."
                ),
            ),
            _phase(K.WRAP_UP, _("Wrap-up"), 5, prompts=[_("What will I take into my own work?")]),
            _feedback_phase(),
        ],
        "rotation": _rotation(
            Rotation.Mode.GROUPS, leaders_stay=Rotation.LeadersStay.WITH_CASE, remix=True, round_minutes=12
        ),
        "survey": _survey(),
    }


def _parastaminen_b() -> dict:
    return {
        "phases": [
            _intro(),
            _phase(
                K.ROUNDS,
                _("Rotating stations"),
                80,
                _(
                    "Your small group visits each case in turn: the presenter tells about the case briefly, then the "
                    "group discusses it. Write down observations and questions at each station."
                ),
            ),
            _phase(
                K.REFLECTION,
                _("Reflection"),
                10,
                _("Answer on your own; short notes are enough."),
                prompts=[_("What did I learn?"), _("What could be useful in my own work?")],
            ),
            _phase(K.WRAP_UP, _("Wrap-up"), 10, prompts=[_("What will I take into my own work?")]),
            _feedback_phase(),
        ],
        "rotation": _rotation(
            Rotation.Mode.STATIONS, leaders_stay=Rotation.LeadersStay.WITH_CASE, remix=False, round_minutes=25
        ),
        "survey": _survey(),
    }


def _strategy() -> dict:
    return {
        "phases": [
            _intro(5),
            _phase(
                K.INTRO,
                _("Recap of the strategy"),
                10,
                _("A short recap of the new strategy: its vision, its goals and what they mean in practice."),
            ),
            _phase(
                K.ROUNDS,
                _("Rotation: discussions with the departments"),
                70,
                _(
                    "Your small group visits each department in turn. The department's head leads the discussion: "
                    "how do we put the strategy into practice here? Write down ideas and comments as you go."
                ),
            ),
            _phase(
                K.IDEAS,
                _("Ideas for implementing the strategy"),
                10,
                _("What should we do to make the strategy real? One idea at a time."),
                ideas_public=True,
            ),
            _phase(
                K.IDEAS,
                _("Other development ideas"),
                5,
                _("Ideas on any other topic are welcome too."),
                ideas_public=True,
            ),
            _feedback_phase(),
        ],
        "rotation": _rotation(
            Rotation.Mode.STATIONS, leaders_stay=Rotation.LeadersStay.WITH_CASE, remix=False, round_minutes=15
        ),
        "survey": _survey(
            {
                "kind": SurveyQuestion.Kind.TEXT,
                "text": _("Whom should we invite next time (residents, associations, entrepreneurs…)?"),
                "required": False,
            }
        ),
    }


def _large_event() -> dict:
    return {
        "phases": [
            _phase(
                K.INTRO,
                _("Welcome and introduction"),
                10,
                _(
                    "Join with the join code on any device. If you follow the stream as a team on one screen, "
                    "tell how many you are."
                ),
            ),
            _phase(
                K.IDEAS,
                _("Which themes should be central in the next strategy period?"),
                10,
                _("Write one theme per idea, briefly. You can send as many ideas as you like."),
                ideas_public=True,
                idea_max_length=200,
            ),
            _phase(
                K.PRIORITISATION,
                _("Which of these two matters more?"),
                10,
                _("Pick the one that matters more, or skip if you cannot decide. Compare as many pairs as you like."),
                voting=Phase.Voting.PAIRWISE,
                min_appearances=6,
                idea_source=2,
            ),
            _phase(
                K.DISCUSSION,
                _("Results and discussion"),
                15,
                _("We look at the ranking together."),
                prompts=[_("What surprises you in the results?"), _("What should we start with?")],
            ),
            _feedback_phase(),
        ],
        "rotation": None,
        "survey": _survey(),
    }


def _conference() -> dict:
    return {
        "phases": [
            _intro(5),
            _phase(
                K.IDEAS,
                _("Propose topics for the conference programme"),
                15,
                _("What should the conference talk about? One topic per idea."),
                ideas_public=True,
            ),
            _phase(
                K.PRIORITISATION,
                _("Prioritise the programme topics"),
                10,
                _("Which of these two topics matters more? Skip if you cannot decide."),
                voting=Phase.Voting.PAIRWISE,
                idea_source=2,
            ),
            _phase(
                K.IDEAS,
                _("Wishes for pop-up sessions"),
                10,
                _(
                    "The programme is out: on which topics would you like a pop-up session? "
                    "Tick “I can run this” if you could run the session yourself."
                ),
                ideas_public=True,
                offers_to_run=True,
            ),
            _phase(
                K.PRIORITISATION,
                _("Prioritise the pop-up sessions"),
                10,
                _("Give your dots to the sessions you would most like to attend."),
                voting=Phase.Voting.DOTS,
                dots_per_person=3,
                idea_source=4,
            ),
            _feedback_phase(),
        ],
        "rotation": None,
        "survey": _survey(
            {
                "kind": SurveyQuestion.Kind.RATING,
                "text": _("How well did the conference meet its goals?"),
                "required": False,
            }
        ),
    }


BUILTINS: dict[str, Builtin] = {
    builtin.key: builtin
    for builtin in [
        Builtin(
            "parastaminen-a",
            _("Parastaminen A: plenary, then rotating groups"),
            _(
                "About two hours, three cases, 20–30 participants. Everyone hears the presentations together and "
                "writes down their own thoughts; then small groups discuss each case in rotation."
            ),
            _parastaminen_a,
        ),
        Builtin(
            "parastaminen-b",
            _("Parastaminen B: rotating stations"),
            _(
                "About two hours, three cases. Small groups rotate to hear each presentation separately and discuss "
                "it at the station with its presenter."
            ),
            _parastaminen_b,
        ),
        Builtin(
            "strategy",
            _("Strategy into practice: rotation with the department heads"),
            _(
                "A short recap of the strategy, then small groups of 4–7 rotate between the departments, whose heads "
                "lead the discussions; ideas on implementing the strategy and anonymous feedback. Add each "
                "department as a case."
            ),
            _strategy,
        ),
        Builtin(
            "large-event",
            _("Large event: idea collection and prioritisation"),
            _(
                "For live-streamed events of hundreds: everyone sends ideas with the join code, prioritises them in "
                "pairwise duels, and the results are reviewed together at once."
            ),
            _large_event,
        ),
        Builtin(
            "conference",
            _("Conference programme co-planning"),
            _(
                "Participants propose programme topics and prioritise them, then wish for pop-up sessions and offer "
                "to run them; a feedback survey measures whether the goals were met."
            ),
            _conference,
        ),
    ]
}


def _resolve(value):
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, dict):
        return {key: _resolve(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item) for item in value]
    return value


def document(key: str) -> dict:
    """The built-in method ``key`` as a template document in the active language; KeyError if unknown."""
    builtin = BUILTINS[key]
    return _resolve(
        {
            "format": FORMAT,
            "version": VERSION,
            "name": builtin.name,
            "description": builtin.description,
            **builtin.build(),
        }
    )
