"""Room names. JSON-encoded so that no app or conversation id can collide with another's room."""

from __future__ import annotations

import json


def conversation_room(app_id: str, conversation_id: str) -> str:
    return json.dumps(["conversation", app_id, conversation_id])


def user_room(app_id: str, user_id: str) -> str:
    return json.dumps(["user", app_id, user_id])
