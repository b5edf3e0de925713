"""Unread counts and read markers (participants only; guests have none)."""

from __future__ import annotations

from server.db.models import Message, Participant

MAX_COUNTED = 10_000  # counts stop here: "10,000+ unread" is as useful as the exact figure


def unread_count(participant: Participant) -> int:
    """Messages after the participant's read marker that someone else sent."""
    subquery = (
        Message.select(Message.seq)
        .where(
            (Message.conversation == participant.conversation_id)
            & (Message.seq > participant.last_read_seq)
            & ((Message.sender.is_null()) | (Message.sender != participant.user_id))
        )
        .limit(MAX_COUNTED)
    )
    return subquery.count()
