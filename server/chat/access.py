"""Who may do what: pure rules, no database. Every interface calls these same functions."""

from __future__ import annotations

from server.chat.errors import Conflict, Forbidden


def require_reader(is_participant: bool, conversation_id: str) -> None:
    """Only participants read a conversation (guests are admitted by their own rule)."""
    if not is_participant:
        raise Forbidden(
            f"you are not a participant of conversation {conversation_id!r}", code="NOT_A_PARTICIPANT"
        )


def require_sender(access: str | None, user_id: str, conversation_id: str) -> None:
    """A message needs a sender with ReadWrite access; Read participants only read."""
    if access is None:
        raise Forbidden(
            f"user {user_id!r} is not a participant of conversation {conversation_id!r}",
            code="SENDER_NOT_PARTICIPANT",
        )
    if access != "ReadWrite":
        raise Forbidden(
            f"user {user_id!r} has Read access to conversation {conversation_id!r} and cannot send",
            code="READ_ONLY_ACCESS",
        )


def require_participant_room(current: int, adding: int, limit: int, conversation_id: str) -> None:
    """Adding participants must not take a conversation over its app's participant limit."""
    if adding and current + adding > limit:
        raise Conflict(
            f"conversation {conversation_id!r} would have {current + adding} participants; "
            f"this app allows {limit} per conversation",
            code="PARTICIPANT_LIMIT_REACHED",
        )


def read_by(message_seq: int, sender_id: str | None, reads: list[tuple[str, int]]) -> list[str]:
    """Participants (not the sender) whose read marker is at or past a message."""
    return [uid for uid, last_read in reads if last_read >= message_seq and uid != sender_id]
