"""Participations: add, change access/notify, remove."""

from __future__ import annotations

from typing import Any

from server.chat import events, lookup
from server.chat.context import ChatContext
from server.chat.conversations import add_participants, participant_added_event, update_participant
from server.chat.errors import NotFound
from server.chat.events import Event
from server.chat.validation import parse_participation
from server.db.models import App, Participant


async def put_participant(ctx: ChatContext, app: App, conversation_id: str, user_id: str, data: Any) -> dict:
    """Add a participant (access defaults to ReadWrite, notify to true) or update one."""
    settings = parse_participation(data)
    return await ctx.write(_put_participant, app, conversation_id, user_id, settings)


def _put_participant(app: App, conversation_id: str, user_id: str, settings: dict[str, str]):
    conversation = lookup.find_conversation(app, conversation_id)
    user = lookup.find_user(app, user_id)
    participant = lookup.find_participant(conversation, user)
    if participant is not None:
        return _update(app, conversation_id, participant, user_id, settings)
    [(participant, user)] = add_participants(app, conversation, [user], settings)
    return {}, [participant_added_event(app, conversation, participant, user)]


async def patch_participant(ctx: ChatContext, app: App, conversation_id: str, user_id: str, data: Any) -> dict:
    """Change an existing participation's access or notify."""
    settings = parse_participation(data)
    return await ctx.write(_patch_participant, app, conversation_id, user_id, settings)


def _patch_participant(app: App, conversation_id: str, user_id: str, settings: dict[str, str]):
    participant = _existing(app, conversation_id, user_id)
    return _update(app, conversation_id, participant, user_id, settings)


def _update(app: App, conversation_id: str, participant: Participant, user_id: str, settings: dict[str, str]):
    return {}, update_participant(app, conversation_id, user_id, participant, settings)


async def delete_participant(ctx: ChatContext, app: App, conversation_id: str, user_id: str) -> dict:
    return await ctx.write(_delete_participant, app, conversation_id, user_id)


def _delete_participant(app: App, conversation_id: str, user_id: str):
    participant = _existing(app, conversation_id, user_id)
    participant.delete_instance()
    data = {"conversationId": conversation_id, "userId": user_id}
    return {}, [Event(events.PARTICIPANT_REMOVED, app.app_id, conversation_id, data, user_id, (user_id,))]


def _existing(app: App, conversation_id: str, user_id: str) -> Participant:
    conversation = lookup.find_conversation(app, conversation_id)
    participant = lookup.find_participant(conversation, lookup.find_user(app, user_id))
    if participant is None:
        raise NotFound(f"user {user_id!r} is not a participant of {conversation_id!r}", code="PARTICIPANT_NOT_FOUND")
    return participant
