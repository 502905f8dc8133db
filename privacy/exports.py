"""One person's data as a download: JSON, or an Excel workbook where user text never becomes a formula."""

from __future__ import annotations

import io
import json

from django.utils.translation import gettext as _
from openpyxl import Workbook

from privacy.selectors import ParticipantData
from reports.workbook import cell


def participant_data_json(data: ParticipantData, *, own: bool = False) -> bytes:
    """The data as indented UTF-8 JSON (``own``: for the person themselves). No side effects."""
    return json.dumps(data.as_dict(own=own), ensure_ascii=False, indent=2).encode("utf-8")


def participant_data_xlsx(data: ParticipantData) -> bytes:
    """The data as a workbook for an organiser: the person's details, their rooms and named contributions."""
    document = data.as_dict()
    book = Workbook(write_only=True)
    details = book.create_sheet(_("Details"))
    details.append([cell(details, _("Field")), cell(details, _("Value"))])
    details.append([cell(details, _("Workshop")), cell(details, document["workshop"]["title"])])
    for key, value in document["participant"].items():
        details.append([cell(details, key), cell(details, "" if value is None else str(value))])
    for key in ("reactions", "answered_feedback_survey", "erased_at"):
        value = document[key]
        details.append([cell(details, key), cell(details, "" if value is None else str(value))])
    rooms = book.create_sheet(_("Rooms"))
    rooms.append([cell(rooms, _("Round")), cell(rooms, _("Room")), cell(rooms, _("Case"))])
    for room in document["rooms"]:
        rooms.append([room["round"], cell(rooms, room["room"]), cell(rooms, room["case"])])
    contributions = book.create_sheet(_("Contributions"))
    contributions.append([cell(contributions, heading) for heading in (_("Kind"), _("Phase"), _("Text"), _("Time"))])
    for item in document["contributions"]:
        contributions.append([cell(contributions, item[key]) for key in ("kind", "phase", "text", "created_at")])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
