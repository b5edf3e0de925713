"""A small run of the benchmark harness (200 guests, short phases), so it cannot rot.

No timing assertions: figures vary with the machine. It checks that every stack ran, every
figure is there, and that nothing was lost or dropped.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("node") is None, reason="the load generator needs Node.js")
def test_quick_benchmark_runs_every_stack(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--history", "2000", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert set(report["stacks"]) == {"parley", "python-socketio", "websockets", "parley-lean"}
    for name, result in report["stacks"].items():
        assert "error" not in result, (name, result)
        assert result["burst"]["lost"] == 0 and result["rate"]["lost"] == 0, name
        assert result["drops"] == 0, name
        assert result["burst"]["deliveriesPerSecond"] > 0 and result["rate"]["latencyMs"]["p99"] is not None
    assert report["stacks"]["parley"]["ack"]["ackMs"]["count"] > 0
    assert report["history"]["messages"] == 2000 and report["history"]["p99Ms"] > 0
    assert "burst vs python-socketio" in done.stdout


@pytest.mark.skipif(shutil.which("node") is None, reason="the load generator needs Node.js")
def test_quick_cluster_benchmark_runs_one_two_and_the_storm(tmp_path, postgres_available, redis_url):
    out = tmp_path / "cluster.json"
    done = subprocess.run([sys.executable, "bench/cluster.py", "--quick", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = json.loads(out.read_text())["runs"]
    for name in ("one process", "two processes"):
        result = runs[name]
        assert "error" not in result, (name, result)
        assert result["burst"]["lost"] == 0 and result["rate"]["lost"] == 0 and result["drops"] == 0, name
    first, second = runs["two processes"]["cluster"]
    assert first["published"] > 0 and second["heard"] > 0  # the second process heard it over Redis
    storm = runs["storm"]["storm"]
    assert storm["back"] == storm["victims"] > 0 and storm["missing"] == 0 and storm["allCaughtUpSeconds"] is not None
    assert "burst, two vs one" in done.stdout and "reconnect storm" in done.stdout


def test_quick_notifications_benchmark_measures_sends_with_and_without_and_a_drain(tmp_path):
    out = tmp_path / "notifications.json"
    done = subprocess.run([sys.executable, "bench/notifications.py", "--quick", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    sends, drain = report["sends"], report["drain"]
    assert sends["withoutPerSecond"] > 0 and sends["withPerSecond"] > 0 and sends["ratio"] > 0
    assert drain["recipients"] == 100 and drain["perSecond"] > 0
