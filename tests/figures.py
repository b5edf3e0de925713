"""Figures the probe tests measure, gathered in test-artifacts/probe-figures.json for the record."""

from __future__ import annotations

import json
import pathlib
import threading

FILE = pathlib.Path(__file__).resolve().parents[1] / "test-artifacts" / "probe-figures.json"
_lock = threading.Lock()


def record(name: str, value: object) -> None:
    with _lock:
        FILE.parent.mkdir(exist_ok=True)
        figures = json.loads(FILE.read_text()) if FILE.exists() else {}
        figures[name] = value
        FILE.write_text(json.dumps(figures, indent=2, sort_keys=True))
