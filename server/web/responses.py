"""JSON in and out: bounded request bodies, orjson responses, errors as `{errorCode, message}`."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.chat import limits
from server.chat.errors import ChatError, InvalidInput, TooLarge

HTTP_ERROR_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


class JSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def read_json(request: Request) -> Any:
    """The request body as JSON, refusing bodies over the size limit before reading them whole."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limits.MAX_REQUEST_BYTES:
        raise _too_large()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limits.MAX_REQUEST_BYTES:
            raise _too_large()
    if not body:
        raise InvalidInput("the request needs a JSON body", code="INVALID_JSON")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidInput(f"the body is not valid JSON: {error}", code="INVALID_JSON") from None


async def read_optional_json(request: Request) -> Any:
    """Like `read_json`, but an empty body means `{}`."""
    try:
        return await read_json(request)
    except InvalidInput as error:
        if error.message.startswith("the request needs a JSON body"):
            return {}
        raise


def _too_large() -> TooLarge:
    return TooLarge(f"the request body is larger than {limits.MAX_REQUEST_BYTES} bytes")


async def chat_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ChatError)
    retry_after = getattr(error, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSON(error.as_dict(), status_code=error.status, headers=headers)


async def http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = HTTP_ERROR_CODES.get(error.status_code, "HTTP_ERROR")
    return JSON({"errorCode": code, "message": error.detail}, status_code=error.status_code, headers=error.headers)


async def server_error(request: Request, error: Exception) -> Response:
    body = {"errorCode": "INTERNAL_ERROR", "message": "the server failed to handle this request"}
    return JSON(body, status_code=500)


EXCEPTION_HANDLERS = {ChatError: chat_error, HTTPException: http_error, Exception: server_error}
