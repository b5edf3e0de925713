"""Who may do what: the pure rules every interface shares."""

import pytest

from server.chat import access
from server.chat.errors import ChatError


def test_only_participants_read():
    access.require_reader(True, "c")
    with pytest.raises(ChatError) as caught:
        access.require_reader(False, "c")
    assert (caught.value.status, caught.value.code) == (403, "NOT_A_PARTICIPANT")


def test_sender_needs_read_write_access():
    access.require_sender("ReadWrite", "u", "c")
    with pytest.raises(ChatError) as caught:
        access.require_sender("Read", "u", "c")
    assert caught.value.code == "READ_ONLY_ACCESS"
    with pytest.raises(ChatError) as caught:
        access.require_sender(None, "u", "c")
    assert caught.value.code == "SENDER_NOT_PARTICIPANT"


def test_participant_limit():
    access.require_participant_room(current=98, adding=2, limit=100, conversation_id="c")
    access.require_participant_room(current=100, adding=0, limit=100, conversation_id="c")
    with pytest.raises(ChatError) as caught:
        access.require_participant_room(current=99, adding=2, limit=100, conversation_id="c")
    assert (caught.value.status, caught.value.code) == (409, "PARTICIPANT_LIMIT_REACHED")


def test_read_by_excludes_the_sender_and_those_behind():
    reads = [("alice", 5), ("bob", 4), ("carol", 9)]
    assert access.read_by(5, "alice", reads) == ["carol"]
    assert access.read_by(4, None, reads) == ["alice", "bob", "carol"]
