"""Between workshops and template documents: ``serialize`` reads a workshop, ``apply`` builds one's agenda.

``apply`` writes (through ``facilitation.services.phase_create`` and
``rotation_update``), so only ``workshops.services_templates`` calls it, inside
its transaction.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from facilitation.models import Phase, Rotation, Survey, SurveyQuestion
from workshops.methods.document import (
    CASE_PLACEHOLDER,
    FORMAT,
    IDEA_KEYS,
    INSTRUCTIONS_MAX_LENGTH,
    MIN_GENERALISED_TITLE,
    PER_CASE_KINDS,
    PROMPT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    VERSION,
    TemplateError,
)
from workshops.models import Case, Workshop


def _default(model, name: str):
    return model._meta.get_field(name).default


# --- workshop -> document --------------------------------------------------------
def serialize(workshop: Workshop, *, name: str, description: str = "") -> dict:
    """The workshop's agenda, room settings and feedback survey as a (not yet validated) document.

    Runs of case phases that repeat the same steps for every case, in the
    cases' order, become one ``per_case`` block with ``{case}`` in place of the
    case's title; other phases about a case keep the case's number.
    """
    cases = list(workshop.cases.order_by("position", "id"))
    number_of_case = {case.pk: index for index, case in enumerate(cases, 1)}
    phases = list(
        Phase.objects.filter(workshop=workshop)
        .select_related("case")
        .prefetch_related("prompts")
        .order_by("position", "id")
    )
    items: list[dict] = []
    number_of_phase: dict[int, int] = {}
    item_of_phase: dict[int, dict] = {}

    def add(phase: Phase) -> None:
        item = _phase_item(phase, case=number_of_case.get(phase.case_id))
        items.append(item)
        number_of_phase[phase.pk] = len(items)
        item_of_phase[phase.pk] = item

    index = 0
    while index < len(phases):
        phase = phases[index]
        if phase.case_id is None or phase.kind not in PER_CASE_KINDS:
            add(phase)
            index += 1
            continue
        end = index
        while end < len(phases) and phases[end].case_id is not None and phases[end].kind in PER_CASE_KINDS:
            end += 1
        block = _per_case_block(phases[index:end], cases)
        if block is None:
            for other in phases[index:end]:
                add(other)
        else:
            items.extend(block)
        index = end
    for phase in phases:
        if phase.kind == Phase.Kind.PRIORITISATION and phase.idea_source_id in number_of_phase:
            source = number_of_phase[phase.idea_source_id]
            # A source after the phase cannot be expressed; empty means "the nearest one before".
            item_of_phase[phase.pk]["idea_source"] = source if source < number_of_phase[phase.pk] else None
    document = {
        "format": FORMAT,
        "version": VERSION,
        "name": name,
        "description": description,
        "language": workshop.language,
        "phases": items,
        "rotation": _rotation_item(workshop),
        "survey": _survey_item(workshop),
    }
    return document


def _phase_item(phase: Phase, *, case: int | None = None, case_title: str = "") -> dict:
    def general(text: str) -> str:
        return text.replace(case_title, CASE_PLACEHOLDER) if case_title else text

    item: dict = {
        "kind": phase.kind,
        "title": general(phase.title),
        "duration_minutes": phase.duration_minutes,
        "instructions": general(phase.instructions),
        "prompts": [general(prompt.text) for prompt in phase.prompts.all()],
        "private_first": phase.private_first,
        "per_case": False,
        "case": case,
    }
    if phase.kind == Phase.Kind.IDEAS:
        item.update({key: getattr(phase, key) for key in IDEA_KEYS})
    if phase.kind == Phase.Kind.PRIORITISATION:
        item.update({key: getattr(phase, key) for key in ("voting", "min_appearances", "dots_per_person")})
        item["idea_source"] = None
    return item


def _per_case_block(run: list[Phase], cases: list[Case]) -> list[dict] | None:
    """The run as one block repeated for every case, or None when it is not such a repetition."""
    groups: list[list[Phase]] = []
    for phase in run:
        if groups and groups[-1][0].case_id == phase.case_id:
            groups[-1].append(phase)
        else:
            groups.append([phase])
    if [group[0].case_id for group in groups] != [case.pk for case in cases]:
        return None
    blocks = []
    for group, case in zip(groups, cases, strict=True):
        title = case.title if len(case.title) >= MIN_GENERALISED_TITLE else ""
        block = [_phase_item(phase, case_title=title) for phase in group]
        for item in block:
            item["per_case"], item["case"] = True, None
        blocks.append(block)
    first = blocks[0]
    if any(block != first for block in blocks[1:]):
        return None
    return first


def _rotation_item(workshop: Workshop) -> dict | None:
    rotation = Rotation.objects.filter(workshop=workshop).first()
    if rotation is None:
        return None
    keys = ("mode", "leaders_stay", "min_size", "max_size", "rooms", "remix", "round_minutes")
    return {key: getattr(rotation, key) for key in keys}


def _survey_item(workshop: Workshop) -> dict | None:
    survey = Survey.objects.filter(workshop=workshop).first()
    questions = list(SurveyQuestion.objects.filter(workshop=workshop).order_by("position", "id"))
    if survey is None and not questions:
        return None
    return {
        "intro": survey.intro if survey else "",
        "open_days_after": survey.open_days_after if survey else _default(Survey, "open_days_after"),
        "questions": [
            {"kind": question.kind, "text": question.text, "required": question.required} for question in questions
        ],
    }


# --- document -> workshop --------------------------------------------------------
def apply(workshop: Workshop, document: dict) -> list[Phase]:
    """Add the document's phases to the workshop, and set its rooms and survey when the document has them.

    ``document`` must be canonical (from ``validate``). The caller holds the
    transaction and has made sure the agenda is empty. Per-case blocks repeat
    for every case; without cases they are added once, without a case.
    """
    from facilitation.services.agenda import phase_create
    from facilitation.services.rounds import rotation_update

    cases = list(workshop.cases.order_by("position", "id"))
    created: list[Phase] = []
    by_number: dict[int, Phase] = {}
    phases = document["phases"]
    index = 0
    while index < len(phases):
        item = phases[index]
        if not item["per_case"]:
            case = cases[item["case"] - 1] if item["case"] and item["case"] <= len(cases) else None
            by_number[index + 1] = _create(phase_create, workshop, item, case=case, by_number=by_number)
            created.append(by_number[index + 1])
            index += 1
            continue
        end = index
        while end < len(phases) and phases[end]["per_case"]:
            end += 1
        block = phases[index:end]
        for case in cases or [None]:
            for item in block:
                created.append(_create(phase_create, workshop, item, case=case, by_number=by_number))
        index = end
    if document.get("rotation"):
        rotation_update(workshop=workshop, data=dict(document["rotation"]))
    if document.get("survey") is not None:
        _apply_survey(workshop, document["survey"])
    return created


def _fill(text: str, case: Case | None, limit: int) -> str:
    if CASE_PLACEHOLDER not in text:
        return text
    name = case.title if case is not None else _("case to be chosen")
    return text.replace(CASE_PLACEHOLDER, name)[:limit]


def _create(phase_create, workshop: Workshop, item: dict, *, case: Case | None, by_number: dict[int, Phase]) -> Phase:
    options = {key: item[key] for key in IDEA_KEYS if key in item}
    if item["kind"] == Phase.Kind.PRIORITISATION:
        options.update({key: item[key] for key in ("voting", "min_appearances", "dots_per_person")})
        options["idea_source"] = by_number.get(item["idea_source"]) if item.get("idea_source") else None
    filled_case = case if item["per_case"] else None
    return phase_create(
        workshop=workshop,
        kind=item["kind"],
        title=_fill(item["title"], filled_case, TITLE_MAX_LENGTH) if item["per_case"] else item["title"],
        duration_minutes=item["duration_minutes"],
        instructions=_fill(item["instructions"], filled_case, INSTRUCTIONS_MAX_LENGTH)
        if item["per_case"]
        else item["instructions"],
        case=case,
        private_first=item["private_first"],
        prompts=[_fill(text, filled_case, PROMPT_MAX_LENGTH) if item["per_case"] else text for text in item["prompts"]],
        **options,
    )


def _apply_survey(workshop: Workshop, survey: dict) -> None:
    from facilitation.models import FeedbackResponse

    if FeedbackResponse.objects.filter(workshop=workshop).exists():
        raise TemplateError(_("People have already answered this workshop's feedback survey, so it was not replaced."))
    Survey.objects.update_or_create(
        workshop=workshop, defaults={"intro": survey["intro"], "open_days_after": survey["open_days_after"]}
    )
    SurveyQuestion.objects.filter(workshop=workshop).delete()
    questions = [
        SurveyQuestion(
            workshop=workshop,
            position=position,
            kind=question["kind"],
            text=question["text"],
            required=question["required"],
        )
        for position, question in enumerate(survey["questions"], 1)
    ]
    for question in questions:
        question.full_clean(exclude=["workshop"])
    SurveyQuestion.objects.bulk_create(questions)
