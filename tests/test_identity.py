"""Identity verification (signature or JWT) and allowed origins, through the realtime connection and the embed views."""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx
import jwt
import pytest

from tests.test_realtime import refused
from tests.realtime_client import Client, connect


def token(secret: str, app_id: str, user_id: str, **changes) -> str:
    claims = {"tokenType": "user", "iss": app_id, "sub": user_id, "exp": int(time.time()) + 60, **changes}
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm="HS256")


@pytest.fixture
def verified(server, tenant, api):
    api.put("users/42", json={"name": "Bob"})
    server.update_app(tenant["appId"], identityVerification=True)
    return tenant


async def test_a_valid_token_opens_the_session(server, verified):
    client = await connect(server, verified["appId"], "42", token=token(verified["secretKey"], verified["appId"], "42"))
    await client.close()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"exp": int(time.time()) - 5}, "TOKEN_EXPIRED"),
        ({"sub": "43"}, "INVALID_TOKEN"),
        ({"iss": "another-app"}, "INVALID_TOKEN"),
        ({"exp": None}, "INVALID_TOKEN"),
        ({"tokenType": "app"}, "INVALID_TOKEN"),
    ],
)
async def test_bad_tokens_are_refused(server, verified, changes, code):
    bad = token(verified["secretKey"], verified["appId"], "42", **changes)
    reason = await refused(server, {"appId": verified["appId"], "me": "42", "token": bad})
    assert reason.startswith(code)


async def test_a_token_signed_with_another_key_is_refused(server, verified):
    forged = token("sk_not-the-secret-but-long-enough-to-sign", verified["appId"], "42")
    assert (await refused(server, {"appId": verified["appId"], "me": "42", "token": forged})).startswith("INVALID_TOKEN")


async def test_the_rest_api_is_unaffected(api, verified):
    assert api.get("users/42").json()["name"] == "Bob"


async def test_credentials_check_endpoint(server, verified):
    url = f"{server.base_url}/embed/{verified['appId']}/credentials"
    signature = hmac.new(verified["secretKey"].encode(), b"42", hashlib.sha256).hexdigest()
    assert httpx.post(url, json={"me": "42", "signature": signature}).json() == {"valid": True}
    assert httpx.post(url, json={"me": "42"}).json()["valid"] is False
    assert httpx.post(url, json={"me": "42", "signature": "00"}).json()["errorCode"] == "INVALID_SIGNATURE"


# --- allowed origins ---------------------------------------------------------------------------


@pytest.fixture
def restricted(server, tenant, api):
    api.put("users/42", json={"name": "Bob"})
    server.update_app(tenant["appId"], allowedOrigins="https://shop.example.com")
    return tenant


async def connect_from(server, app_id: str, header_origin: str | None, **auth) -> Client:
    client = Client()
    headers = {"Origin": header_origin} if header_origin else {}
    await client.sio.connect(server.base_url, auth={"appId": app_id, "me": "42", **auth}, headers=headers,
                             transports=["websocket"], wait_timeout=5)
    return client


async def test_allowed_origin_connects_and_others_are_refused(server, restricted):
    client = await connect_from(server, restricted["appId"], "https://shop.example.com")
    await client.close()
    stranger = Client()
    with pytest.raises(Exception):
        await stranger.sio.connect(server.base_url, auth={"appId": restricted["appId"], "me": "42"},
                                   headers={"Origin": "https://evil.example"}, transports=["websocket"], wait_timeout=5)
    reason = await stranger.next("connect_error")
    await stranger.close()
    assert reason["data"]["code"] == "ORIGIN_NOT_ALLOWED"


async def test_parleys_own_frames_are_checked_by_the_page_they_are_in(server, restricted):
    own = server.base_url
    client = await connect_from(server, restricted["appId"], own, origin="https://shop.example.com")
    await client.close()
    stranger = Client()
    with pytest.raises(Exception):
        await stranger.sio.connect(server.base_url, auth={"appId": restricted["appId"], "me": "42", "origin": "https://evil.example"},
                                   headers={"Origin": own}, transports=["websocket"], wait_timeout=5)
    assert (await stranger.next("connect_error"))["data"]["code"] == "ORIGIN_NOT_ALLOWED"
    await stranger.close()


def test_embed_views_carry_frame_ancestors_and_refuse_other_pages(server, restricted):
    url = f"{server.base_url}/embed/{restricted['appId']}/chatbox"
    allowed = httpx.get(url, params={"origin": "https://shop.example.com"})
    assert allowed.status_code == 200
    assert "frame-ancestors https://shop.example.com;" in allowed.headers["content-security-policy"]
    other = httpx.get(url, params={"origin": "https://evil.example"})
    assert other.status_code == 403 and "ORIGIN_NOT_ALLOWED" in other.text


def test_without_allowed_origins_any_page_may_embed(server, tenant):
    response = httpx.get(f"{server.base_url}/embed/{tenant['appId']}/chatbox", params={"origin": "https://any.example"})
    assert response.status_code == 200 and "frame-ancestors *;" in response.headers["content-security-policy"]


def test_credentials_check_applies_allowed_origins(server, restricted):
    url = f"{server.base_url}/embed/{restricted['appId']}/credentials"
    assert httpx.post(url, json={"me": "42"}, headers={"Origin": "https://shop.example.com"}).json() == {"valid": True}
    refused = httpx.post(url, json={"me": "42"}, headers={"Origin": "https://evil.example"}).json()
    assert refused["valid"] is False and refused["errorCode"] == "ORIGIN_NOT_ALLOWED"


# --- M3: with identity verification on, browser sync changes only `me` and conversations `me` is in ---

def signature(secret: str, user_id: str) -> str:
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
async def verified_mallory(server, verified, api):
    """A verified user, and a private conversation of Bob's she is not in."""
    api.put("users/mallory", json={"name": "Mallory"})
    api.put("users/carol", json={"name": "Carol", "email": ["carol@example.com"]})
    api.put("conversations/private", json={"participants": ["42", "carol"], "subject": "Just us"})
    client = await connect(server, verified["appId"], "mallory", signature=signature(verified["secretKey"], "mallory"))
    yield client
    await client.close()


async def test_a_verified_user_cannot_add_herself_to_someone_elses_conversation(verified_mallory, api):
    answer = await verified_mallory.call("conversation:sync", {"conversationId": "private", "participants": [{"user": "mallory"}]})
    assert answer["error"]["code"] == "CONVERSATION_SYNC_RESTRICTED"
    retitled = await verified_mallory.call("conversation:sync", {"conversationId": "private", "attributes": {"subject": "Mine"}})
    assert retitled["error"]["code"] == "CONVERSATION_SYNC_RESTRICTED"
    conversation = api.get("conversations/private").json()
    assert set(conversation["participants"]) == {"42", "carol"} and conversation["subject"] == "Just us"
    joined = await verified_mallory.call("conversation:join", {"conversationId": "private"})
    assert joined["error"]["code"] == "NOT_A_PARTICIPANT"


async def test_a_verified_user_cannot_rename_or_readdress_others(verified_mallory, api):
    answer = await verified_mallory.call("conversation:sync", {"conversationId": "new-one", "participants": [
        {"user": {"id": "mallory", "name": "Mallory M."}},
        {"user": {"id": "carol", "name": "Carol (hacked)", "email": ["mallory@evil.example"]}}]})
    assert answer == {"created": True}  # a new conversation, with existing users: allowed
    carol = api.get("users/carol").json()
    assert carol["name"] == "Carol" and carol["email"] == ["carol@example.com"]  # her data was not applied
    assert api.get("users/mallory").json()["name"] == "Mallory M."  # her own was
    unknown = await verified_mallory.call("conversation:sync", {"conversationId": "new-one", "participants": [
        {"user": {"id": "dave", "name": "Dave"}}]})
    assert unknown["error"]["code"] == "USER_SYNC_RESTRICTED" and api.get("users/dave").status_code == 404


async def test_a_verified_participant_may_still_change_her_conversation(verified_mallory, api):
    api.put("conversations/ours", json={"participants": ["mallory", "carol"]})
    answer = await verified_mallory.call("conversation:sync", {"conversationId": "ours", "attributes": {"subject": "Plans"},
                                                               "participants": [{"user": "42"}]})
    assert answer == {"created": False}
    assert api.get("conversations/ours").json()["subject"] == "Plans"
    assert "42" in api.get("conversations/ours").json()["participants"]


async def test_loose_verified_sync_restores_talkjs_behaviour(server, verified, verified_mallory, api):
    server.update_app(verified["appId"], looseVerifiedSync=True)
    answer = await verified_mallory.call("conversation:sync", {"conversationId": "private", "participants": [{"user": "mallory"}]})
    assert answer == {"created": False} and "mallory" in api.get("conversations/private").json()["participants"]


async def test_without_identity_verification_sync_is_as_before(server, tenant, api):
    api.put("users/42", json={"name": "Bob"})
    api.put("conversations/private", json={"participants": ["42"]})
    anyone = await connect(server, tenant["appId"], {"id": "eve", "name": "Eve"})
    answer = await anyone.call("conversation:sync", {"conversationId": "private", "participants": [{"user": "eve"}]})
    assert answer == {"created": False}  # the documented hazard of browser sync without verification
    await anyone.close()
