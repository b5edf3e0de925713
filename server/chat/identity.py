"""Identity verification: with it on, a browser session proves who it is with a signature or a token.

signature: hex HMAC-SHA256 of the user id keyed with the app's secret key (either case).
token: a JWT, HS256, signed with the secret key, with `iss` = appId, `sub` = user id and `exp`
(and, when present, `tokenType` = "user"), verified with PyJWT.
"""

from __future__ import annotations

import hmac
from hashlib import sha256
from typing import Any

import jwt

from server.chat.errors import Unauthorized
from server.db.models import App


def expected_signature(secret_key: str, user_id: str) -> str:
    return hmac.new(secret_key.encode(), user_id.encode(), sha256).hexdigest()


def verify(app: App, user_id: str, signature: Any, token: Any) -> None:
    """Refuse the session unless identity verification is off or its credentials hold."""
    if not app.identity_verification:
        return
    if isinstance(token, str) and token:
        return verify_token(app, user_id, token)
    if isinstance(signature, str) and signature:
        return verify_signature(app, user_id, signature)
    raise Unauthorized(
        "this app requires identity verification: the session needs a signature or a token",
        code="SIGNATURE_REQUIRED",
    )


def verify_signature(app: App, user_id: str, signature: str) -> None:
    expected = expected_signature(app.secret_key, user_id)
    if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
        raise Unauthorized("the session's signature does not match its user", code="INVALID_SIGNATURE")


def verify_token(app: App, user_id: str, token: str) -> None:
    try:
        claims = jwt.decode(
            token, app.secret_key, algorithms=["HS256"], issuer=app.app_id, options={"require": ["exp", "iss", "sub"]}
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the session's token has expired: fetch a new one", code="TOKEN_EXPIRED") from None
    except jwt.PyJWTError as error:
        raise Unauthorized(f"the session's token is not valid: {error}", code="INVALID_TOKEN") from None
    if claims.get("sub") != user_id:
        raise Unauthorized("the session's token is for another user", code="INVALID_TOKEN")
    if claims.get("tokenType", "user") != "user":
        raise Unauthorized('the session\'s token must have tokenType "user"', code="INVALID_TOKEN")
