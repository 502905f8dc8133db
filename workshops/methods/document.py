"""The workshop template document: one format for saved, shared, exported and imported templates.

A document is plain JSON::

    {"format": "kehittamo.workshop-template", "version": 1,
     "name": "...", "description": "...", "language": "fi",
     "phases": [{"kind": "presentation", "title": "Case: {case}", "duration_minutes": 15,
                 "instructions": "...", "prompts": ["..."], "private_first": false,
                 "per_case": true}, ...],
     "rotation": {"mode": "A", "leaders_stay": "case", "min_size": 4, "max_size": 7,
                  "rooms": null, "remix": true, "round_minutes": 15} | null,
     "survey": {"intro": "...", "open_days_after": 14,
                "questions": [{"kind": "rating", "text": "...", "required": false}]} | null}

Consecutive phases marked ``per_case`` form a block that is repeated for each of
the workshop's cases in order (presentation + reflection per case); ``{case}``
in their texts becomes the case's title. A phase may instead name one case by
its number (``"case": 2``). A prioritisation phase's ``idea_source`` is the
number of an earlier idea collection phase of the document.

``validate`` is strict: anything it does not know is refused with a message
that says where, and it returns the document in its canonical form (every
field present), which is what is stored. ``workshops.methods.convert`` turns a
workshop into a document and builds a workshop's agenda from one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

from facilitation.models import Phase, Rotation, Survey, SurveyQuestion
from workshops.importing import looks_like_formula

FORMAT = "kehittamo.workshop-template"
VERSION = 1
MAX_FILE_BYTES = 256 * 1024
MAX_PHASES = 50
MAX_PROMPTS = 10
MAX_QUESTIONS = 20
MAX_ERRORS = 20
NAME_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000
TITLE_MAX_LENGTH = Phase._meta.get_field("title").max_length
INSTRUCTIONS_MAX_LENGTH = 4000
PROMPT_MAX_LENGTH = 300
QUESTION_MAX_LENGTH = SurveyQuestion._meta.get_field("text").max_length
INTRO_MAX_LENGTH = 2000
CASE_PLACEHOLDER = "{case}"
# Only phases about one case repeat per case; idea, voting, rounds and feedback phases happen once.
PER_CASE_KINDS = frozenset({Phase.Kind.PRESENTATION, Phase.Kind.REFLECTION, Phase.Kind.DISCUSSION})
IDEA_KEYS = ("idea_max_length", "ideas_public", "offers_to_run")
VOTING_KEYS = ("voting", "min_appearances", "dots_per_person", "idea_source")
# Shorter case titles are not generalised to {case}: "A" would also match inside ordinary words.
MIN_GENERALISED_TITLE = 3
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class TemplateError(Exception):
    """A template that cannot be used or applied here; the message is for the user."""


class DocumentError(TemplateError):
    """A template document that breaks the format; ``errors`` says what and where, one message each."""

    def __init__(self, errors: list[str]):
        self.errors = errors[:MAX_ERRORS]
        super().__init__(" ".join(self.errors))


# --- reading a file --------------------------------------------------------------
def parse(data: bytes) -> dict:
    """Read an uploaded template file: size, UTF-8, JSON, then ``validate``. Raises ``DocumentError``."""
    if len(data) > MAX_FILE_BYTES:
        raise DocumentError(
            [
                _("The file is too big: %(size)d KB; at most %(max)d KB.")
                % {"size": -(-len(data) // 1024), "max": MAX_FILE_BYTES // 1024}
            ]
        )
    if not data.strip():
        raise DocumentError([_("The file is empty.")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError([_("The file is not UTF-8 text. A template file is JSON saved as UTF-8.")]) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise DocumentError(
            [
                _("The file is not valid JSON (line %(line)d, column %(column)d). Is it a Kehittämö template file?")
                % {"line": error.lineno, "column": error.colno}
            ]
        ) from None
    except (ValueError, RecursionError):  # absurdly long numbers or nesting
        raise DocumentError([_("The file is not valid JSON. Is it a Kehittämö template file?")]) from None
    return validate(document)


# --- validation ------------------------------------------------------------------
class _Checker:
    """Collects every problem of one document, each with the place it was found."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}" if where else message)

    def keys(self, where: str, value: dict, allowed: set[str]) -> None:
        for key in sorted(set(value) - allowed, key=str):
            self.add(where, _("unknown field “%(field)s”.") % {"field": _short(key)})

    def text(
        self,
        where: str,
        value: dict,
        key: str,
        *,
        max_length: int,
        required: bool = False,
        formula_safe: bool = True,
        default: str = "",
    ) -> str:
        raw = value.get(key, default)
        if not isinstance(raw, str):
            self.add(where, _("“%(field)s” must be text.") % {"field": key})
            return default
        # One-line texts lose doubled and stray white space, like the phase form does.
        raw = " ".join(raw.split()) if key in ("title", "name", "text") else raw.strip()
        if required and not raw:
            self.add(where, _("“%(field)s” must not be empty.") % {"field": key})
        elif len(raw) > max_length:
            self.add(
                where,
                _("“%(field)s” is %(length)d characters long; at most %(max)d fit.")
                % {"field": key, "length": len(raw), "max": max_length},
            )
        elif _CONTROL_CHARACTERS.search(raw):
            self.add(where, _("“%(field)s” contains control characters.") % {"field": key})
        elif formula_safe and looks_like_formula(raw):
            self.add(
                where,
                _("“%(field)s” starts like a spreadsheet formula (=, +, -, @); remove that character.")
                % {"field": key},
            )
        return raw

    def number(
        self, where: str, value: dict, key: str, *, low: int, high: int, default: int | None, nullable: bool = False
    ) -> int | None:
        raw = value.get(key, default)
        if raw is None and nullable:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
            self.add(
                where,
                _("“%(field)s” must be a whole number from %(min)d to %(max)d; it is %(value)s.")
                % {"field": key, "min": low, "max": high, "value": _short(json.dumps(raw))},
            )
            return default
        return raw

    def flag(self, where: str, value: dict, key: str, *, default: bool) -> bool:
        raw = value.get(key, default)
        if not isinstance(raw, bool):
            self.add(where, _("“%(field)s” must be true or false.") % {"field": key})
            return default
        return raw

    def choice(self, where: str, value: dict, key: str, *, choices: list[str], default: str) -> str:
        raw = value.get(key, default)
        if raw not in choices:
            self.add(
                where,
                _("“%(field)s” must be one of %(choices)s; it is %(value)s.")
                % {"field": key, "choices": ", ".join(choices), "value": _short(json.dumps(raw))},
            )
            return default
        return raw

    def listing(self, where: str, value: dict, key: str, *, max_items: int, label: str) -> list:
        raw = value.get(key, [])
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.add(where, _("“%(field)s” must be a list.") % {"field": key})
            return []
        if len(raw) > max_items:
            self.add(
                where,
                _("%(count)d %(things)s; at most %(max)d are allowed.")
                % {"count": len(raw), "things": label, "max": max_items},
            )
            return []
        return raw


def _short(value: object, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _default(model, name: str):
    return model._meta.get_field(name).default


def validate(document: object) -> dict:
    """Check a document strictly and return it in canonical form; raises ``DocumentError`` listing every problem."""
    check = _Checker()
    if not isinstance(document, dict):
        raise DocumentError([_("The file does not hold a workshop template: a JSON object was expected.")])
    if document.get("format") != FORMAT:
        raise DocumentError(
            [_("This is not a Kehittämö workshop template: “format” must be “%(format)s”.") % {"format": FORMAT}]
        )
    version = document.get("version")
    if isinstance(version, bool) or version != VERSION:
        raise DocumentError(
            [
                _("The template is version %(version)s, but this Kehittämö reads version %(supported)d.")
                % {"version": _short(json.dumps(version)), "supported": VERSION}
            ]
        )
    check.keys("", document, {"format", "version", "name", "description", "language", "phases", "rotation", "survey"})
    canonical: dict = {
        "format": FORMAT,
        "version": VERSION,
        "name": check.text("", document, "name", max_length=NAME_MAX_LENGTH, required=True),
        "description": check.text("", document, "description", max_length=DESCRIPTION_MAX_LENGTH, formula_safe=False),
        "language": check.choice(
            "", document, "language", choices=["", *(code for code, _name in settings.LANGUAGES)], default=""
        ),
    }
    raw_phases = document.get("phases")
    if not isinstance(raw_phases, list) or not raw_phases:
        check.add("", _("“phases” must be a list of at least one phase."))
        raw_phases = []
    elif len(raw_phases) > MAX_PHASES:
        raise DocumentError(
            [
                _("The template has %(count)d phases; at most %(max)d are allowed.")
                % {"count": len(raw_phases), "max": MAX_PHASES}
            ]
        )
    canonical["phases"] = [_validate_phase(check, number, raw, raw_phases) for number, raw in enumerate(raw_phases, 1)]
    canonical["rotation"] = _validate_rotation(check, document.get("rotation"))
    canonical["survey"] = _validate_survey(check, document.get("survey"))
    if check.errors:
        raise DocumentError(check.errors)
    return canonical


def _validate_phase(check: _Checker, number: int, raw: object, phases: list) -> dict:
    where = _("Phase %(number)d") % {"number": number}
    if not isinstance(raw, dict):
        check.add(where, _("a phase must be a JSON object."))
        return {}
    kind = raw.get("kind")
    if kind not in Phase.Kind.values:
        check.add(
            where,
            _("unknown phase kind %(kind)s. Known kinds: %(kinds)s.")
            % {"kind": _short(json.dumps(kind)), "kinds": ", ".join(Phase.Kind.values)},
        )
        kind = Phase.Kind.DISCUSSION
    check.keys(
        where,
        raw,
        {
            "kind",
            "title",
            "duration_minutes",
            "instructions",
            "prompts",
            "private_first",
            "per_case",
            "case",
            *IDEA_KEYS,
            *VOTING_KEYS,
        },
    )
    phase = {
        "kind": kind,
        "title": check.text(where, raw, "title", max_length=TITLE_MAX_LENGTH, required=True),
        "duration_minutes": check.number(where, raw, "duration_minutes", low=1, high=600, default=10),
        "instructions": check.text(where, raw, "instructions", max_length=INSTRUCTIONS_MAX_LENGTH, formula_safe=False),
        "prompts": [],
        "private_first": check.flag(where, raw, "private_first", default=False),
        "per_case": check.flag(where, raw, "per_case", default=False),
        "case": check.number(where, raw, "case", low=1, high=MAX_PHASES, default=None, nullable=True),
    }
    prompts = check.listing(where, raw, "prompts", max_items=MAX_PROMPTS, label=_("questions"))
    for index, text in enumerate(prompts, 1):
        place = _("%(where)s, question %(number)d") % {"where": where, "number": index}
        value = check.text(place, {"text": text}, "text", max_length=PROMPT_MAX_LENGTH, required=True)
        phase["prompts"].append(value)
    if phase["per_case"] and kind not in PER_CASE_KINDS:
        check.add(
            where,
            _("only %(kinds)s phases can repeat for each case.") % {"kinds": ", ".join(sorted(PER_CASE_KINDS))},
        )
    if phase["per_case"] and phase["case"] is not None:
        check.add(where, _("a phase either repeats for each case or names one case, not both."))
    # Idea and voting settings are checked wherever they appear, and kept only where they mean something.
    if kind == Phase.Kind.IDEAS or any(key in raw for key in IDEA_KEYS):
        ideas = {
            "idea_max_length": check.number(
                where, raw, "idea_max_length", low=20, high=1000, default=_default(Phase, "idea_max_length")
            ),
            "ideas_public": check.flag(where, raw, "ideas_public", default=_default(Phase, "ideas_public")),
            "offers_to_run": check.flag(where, raw, "offers_to_run", default=_default(Phase, "offers_to_run")),
        }
        if kind == Phase.Kind.IDEAS:
            phase.update(ideas)
    if kind == Phase.Kind.PRIORITISATION or any(key in raw for key in VOTING_KEYS):
        voting = {
            "voting": check.choice(
                where, raw, "voting", choices=list(Phase.Voting.values), default=_default(Phase, "voting")
            ),
            "min_appearances": check.number(
                where, raw, "min_appearances", low=2, high=50, default=_default(Phase, "min_appearances")
            ),
            "dots_per_person": check.number(
                where, raw, "dots_per_person", low=1, high=50, default=_default(Phase, "dots_per_person")
            ),
            "idea_source": check.number(where, raw, "idea_source", low=1, high=MAX_PHASES, default=None, nullable=True),
        }
        source = voting["idea_source"]
        if source is not None:
            target = phases[source - 1] if source < number else None
            if not (isinstance(target, dict) and target.get("kind") == Phase.Kind.IDEAS):
                check.add(where, _("“idea_source” must be the number of an idea collection phase before this one."))
                voting["idea_source"] = None
        if kind == Phase.Kind.PRIORITISATION:
            phase.update(voting)
    return phase


def _validate_rotation(check: _Checker, raw: object) -> dict | None:
    if raw is None:
        return None
    where = _("Small-group rounds")
    if not isinstance(raw, dict):
        check.add(where, _("“rotation” must be a JSON object or null."))
        return None
    check.keys(where, raw, {"mode", "leaders_stay", "min_size", "max_size", "rooms", "remix", "round_minutes"})
    rotation = {
        "mode": check.choice(
            where, raw, "mode", choices=list(Rotation.Mode.values), default=_default(Rotation, "mode")
        ),
        "leaders_stay": check.choice(
            where,
            raw,
            "leaders_stay",
            choices=list(Rotation.LeadersStay.values),
            default=_default(Rotation, "leaders_stay"),
        ),
        "min_size": check.number(where, raw, "min_size", low=2, high=50, default=_default(Rotation, "min_size")),
        "max_size": check.number(where, raw, "max_size", low=2, high=50, default=_default(Rotation, "max_size")),
        "rooms": check.number(where, raw, "rooms", low=1, high=200, default=None, nullable=True),
        "remix": check.flag(where, raw, "remix", default=_default(Rotation, "remix")),
        "round_minutes": check.number(
            where, raw, "round_minutes", low=1, high=240, default=_default(Rotation, "round_minutes")
        ),
    }
    if rotation["min_size"] > rotation["max_size"]:
        check.add(where, _("the smallest group (“min_size”) cannot be larger than the largest (“max_size”)."))
    return rotation


def _validate_survey(check: _Checker, raw: object) -> dict | None:
    if raw is None:
        return None
    where = _("Feedback survey")
    if not isinstance(raw, dict):
        check.add(where, _("“survey” must be a JSON object or null."))
        return None
    check.keys(where, raw, {"intro", "open_days_after", "questions"})
    survey = {
        "intro": check.text(where, raw, "intro", max_length=INTRO_MAX_LENGTH, formula_safe=False),
        "open_days_after": check.number(
            where, raw, "open_days_after", low=0, high=365, default=_default(Survey, "open_days_after")
        ),
        "questions": [],
    }
    questions = check.listing(where, raw, "questions", max_items=MAX_QUESTIONS, label=_("questions"))
    for index, question in enumerate(questions, 1):
        place = _("%(where)s, question %(number)d") % {"where": where, "number": index}
        if not isinstance(question, dict):
            check.add(place, _("a question must be a JSON object."))
            continue
        check.keys(place, question, {"kind", "text", "required"})
        survey["questions"].append(
            {
                "kind": check.choice(place, question, "kind", choices=list(SurveyQuestion.Kind.values), default="text"),
                "text": check.text(place, question, "text", max_length=QUESTION_MAX_LENGTH, required=True),
                "required": check.flag(place, question, "required", default=False),
            }
        )
    return survey


# --- summary for the method library ----------------------------------------------
@dataclass
class PhaseLine:
    kind: str
    kind_label: str
    title: str
    minutes: int
    per_case: bool


@dataclass
class Summary:
    phases: list[PhaseLine] = field(default_factory=list)
    fixed_minutes: int = 0
    per_case_minutes: int = 0
    has_rotation: bool = False
    question_count: int = 0

    @property
    def has_per_case(self) -> bool:
        return any(line.per_case for line in self.phases)

    def total_minutes(self, cases: int) -> int:
        return self.fixed_minutes + self.per_case_minutes * cases


def summarise(document: dict) -> Summary:
    """Phases, minutes and settings of a (canonical) document, for listing it; makes no queries."""
    summary = Summary()
    labels = dict(Phase.Kind.choices)
    for phase in document.get("phases") or []:
        if not isinstance(phase, dict):
            continue
        minutes = phase.get("duration_minutes") or 0
        per_case = bool(phase.get("per_case"))
        summary.phases.append(
            PhaseLine(
                phase.get("kind", ""), labels.get(phase.get("kind"), ""), phase.get("title", ""), minutes, per_case
            )
        )
        if per_case:
            summary.per_case_minutes += minutes
        else:
            summary.fixed_minutes += minutes
    summary.has_rotation = bool(document.get("rotation"))
    summary.question_count = len((document.get("survey") or {}).get("questions") or [])
    return summary


def per_case_notice(document: dict, *, case_count: int) -> str:
    """What the facilitator should know after applying: case phases made once without a case, or ""."""
    if case_count or not summarise(document).has_per_case:
        return ""
    return _(
        "The workshop has no cases yet, so the phases that repeat for each case were added once, without a case. "
        "Add the cases, then choose “Replace the agenda with a template” to repeat them for every case, "
        "or link the phases to the cases on the agenda page."
    )
