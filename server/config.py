"""Settings: the one place that reads the environment.

Everything else receives a `Settings` object (see `create_app(settings)`), so tests build
their own without touching `os.environ`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


class SettingsError(ValueError):
    """A PARLEY_* variable holds a value Parley cannot use."""


@dataclasses.dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///data/parley.db"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    redis_url: str | None = None
    public_url: str | None = None
    admin_password: str | None = dataclasses.field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            database_url=env.get("PARLEY_DATABASE_URL") or defaults.database_url,
            host=env.get("PARLEY_HOST") or defaults.host,
            port=_port(env.get("PARLEY_PORT"), defaults.port),
            log_level=_log_level(env.get("PARLEY_LOG_LEVEL"), defaults.log_level),
            redis_url=env.get("PARLEY_REDIS_URL") or None,
            public_url=(env.get("PARLEY_PUBLIC_URL") or "").rstrip("/") or None,
            admin_password=_admin_password(env.get("PARLEY_ADMIN_PASSWORD")),
        )

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def base_url(self) -> str:
        """The URL people reach this server at (for printed links and the embed snippet)."""
        return self.public_url or f"http://{self.host}:{self.port}"


def _port(raw: str | None, default: int) -> int:
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise SettingsError(f"PARLEY_PORT must be an integer, got {raw!r}") from None
    if not 0 <= port <= 65535:
        raise SettingsError(f"PARLEY_PORT must be between 0 and 65535, got {port}")
    return port


def _admin_password(raw: str | None) -> str | None:
    if raw and len(raw) < 10:
        raise SettingsError("PARLEY_ADMIN_PASSWORD must be at least 10 characters")
    return raw or None


def _log_level(raw: str | None, default: str) -> str:
    if not raw:
        return default
    level = raw.lower()
    if level not in LOG_LEVELS:
        raise SettingsError(f"PARLEY_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    return level
