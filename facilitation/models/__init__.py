"""The live workshop's models, one module per part: the live state and comments, rounds, ideas, feedback."""

from facilitation.models.feedback import (
    FEEDBACK_TEXT_MAX_LENGTH,
    FeedbackAnswer,
    FeedbackReceipt,
    FeedbackResponse,
    Survey,
    SurveyQuestion,
)
from facilitation.models.ideas import IDEA_MAX_LENGTH, Ballot, Duel, Idea
from facilitation.models.live import (
    COMMENT_MAX_LENGTH,
    PRESENCE_WINDOW,
    Comment,
    Event,
    LiveState,
    Phase,
    Presence,
    Prompt,
    Reaction,
    room_thread_key,
    thread_key,
)
from facilitation.models.rounds import Room, RoomMember, Rotation, Round

__all__ = [
    "COMMENT_MAX_LENGTH",
    "FEEDBACK_TEXT_MAX_LENGTH",
    "IDEA_MAX_LENGTH",
    "PRESENCE_WINDOW",
    "Ballot",
    "Comment",
    "Duel",
    "Event",
    "FeedbackAnswer",
    "FeedbackReceipt",
    "FeedbackResponse",
    "Idea",
    "LiveState",
    "Phase",
    "Presence",
    "Prompt",
    "Reaction",
    "Room",
    "RoomMember",
    "Rotation",
    "Round",
    "Survey",
    "SurveyQuestion",
    "room_thread_key",
    "thread_key",
]
