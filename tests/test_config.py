"""Settings come from PARLEY_* variables, read in one place."""

import pathlib
import re

import pytest

from server.config import Settings, SettingsError


def test_defaults():
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///data/parley.db"
    assert (settings.host, settings.port, settings.log_level, settings.redis_url) == ("127.0.0.1", 8000, "info", None)
    assert settings.base_url == "http://127.0.0.1:8000"


def test_every_variable_is_read():
    env = {
        "PARLEY_DATABASE_URL": "postgresql://127.0.0.1/parley",
        "PARLEY_HOST": "0.0.0.0",
        "PARLEY_PORT": "9000",
        "PARLEY_LOG_LEVEL": "DEBUG",
        "PARLEY_REDIS_URL": "redis://127.0.0.1:6379/0",
        "PARLEY_PUBLIC_URL": "https://chat.example.com/",
    }
    settings = Settings.from_env(env)
    assert settings.database_url == "postgresql://127.0.0.1/parley"
    assert (settings.host, settings.port, settings.log_level) == ("0.0.0.0", 9000, "debug")
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.base_url == "https://chat.example.com"


@pytest.mark.parametrize(("name", "value"), [
    ("PARLEY_PORT", "http"), ("PARLEY_PORT", "70000"), ("PARLEY_LOG_LEVEL", "loud"),
    ("PARLEY_SQLITE_SYNCHRONOUS", "off"), ("PARLEY_TRUSTED_PROXIES", "10.0.0.1, proxy.example"),
    ("PARLEY_PACKETS_PER_SECOND", "0"), ("PARLEY_CONNECTIONS_PER_ADDRESS", "many"), ("PARLEY_PING_INTERVAL", "-5"),
    ("PARLEY_WS_BACKLOG_BYTES", "1e6"),
])
def test_bad_values_name_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_hardening_variables_are_read():
    settings = Settings.from_env({"PARLEY_SQLITE_SYNCHRONOUS": "FULL", "PARLEY_TRUSTED_PROXIES": "10.0.0.0/8, ::1",
                                  "PARLEY_CONNECTIONS_PER_ADDRESS": "5", "PARLEY_PING_INTERVAL": "10"})
    assert settings.sqlite_synchronous == "full" and [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8", "::1/128"]
    assert (settings.connections_per_address, settings.ping_interval) == (5, 10)


def test_every_variable_is_documented_in_the_readme():
    root = pathlib.Path(__file__).resolve().parent.parent
    source = (root / "server/config.py").read_text()
    readme = (root / "README.md").read_text()
    variables = set(re.findall(r'"(PARLEY_[A-Z_]+)"', source))
    assert variables and not {v for v in variables if v not in readme}


def test_every_variable_the_server_reads_is_in_the_readme():
    """The README's configuration table and config.py name the same PARLEY_* variables."""
    root = pathlib.Path(__file__).resolve().parents[1]
    read = set(re.findall(r'"(PARLEY_[A-Z_]+)"', (root / "server" / "config.py").read_text()))
    table = set(re.findall(r"^\| `(PARLEY_[A-Z_]+)` \|", (root / "README.md").read_text(), re.MULTILINE))
    assert read == table, f"undocumented: {sorted(read - table)}, stale: {sorted(table - read)}"


def test_malformed_notification_settings_name_the_variable():
    for name, value in (("PARLEY_SMTP_URL", "smtp://"), ("PARLEY_SMTP_URL", "http://mail.example.com"),
                        ("PARLEY_INBOUND_SMTP", "2525"), ("PARLEY_SMS_WEBHOOK_URL", "gateway.example.com/sms"),
                        ("PARLEY_NOTIFICATION_RETRY_SECONDS", "0"), ("PARLEY_EMAIL_FROM", "notifications"),
                        ("PARLEY_REPLY_DOMAIN", "replies example.com")):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: value})


def test_smtp_urls():
    from server.notify.targets import parse_smtp_url

    plain = parse_smtp_url("smtp://mailer%40shop:p%3Ass@mail.example.com")
    assert (plain.host, plain.port, plain.use_tls, plain.username, plain.password) == ("mail.example.com", 587, False, "mailer@shop", "p:ss")
    tls = parse_smtp_url("smtps://mail.example.com?verify=false")
    assert (tls.port, tls.use_tls, tls.verify_certificates) == (465, True, False)
    assert "p:ss" not in repr(plain)


def test_the_from_address_may_carry_a_display_name_and_secrets_stay_out_of_messages():
    assert Settings.from_env({"PARLEY_EMAIL_FROM": "Acme <noreply@acme.example>"}).email_from == "noreply@acme.example"
    assert Settings.from_env({"PARLEY_REPLY_DOMAIN": "Replies.Example.com."}).reply_domain == "replies.example.com"
    with pytest.raises(SettingsError) as bad:
        Settings.from_env({"PARLEY_SMS_WEBHOOK_URL": "ftp://gateway.example.com/send?token=s3cret"})
    assert "s3cret" not in str(bad.value) and "ftp://gateway.example.com" in str(bad.value)
