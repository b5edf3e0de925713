"""Parsing client input: pure functions, no server."""

import pytest

from server.chat import validation as v
from server.chat.errors import InvalidInput, TooLarge


def test_parse_user_keeps_only_sent_fields():
    assert v.parse_user({"name": "A", "photoUrl": None}, "1") == {"name": "A", "photo_url": None}


def test_parse_user_accepts_email_as_string_or_list():
    assert v.parse_user({"email": "a@x"}, "1")["email"] == ["a@x"]
    assert v.parse_user({"email": ["a@x", "b@x"]}, "1")["email"] == ["a@x", "b@x"]
    assert v.parse_user({"email": None}, "1")["email"] is None


def test_parse_user_refuses_id_mismatch_and_unknown_fields():
    with pytest.raises(InvalidInput, match="does not match"):
        v.parse_user({"id": "2"}, "1")
    with pytest.raises(InvalidInput, match="'nickname'") as caught:
        v.parse_user({"nickname": "x"}, "1")
    assert caught.value.code == "UNKNOWN_FIELD"


def test_numeric_ids_become_strings():
    assert v.parse_id(123456, "id") == "123456"
    with pytest.raises(InvalidInput):
        v.parse_id(True, "id")
    with pytest.raises(InvalidInput):
        v.parse_id("", "id")
    with pytest.raises(InvalidInput):
        v.parse_id("x" * 256, "id")


def test_custom_null_deletes_a_key_and_null_object_clears():
    assert v.merge_custom({"a": "1", "b": "2"}, {"a": None, "c": "3"}) == {"b": "2", "c": "3"}
    assert v.merge_custom({"a": "1"}, None) == {}


def test_custom_is_bounded():
    with pytest.raises(TooLarge):
        v.custom_changes({str(i): "x" for i in range(51)})
    with pytest.raises(TooLarge):
        v.merge_custom({str(i): "x" for i in range(50)}, {"new": "y"})
    with pytest.raises(InvalidInput, match="custom.k"):
        v.custom_changes({"k": 1})


def test_parse_participation():
    assert v.parse_participation({"access": "Read", "notify": False}) == {"access": "Read", "notify": "false"}
    assert v.parse_participation({"notify": "MentionsOnly"}) == {"notify": "MentionsOnly"}
    assert v.parse_participation(None) == {}
    for bad in ({"access": "Owner"}, {"notify": 1}, {"notify": "yes"}, {"notify": []}, {"notify": {}}):
        with pytest.raises(InvalidInput):
            v.parse_participation(bad)


def test_parse_message_batch_limits():
    one = {"text": "hi", "sender": "1", "type": "UserMessage"}
    assert len(v.parse_message_batch([one] * 10)) == 10
    with pytest.raises(InvalidInput) as caught:
        v.parse_message_batch([one] * 11)
    assert caught.value.code == "BATCH_TOO_LARGE"
    with pytest.raises(InvalidInput):
        v.parse_message_batch([])


def test_message_text_limit_is_413():
    with pytest.raises(TooLarge) as caught:
        v.parse_message_text("x" * 10_001)
    assert caught.value.status == 413


def test_system_message_has_no_sender():
    parsed = v.parse_new_message({"text": "Welcome", "type": "SystemMessage"})
    assert parsed["type"] == "SystemMessage" and "sender" not in parsed
    with pytest.raises(InvalidInput, match="no sender"):
        v.parse_new_message({"text": "x", "type": "SystemMessage", "sender": "1"})


@pytest.mark.parametrize("raw", ["0", "101", "-1", "ten"])
def test_parse_limit_refuses_out_of_range(raw):
    with pytest.raises(InvalidInput):
        v.parse_limit(raw)


def test_parse_limit_default():
    assert v.parse_limit(None) == 30 and v.parse_limit("100") == 100
