"""What the servers of the test suite really send, recorded for tests/test_protocol_docs.py: for each
server event and each client event's answer, the sets of top-level keys seen.

Installed for the whole session by tests/conftest.py (servers run in threads of the test process);
`parley serve` subprocesses are not recorded.
"""

from __future__ import annotations

import collections
import threading
from typing import Any

import socketio

from server.realtime.fanout import FanoutManager
from server.realtime.handlers import CLIENT_EVENTS

server_events: collections.defaultdict[str, set[frozenset[str]]] = collections.defaultdict(set)
answers: collections.defaultdict[str, set[frozenset[str]]] = collections.defaultdict(set)
_lock = threading.Lock()
whole_suite = False  # set by tests/conftest.py when every test module is collected


def _keys(value: Any) -> frozenset[str] | None:
    return frozenset(value) if isinstance(value, dict) else None


def install() -> None:
    emit = FanoutManager.emit
    trigger = socketio.AsyncServer._trigger_event

    async def recording_emit(self, event, data, namespace, *args, **kwargs):
        keys = _keys(data)
        if keys is not None:
            with _lock:
                server_events[event].add(keys)
        return await emit(self, event, data, namespace, *args, **kwargs)

    async def recording_trigger(self, event, namespace, *args):
        result = await trigger(self, event, namespace, *args)
        keys = _keys(result)
        if event in CLIENT_EVENTS and keys is not None and "error" not in keys:
            with _lock:
                answers[event].add(keys)
        return result

    FanoutManager.emit = recording_emit  # type: ignore[method-assign]
    socketio.AsyncServer._trigger_event = recording_trigger  # type: ignore[method-assign]
