"""Parsing client input into stored values. Pure functions: no database, no I/O.

Each parser takes decoded JSON and returns only the fields that were sent (absent leaves a
stored value unchanged, `null` clears it), or raises `InvalidInput` naming the field.
"""

from __future__ import annotations

from typing import Any

from server.chat import limits
from server.chat.errors import InvalidInput, TooLarge

ACCESS_LEVELS = ("ReadWrite", "Read")
NOTIFY_VALUES = {True: "true", False: "false", "MentionsOnly": "MentionsOnly"}
MESSAGE_TYPES = ("UserMessage", "SystemMessage")

USER_TEXT_FIELDS = {
    "photoUrl": ("photo_url", limits.MAX_TEXT_FIELD_LENGTH),
    "welcomeMessage": ("welcome_message", limits.MAX_TEXT_FIELD_LENGTH),
    "role": ("role", limits.MAX_NAME_LENGTH),
    "locale": ("locale", 64),
    "availabilityText": ("availability_text", limits.MAX_TEXT_FIELD_LENGTH),
}
USER_FIELDS = {"id", "name", "email", "phone", "custom", *USER_TEXT_FIELDS}
CONVERSATION_FIELDS = {"id", "subject", "photoUrl", "welcomeMessages", "custom", "participants"}
PARTICIPATION_FIELDS = {"access", "notify"}
MESSAGE_FIELDS = {"text", "sender", "type", "custom", "idempotencyKey", "referencedMessageId"}
MESSAGE_EDIT_FIELDS = {"text", "custom"}


def require_object(data: Any, what: str = "request body") -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput(f"{what} must be a JSON object")
    return data


def reject_unknown(data: dict[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r} in {what}", code="UNKNOWN_FIELD")


def parse_id(value: Any, field: str) -> str:
    """Ids are non-empty strings; numbers are accepted and turned into strings, as TalkJS does."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInput(f"{field} must be a string")
    text = str(value)
    if not text or len(text) > limits.MAX_ID_LENGTH:
        raise InvalidInput(f"{field} must be 1 to {limits.MAX_ID_LENGTH} characters")
    return text


def optional_text(value: Any, field: str, max_length: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string or null")
    if len(value) > max_length:
        raise TooLarge(f"{field} is longer than {max_length} characters")
    return value


def string_list(value: Any, field: str) -> list[str] | None:
    """A string, a list of strings, or null (stored as a list or None)."""
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise InvalidInput(f"{field} must be a string, a list of strings or null")
    if len(items) > limits.MAX_LIST_ITEMS:
        raise TooLarge(f"{field} holds more than {limits.MAX_LIST_ITEMS} items")
    if any(len(i) > limits.MAX_TEXT_FIELD_LENGTH for i in items):
        raise TooLarge(f"an item of {field} is longer than {limits.MAX_TEXT_FIELD_LENGTH} characters")
    return items


def custom_changes(value: Any, field: str = "custom") -> dict[str, str | None] | None:
    """`custom` maps strings to strings; a null value deletes that key, a null object clears all."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInput(f"{field} must be an object of strings")
    if len(value) > limits.MAX_CUSTOM_KEYS:
        raise TooLarge(f"{field} has more than {limits.MAX_CUSTOM_KEYS} keys")
    if sum(len(k) + len(v or "") for k, v in value.items() if isinstance(v, str | None)) > limits.MAX_CUSTOM_CHARACTERS:
        raise TooLarge(f"{field} holds more than {limits.MAX_CUSTOM_CHARACTERS} characters of keys and values")
    for key, item in value.items():
        if len(key) > limits.MAX_CUSTOM_KEY_LENGTH:
            raise TooLarge(f"{field} key {key[:40]!r}... is longer than {limits.MAX_CUSTOM_KEY_LENGTH} characters")
        if item is not None and not isinstance(item, str):
            raise InvalidInput(f"{field}.{key} must be a string or null")
        if item is not None and len(item) > limits.MAX_CUSTOM_VALUE_LENGTH:
            raise TooLarge(f"{field}.{key} is longer than {limits.MAX_CUSTOM_VALUE_LENGTH} characters")
    return value


def merge_custom(stored: dict[str, str], changes: dict[str, str | None] | None) -> dict[str, str]:
    """Apply `custom_changes` to a stored object; the result is bounded like the input."""
    if changes is None:
        return {}
    merged = {**stored, **changes}
    result = {k: v for k, v in merged.items() if v is not None}
    if len(result) > limits.MAX_CUSTOM_KEYS:
        raise TooLarge(f"custom would hold more than {limits.MAX_CUSTOM_KEYS} keys")
    if changes and sum(len(k) + len(v) for k, v in result.items()) > limits.MAX_CUSTOM_CHARACTERS:
        raise TooLarge(f"custom would hold more than {limits.MAX_CUSTOM_CHARACTERS} characters of keys and values")
    return result


def parse_user(data: Any, user_id: str) -> dict[str, Any]:
    """Fields of a user PUT, keyed by model field; `custom` is left as changes to merge."""
    data = require_object(data)
    reject_unknown(data, USER_FIELDS, "user")
    if "id" in data and parse_id(data["id"], "id") != user_id:
        raise InvalidInput("id in the body does not match the user id in the path")
    fields: dict[str, Any] = {}
    if "name" in data:
        name = data["name"]
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("name must be a non-empty string")
        fields["name"] = optional_text(name, "name", limits.MAX_NAME_LENGTH)
    for key in ("email", "phone"):
        if key in data:
            fields[key] = string_list(data[key], key)
    for key, (column, max_length) in USER_TEXT_FIELDS.items():
        if key in data:
            fields[column] = optional_text(data[key], key, max_length)
    if "custom" in data:
        fields["custom"] = custom_changes(data["custom"])
    return fields


def parse_conversation(data: Any) -> dict[str, Any]:
    """Fields of a conversation PUT; `participants` is a list of user ids to add."""
    data = require_object(data)
    reject_unknown(data, CONVERSATION_FIELDS, "conversation")
    fields: dict[str, Any] = {}
    if "subject" in data:
        fields["subject"] = optional_text(data["subject"], "subject", limits.MAX_TEXT_FIELD_LENGTH)
    if "photoUrl" in data:
        fields["photo_url"] = optional_text(data["photoUrl"], "photoUrl", limits.MAX_TEXT_FIELD_LENGTH)
    if "welcomeMessages" in data:
        fields["welcome_messages"] = string_list(data["welcomeMessages"], "welcomeMessages")
    if "custom" in data:
        fields["custom"] = custom_changes(data["custom"])
    if "participants" in data:
        fields["participants"] = parse_participant_ids(data["participants"])
    return fields


def parse_participant_ids(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise InvalidInput("participants must be a list of user ids")
    if len(value) > limits.MAX_PARTICIPANTS_PER_PUT:
        raise TooLarge(f"participants holds more than {limits.MAX_PARTICIPANTS_PER_PUT} user ids")
    return list(dict.fromkeys(parse_id(v, "participants[]") for v in value))


def parse_participation(data: Any) -> dict[str, str]:
    """`access` and `notify` of a participation, as stored."""
    data = require_object(data if data is not None else {})
    reject_unknown(data, PARTICIPATION_FIELDS, "participation")
    fields: dict[str, str] = {}
    if "access" in data:
        if data["access"] not in ACCESS_LEVELS:
            raise InvalidInput('access must be "ReadWrite" or "Read"')
        fields["access"] = data["access"]
    if "notify" in data:
        notify = data["notify"]
        if not isinstance(notify, bool | str) or notify not in NOTIFY_VALUES:
            raise InvalidInput('notify must be true, false or "MentionsOnly"')
        fields["notify"] = NOTIFY_VALUES[notify]
    return fields


def parse_message_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("text must be a non-empty string")
    if len(value) > limits.MAX_MESSAGE_TEXT:
        raise TooLarge(f"text is longer than {limits.MAX_MESSAGE_TEXT} characters", code="MESSAGE_TOO_LONG")
    return value


def parse_new_message(data: Any, index: int | None = None) -> dict[str, Any]:
    """One message to send: `{text, type, sender?, custom?, idempotencyKey?, referencedMessageId?}`."""
    what = "message" if index is None else f"message [{index}]"
    data = require_object(data, what)
    reject_unknown(data, MESSAGE_FIELDS, what)
    kind = data.get("type", "UserMessage")
    if kind not in MESSAGE_TYPES:
        raise InvalidInput(f'{what}: type must be "UserMessage" or "SystemMessage"')
    parsed: dict[str, Any] = {"type": kind, "text": parse_message_text(data.get("text"))}
    if kind == "UserMessage":
        parsed["sender"] = parse_id(data.get("sender"), f"{what}: sender") if "sender" in data else None
    elif data.get("sender") is not None:
        raise InvalidInput(f"{what}: a SystemMessage has no sender")
    parsed["custom"] = merge_custom({}, custom_changes(data.get("custom", {}), f"{what}: custom"))
    parsed["idempotency_key"] = _optional_key(data.get("idempotencyKey"), f"{what}: idempotencyKey")
    parsed["referenced_message_id"] = _optional_key(data.get("referencedMessageId"), f"{what}: referencedMessageId")
    return parsed


def parse_message_batch(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, list) or not data:
        raise InvalidInput("request body must be a non-empty JSON array of messages")
    if len(data) > limits.MAX_MESSAGES_PER_POST:
        raise InvalidInput(
            f"at most {limits.MAX_MESSAGES_PER_POST} messages per request, got {len(data)}", code="BATCH_TOO_LARGE"
        )
    messages = [parse_new_message(item, i) for i, item in enumerate(data)]
    for i, message in enumerate(messages):
        if message["type"] == "UserMessage" and message["sender"] is None:
            raise InvalidInput(f"message [{i}]: sender is required for a UserMessage")
    return messages


def parse_message_edit(data: Any) -> dict[str, Any]:
    data = require_object(data)
    reject_unknown(data, MESSAGE_EDIT_FIELDS, "message")
    fields: dict[str, Any] = {}
    if "text" in data:
        fields["text"] = parse_message_text(data["text"])
    if "custom" in data:
        fields["custom"] = custom_changes(data["custom"])
    return fields


MAX_TIMESTAMP = 2**53  # ms since the epoch: far beyond any real date, and exact in JavaScript


def parse_integer(raw: Any, field: str, low: int, high: int) -> int:
    """A whole number from JSON (an int) or a query string (digits), between `low` and `high`;
    floats, booleans and out-of-range values are refused before they reach the database."""
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise InvalidInput(f"{field} must be a whole number between {low} and {high}")
    text = raw.strip() if isinstance(raw, str) else str(raw)
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 20:
        raise InvalidInput(f"{field} must be a whole number between {low} and {high}")
    value = int(text)
    if not low <= value <= high:
        raise InvalidInput(f"{field} must be between {low} and {high}, got {value}")
    return value


def parse_limit(raw: Any) -> int:
    if raw is None or raw == "":
        return limits.DEFAULT_PAGE_SIZE
    return parse_integer(raw, "limit", 1, limits.MAX_PAGE_SIZE)


def parse_timestamp(raw: Any, field: str) -> int | None:
    """Milliseconds since the epoch."""
    if raw is None or raw == "":
        return None
    return parse_integer(raw, field, 0, MAX_TIMESTAMP)


def _optional_key(value: Any, field: str) -> str | None:
    if value is None:
        return None
    return parse_id(value, field)
