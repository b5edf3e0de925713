"""Stored rows to the public JSON shapes of TalkJS REST v1 (field names as in DESIGN.md)."""

from __future__ import annotations

import json
from typing import Any

from server.chat import ratelimits
from server.chat.validation import merge_custom
from server.db.models import App, Conversation, Message, Participant, User


def loads(text: str | None, default: Any = None) -> Any:
    return default if text is None else json.loads(text)


def dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def notify_json(stored: str) -> bool | str:
    return {"true": True, "false": False}.get(stored, stored)


def store_fields(row: Any, fields: dict[str, Any], json_lists: tuple[str, ...]) -> None:
    """Set parsed fields on a row: `custom` changes merge into the stored object, lists become JSON."""
    for field, value in fields.items():
        if field == "custom":
            value = dumps(merge_custom(loads(row.custom, {}), value))
        elif field in json_lists:
            value = dumps(value)
        setattr(row, field, value)


def app_json(app: App, with_secret: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "appId": app.app_id,
        "name": app.name,
        "disallowUserSync": bool(app.disallow_user_sync),
        "disallowConversationSync": bool(app.disallow_conversation_sync),
        "identityVerification": bool(app.identity_verification),
        "participantLimit": app.participant_limit,
        "guestLimit": app.guest_limit,
        "allowedOrigins": [o for o in app.allowed_origins.split(",") if o],
        "looseVerifiedSync": bool(app.loose_verified_sync),
        "rateLimits": ratelimits.effective(app.rate_limits),
        "notificationDelay": app.notification_delay,
        "notificationLink": app.notification_link,
        "webhookUrl": app.webhook_url,
        "webhookEvents": loads(app.webhook_events, []),
        "webhookAllowHttp": bool(app.webhook_allow_http),
        "createdAt": app.created_at,
    }
    if with_secret:
        data["secretKey"] = app.secret_key
    return data


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.user_id,
        "name": user.name,
        "email": loads(user.email),
        "phone": loads(user.phone),
        "photoUrl": user.photo_url,
        "welcomeMessage": user.welcome_message,
        "role": user.role,
        "locale": user.locale,
        "custom": loads(user.custom, {}),
        "availabilityText": user.availability_text,
        "createdAt": user.created_at,
    }


def public_user_json(user: User) -> dict[str, Any]:
    """What other people's browsers see of a user: no email addresses or phone numbers."""
    data = user_json(user)
    del data["email"], data["phone"]
    return data


def participation_json(participant: Participant) -> dict[str, Any]:
    return {"access": participant.access, "notify": notify_json(participant.notify)}


def conversation_json(
    conversation: Conversation,
    participants: dict[str, dict[str, Any]],
    last_message: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "id": conversation.conversation_id,
        "subject": conversation.subject,
        "photoUrl": conversation.photo_url,
        "welcomeMessages": loads(conversation.welcome_messages),
        "custom": loads(conversation.custom, {}),
        "lastMessage": last_message,
        "participants": participants,
        "createdAt": conversation.created_at,
    }


def message_json(message: Message, conversation_id: str, sender_id: str | None, read_by: list[str]) -> dict[str, Any]:
    return {
        "id": message.message_id,
        "conversationId": conversation_id,
        "type": message.type,
        "senderId": sender_id,
        "text": message.text,
        "custom": loads(message.custom, {}),
        "readBy": read_by,
        "origin": message.origin,
        "createdAt": message.created_at,
        "editedAt": message.edited_at,
        "referencedMessageId": message.referenced_message_id,
        "attachment": loads(message.attachment),
        "location": loads(message.location),
    }
