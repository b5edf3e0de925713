"""Paths must be valid UTF-8 once percent-decoded: otherwise `/users/%FF` and `/users/%FE` would both
become U+FFFD and name the same user. Refused with HTTP 400 before any route sees them."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send


class StrictPaths:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _valid(scope.get("raw_path") or scope["path"].encode()):
            body = orjson.dumps({"errorCode": "INVALID_PATH", "message": "the path is not valid UTF-8 once percent-decoded"})
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def _valid(raw_path: bytes) -> bool:
    try:
        unquote_to_bytes(raw_path.split(b"?", 1)[0]).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
