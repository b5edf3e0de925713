"""The protocol and REST documentation cannot drift from the code.

- `docs/protocol.md` has one "### `event`" section per event: under "## Client to server" exactly the events
  the server registers handlers for, under "## Server to client" exactly the names `server.chat.events`
  defines (and nothing in `server/` emits a name that is not defined there).
- `docs/rest.md` has one "### `METHOD /v1/{appId}/…`" heading per route and method, no more.
- The JSON examples' top-level keys are the keys the servers of the test suite really sent (tests/traffic.py
  records them): checked last, after every other test ran.
"""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from server.chat import events
from server.chat.context import ChatContext
from server.db.database import Database
from server.realtime.handlers import RealtimeHandlers
from server.realtime.server import create_sio
from server.web import rest
from tests import traffic

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CLIENT_SECTION = "Client to server"
SERVER_SECTION = "Server to client"
EVENT_HEADING = re.compile(r"^### `([^`]+)`\s*$")
REST_HEADING = re.compile(r"^### `(GET|PUT|POST|PATCH|DELETE) (/v1/\S+)`\s*$")
FENCE = re.compile(r"^\s*(```|~~~)(\w*)")


def sections(text: str) -> dict[str, dict[str, list[str]]]:
    """Level-2 heading -> event name -> the lines of its "### `name`" section (code blocks kept)."""
    found: dict[str, dict[str, list[str]]] = {}
    level2: str | None = None
    event: str | None = None
    in_code = False
    for line in text.splitlines():
        fence = FENCE.match(line)
        if fence:
            in_code = not in_code
        elif not in_code and line.startswith("## "):
            level2, event = line[3:].strip(), None
            found.setdefault(level2, {})
        elif not in_code and line.startswith("### "):
            match = EVENT_HEADING.match(line)
            event = match.group(1) if match and level2 is not None else None
            if event is not None:
                assert event not in found[level2], f"docs/protocol.md documents {event!r} twice"
                found[level2][event] = []
            continue
        if event is not None and level2 is not None:
            found[level2][event].append(line)
    return found


def json_blocks(lines: list[str], after: str | None = None) -> list[dict]:
    """The JSON objects of a section's ```json blocks (those after a line starting with `after`, if given)."""
    blocks, current, started = [], None, after is None
    for line in lines:
        if not started and line.lstrip().startswith(after or ""):
            started = True
        fence = FENCE.match(line)
        if fence and current is None and fence.group(2) == "json":
            current = []
        elif fence and current is not None:
            if started:
                blocks.append(json.loads("\n".join(current)))
            current = None
        elif current is not None:
            current.append(line)
    return [block for block in blocks if isinstance(block, dict)]


@pytest.fixture(scope="module")
def protocol() -> dict[str, dict[str, list[str]]]:
    return sections((DOCS / "protocol.md").read_text(encoding="utf-8"))


def handled_events(tmp_path) -> set[str]:
    """What the server really answers: its registered handlers."""
    database = Database("sqlite:///" + str(tmp_path / "x.db"))
    try:
        sio = create_sio()
        RealtimeHandlers(sio, ChatContext(database))
        return set(sio.handlers["/"]) - {"connect", "disconnect", "*"}
    finally:
        database.close()


def test_client_events_are_exactly_the_documented_ones(protocol, tmp_path):
    documented, handled = set(protocol[CLIENT_SECTION]), handled_events(tmp_path)
    assert documented == handled, f"undocumented: {sorted(handled - documented)}, stale: {sorted(documented - handled)}"


def test_server_events_are_exactly_the_defined_ones(protocol):
    documented, defined = set(protocol[SERVER_SECTION]), set(events.SERVER_EVENTS)
    assert documented == defined, f"undocumented: {sorted(defined - documented)}, stale: {sorted(documented - defined)}"


def test_the_server_emits_only_defined_event_names():
    literal = re.compile(r"\.emit\(\s*[\"']")
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in (ROOT / "server").rglob("*.py")
                 for n, line in enumerate(path.read_text().splitlines(), 1) if literal.search(line)]
    assert offenders == [], f"emit a name from server.chat.events instead of a literal: {offenders}"


def camel_case_path(path: str) -> str:
    """`/v1/{app_id}/users/{user_id}` -> `/v1/{appId}/users/{userId}`, the spelling the docs use."""
    return re.sub(r"\{(\w+)\}", lambda m: "{" + re.sub(r"_(\w)", lambda c: c.group(1).upper(), m.group(1)) + "}", path)


def test_rest_headings_are_exactly_the_routes():
    lines = (DOCS / "rest.md").read_text(encoding="utf-8").splitlines()
    documented = [(m.group(1), m.group(2)) for line in lines if (m := REST_HEADING.match(line))]
    served = {(method, camel_case_path(route.path)) for route in rest.routes for method in route.methods - {"HEAD"}}
    assert len(documented) == len(set(documented)), "a REST heading appears twice"
    assert set(documented) == served, (f"undocumented: {sorted(served - set(documented))}, "
                                       f"stale: {sorted(set(documented) - served)}")


def _compare(kind: str, event: str, recorded: set[frozenset[str]], examples: list[dict]) -> list[str]:
    documented = set().union(*(set(block) for block in examples)) if examples else set()
    seen = set().union(*recorded)
    problems = []
    if seen - documented:
        problems.append(f"{kind} {event}: sent but not in the docs' examples: {sorted(seen - documented)}")
    if documented - seen and traffic.whole_suite:  # a subset of the tests need not send everything
        problems.append(f"{kind} {event}: in the docs' examples but never sent: {sorted(documented - seen)}")
    return problems


def test_payloads_match_the_traffic_of_the_suite(protocol):
    """Runs last (tests/conftest.py): the keys of every example are the keys the servers really sent."""
    if not traffic.server_events or not traffic.answers:
        pytest.skip("no traffic recorded: this check runs with the whole suite (make test)")
    problems = []
    for event, recorded in traffic.answers.items():
        problems += _compare("answer of", event, recorded, json_blocks(protocol[CLIENT_SECTION][event], after="Result"))
    for event, recorded in traffic.server_events.items():
        problems += _compare("event", event, recorded, json_blocks(protocol[SERVER_SECTION][event]))
    assert problems == [], "\n".join(problems)
