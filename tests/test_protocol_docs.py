"""The protocol and REST documentation stay in step with the code.

`docs/protocol.md` has one "### `event`" section per Socket.IO event, under "## Client to server"
and "## Server to client"; `docs/rest.md` names every REST route.
"""

from __future__ import annotations

import pathlib
import re

import pytest

from server.chat.context import ChatContext
from server.db.database import Database
from server.realtime.handlers import CLIENT_EVENTS, SERVER_EVENTS, RealtimeHandlers
from server.realtime.server import create_sio
from server.web import rest

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
CLIENT_SECTION = "Client to server"
SERVER_SECTION = "Server to client"
EVENT_HEADING = re.compile(r"^### `([^`]+)`\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


def documented_events(text: str) -> dict[str, list[str]]:
    """Level-2 heading -> the event names of its "### `name`" headings (code blocks skipped)."""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    in_code = False
    for line in text.splitlines():
        if FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            continue
        if line.startswith("## "):
            current = line[3:].strip()
            sections.setdefault(current, [])
        elif current is not None and (match := EVENT_HEADING.match(line)):
            sections[current].append(match.group(1))
    return sections


def mismatch(kind: str, handled: set[str], documented: list[str]) -> str:
    duplicated = sorted({name for name in documented if documented.count(name) > 1})
    return (
        f"docs/protocol.md is out of step with the {kind} events: "
        f"undocumented={sorted(handled - set(documented))}, "
        f"stale (documented but not in the code)={sorted(set(documented) - handled)}, "
        f"documented twice={duplicated}"
    )


@pytest.fixture(scope="module")
def protocol_sections() -> dict[str, list[str]]:
    return documented_events((DOCS / "protocol.md").read_text(encoding="utf-8"))


def test_client_events_are_documented(protocol_sections):
    assert CLIENT_SECTION in protocol_sections, f'docs/protocol.md has no "## {CLIENT_SECTION}" heading'
    documented = protocol_sections[CLIENT_SECTION]
    handled = set(CLIENT_EVENTS)
    assert set(documented) == handled and len(documented) == len(handled), mismatch("client", handled, documented)


def test_server_events_are_documented(protocol_sections):
    assert SERVER_SECTION in protocol_sections, f'docs/protocol.md has no "## {SERVER_SECTION}" heading'
    documented = protocol_sections[SERVER_SECTION]
    sent = set(SERVER_EVENTS)
    assert set(documented) == sent and len(documented) == len(sent), mismatch("server", sent, documented)


def test_registered_handlers_are_the_client_events(tmp_path):
    """What the server really answers is CLIENT_EVENTS: nothing handled goes undocumented."""
    database = Database("sqlite:///" + str(tmp_path / "x.db"))
    try:
        sio = create_sio()
        RealtimeHandlers(sio, ChatContext(database))
        registered = set(sio.handlers["/"]) - {"connect", "disconnect", "*"}
    finally:
        database.close()
    assert registered == set(CLIENT_EVENTS), (
        f"handled but not in CLIENT_EVENTS: {sorted(registered - set(CLIENT_EVENTS))}; "
        f"in CLIENT_EVENTS but not handled: {sorted(set(CLIENT_EVENTS) - registered)}"
    )


def camel_case_path(path: str) -> str:
    """`/v1/{app_id}/users/{user_id}` -> `/v1/{appId}/users/{userId}`, the spelling the docs use."""
    return re.sub(r"\{(\w+)\}", lambda m: "{" + re.sub(r"_(\w)", lambda c: c.group(1).upper(), m.group(1)) + "}", path)


def test_rest_routes_are_documented():
    text = (DOCS / "rest.md").read_text(encoding="utf-8")
    missing = []
    for route in rest.routes:
        path = camel_case_path(route.path)
        if path not in text:
            missing.append(path)
        # every method too, as "METHOD /path" (HEAD is answered as GET and needs no entry)
        missing += [f"{m} {path}" for m in sorted(route.methods - {"HEAD"}) if f"{m} {path}" not in text]
    assert not missing, f"docs/rest.md does not document: {missing}"
