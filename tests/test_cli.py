"""The `parley` command, run in-process and once as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from server.cli import main


@pytest.fixture
def db_env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("PARLEY_DATABASE_URL", url)
    return url


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_app_create_prints_app_id_and_secret(db_env, capsys):
    code, out, _ = run(capsys, "app", "create", "--name", "Shop")
    created = json.loads(out)
    assert code == 0 and set(created) == {"appId", "secretKey"} and created["secretKey"].startswith("sk_")
    code, out, _ = run(capsys, "app", "list")
    assert [a["appId"] for a in json.loads(out)] == [created["appId"]]
    assert "secretKey" not in out


def test_app_set_every_setting(db_env, capsys):
    run(capsys, "app", "create", "--name", "Shop", "--id", "shop")
    code, out, _ = run(
        capsys, "app", "set", "shop", "disallowUserSync=true", "disallowConversationSync=TRUE",
        "identityVerification=true", "participantLimit=5", "guestLimit=20",
        "allowedOrigins=https://shop.example.com,http://127.0.0.1:3000",
        "notificationDelay=900", "notificationLink=https://shop.example.com/chat/{conversationId}",
    )
    app = json.loads(out)
    assert (app["notificationDelay"], app["notificationLink"]) == (900, "https://shop.example.com/chat/{conversationId}")
    assert code == 0 and app["disallowUserSync"] and app["disallowConversationSync"] and app["identityVerification"]
    assert (app["participantLimit"], app["guestLimit"]) == (5, 20)
    assert app["allowedOrigins"] == ["https://shop.example.com", "http://127.0.0.1:3000"]


@pytest.mark.parametrize(
    ("pair", "says"),
    [
        ("colour=blue", "unknown setting 'colour'"),
        ("participantLimit=many", "participantLimit must be an integer"),
        ("guestLimit=-1", "guestLimit must be between"),
        ("disallowUserSync=maybe", "disallowUserSync must be true or false"),
        ("allowedOrigins=example.com", "is not an origin"),
        ("notificationDelay=901", "notificationDelay must be between 0 and 900 seconds"),
        ("notificationDelay=soon", "notificationDelay must be a whole number of seconds"),
        ("notificationLink=javascript:alert(1)", "notificationLink must be an http:// or https:// URL"),
        ("participantLimit", "expected key=value"),
    ],
)
def test_app_set_errors_are_one_line_and_change_nothing(db_env, capsys, pair, says):
    run(capsys, "app", "create", "--name", "Shop", "--id", "shop")
    code, out, err = run(capsys, "app", "set", "shop", "participantLimit=7", pair)
    assert code == 1 and out == "" and err.count("\n") == 1 and says in err and err.startswith("parley: error:")
    _, out, _ = run(capsys, "app", "list")
    assert json.loads(out)[0]["participantLimit"] == 100


def test_unknown_app_is_an_error(db_env, capsys):
    code, _, err = run(capsys, "app", "set", "nope", "guestLimit=3")
    assert code == 1 and "no app with id 'nope'" in err


def test_duplicate_app_id_is_an_error(db_env, capsys):
    run(capsys, "app", "create", "--name", "A", "--id", "same")
    code, _, err = run(capsys, "app", "create", "--name", "B", "--id", "same")
    assert code == 1 and "already exists" in err


def test_demo_is_idempotent(db_env, capsys):
    code, out, _ = run(capsys, "demo")
    first = json.loads(out)
    code2, out2, _ = run(capsys, "demo")
    assert code == code2 == 0 and json.loads(out2) == first
    assert first["appId"] == "demo" and first["users"] == ["123456", "654321", "456789"]


def test_bad_database_url_is_one_line(monkeypatch, capsys):
    monkeypatch.setenv("PARLEY_DATABASE_URL", "mysql://nope/db")
    code, _, err = run(capsys, "app", "list")
    assert code == 1 and "unsupported database URL" in err


def test_python_dash_m_server_runs(tmp_path):
    env = {**os.environ, "PARLEY_DATABASE_URL": f"sqlite:///{tmp_path}/m.db"}
    result = subprocess.run([sys.executable, "-m", "server", "app", "create", "--name", "M"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["appId"]


def test_serve_says_where_notification_emails_go():
    from server.cli import _email_line
    from server.config import Settings

    assert "development mailbox" in _email_line(Settings()) and "PARLEY_SMTP_URL" in _email_line(Settings())
    configured = Settings.from_env({"PARLEY_SMTP_URL": "smtp://user:secret@mail.example.com", "PARLEY_INBOUND_SMTP": "127.0.0.1:2525"})
    line = _email_line(configured)
    assert line == "Notification emails go through smtp://mail.example.com:587; replies by email on 127.0.0.1:2525"
    assert "secret" not in line
