"""Errors every interface reports the same way: a stable code, a message, an HTTP status."""

from __future__ import annotations


class ChatError(Exception):
    """A refused request. `code` is stable and machine-readable; `message` is for people."""

    status = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, str]:
        return {"errorCode": self.code, "message": self.message}


class InvalidInput(ChatError):
    status, code = 400, "INVALID_INPUT"


class Unauthorized(ChatError):
    status, code = 401, "UNAUTHORIZED"


class Forbidden(ChatError):
    status, code = 403, "FORBIDDEN"


class NotFound(ChatError):
    status, code = 404, "NOT_FOUND"


class Conflict(ChatError):
    status, code = 409, "CONFLICT"


class TooLarge(ChatError):
    status, code = 413, "PAYLOAD_TOO_LARGE"


class Unavailable(ChatError):
    """Something shared (Redis) cannot be reached right now; the same request may succeed soon."""

    status, code = 503, "TEMPORARILY_UNAVAILABLE"
