"""Every write of the live workshop: agenda, live controls, comments, reactions, presence, joining.

Each service runs in one transaction and broadcasts through ``realtime`` after
commit. Errors people can fix come back as ``LiveError`` with a message in
their language. The modules split the writes by subject; callers import from
``facilitation.services``.
"""

from __future__ import annotations

# Ideas, voting and feedback list their services in their own ``__all__``.
from facilitation.services import feedback as _feedback
from facilitation.services import ideas as _ideas
from facilitation.services import voting as _voting
from facilitation.services.agenda import (
    REFLECTION_PROMPTS,
    agenda_create_default,
    phase_create,
    phase_delete,
    phase_move,
    phase_update,
)
from facilitation.services.comments import (
    comment_create,
    comment_delete,
    comment_hide,
    comment_unhide,
    comment_update,
    reaction_toggle,
)
from facilitation.services.common import (
    JOIN_CODE_ALPHABET,
    JOIN_CODE_LENGTH,
    OPEN_STATUSES,
    PRESENCE_WINDOW,
    LiveError,
    live_state,
)
from facilitation.services.feedback import *  # noqa: F403
from facilitation.services.ideas import *  # noqa: F403
from facilitation.services.live import (
    broadcast_send,
    join_code_normalise,
    join_code_set,
    live_close,
    live_for_join_code,
    live_start,
    participant_join_by_code,
    phase_go,
    phase_reveal,
    timer_clear,
    timer_extend,
    timer_pause,
    timer_resume,
    timer_start,
    workshop_forget_live_links,
)
from facilitation.services.moderation import Hidden, items_hide
from facilitation.services.presence import (
    connected_count,
    live_stats,
    presence_arrive,
    presence_depart,
    presence_refresh,
    presence_touch,
    stats_changed,
    stats_publish,
    writers_count,
)
from facilitation.services.rounds import (
    current_round,
    late_joiner_place,
    member_move,
    participant_leave,
    plan_from_db,
    room_broadcast,
    room_help_clear,
    room_help_request,
    room_summary_save,
    rotation_settings,
    rotation_update,
    round_close,
    round_start,
    rounds_plan,
    rounds_rebalance,
)
from facilitation.services.voting import *  # noqa: F403

__all__ = [
    "JOIN_CODE_ALPHABET",
    "JOIN_CODE_LENGTH",
    "OPEN_STATUSES",
    "PRESENCE_WINDOW",
    "REFLECTION_PROMPTS",
    "Hidden",
    "LiveError",
    "agenda_create_default",
    "broadcast_send",
    "comment_create",
    "comment_delete",
    "comment_hide",
    "comment_unhide",
    "comment_update",
    "connected_count",
    "current_round",
    "items_hide",
    "join_code_normalise",
    "join_code_set",
    "late_joiner_place",
    "live_close",
    "live_for_join_code",
    "live_start",
    "live_state",
    "live_stats",
    "member_move",
    "participant_join_by_code",
    "participant_leave",
    "phase_create",
    "phase_delete",
    "phase_go",
    "phase_move",
    "phase_reveal",
    "phase_update",
    "plan_from_db",
    "presence_arrive",
    "presence_depart",
    "presence_refresh",
    "presence_touch",
    "reaction_toggle",
    "room_broadcast",
    "room_help_clear",
    "room_help_request",
    "room_summary_save",
    "rotation_settings",
    "rotation_update",
    "round_close",
    "round_start",
    "rounds_plan",
    "rounds_rebalance",
    "stats_changed",
    "stats_publish",
    "timer_clear",
    "timer_extend",
    "timer_pause",
    "timer_resume",
    "timer_start",
    "workshop_forget_live_links",
    "writers_count",
]
__all__ += _feedback.__all__ + _ideas.__all__ + _voting.__all__
