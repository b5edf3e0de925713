"""`make bench`: Parley against stock python-socketio and bare websockets, same load, same run.

Each stack runs as its own process pinned to core 0 (`taskset`, where available); the Node load
generator (bench/loadgen.mjs, socket.io-client from widget/node_modules) runs pinned to core 1.
Every figure is printed as a table with ratios to the stock python-socketio baseline and written
as JSON to bench/results/. Only 127.0.0.1 is used; every phase is bounded in count and time.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import pathlib
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import httpx

BENCH = pathlib.Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
STACKS = ("parley", "python-socketio", "websockets", "parley-lean")
# "parley-lean": Parley again, its receivers a minimal client of the same protocol (loadgen.mjs):
# separates what the server does from what socket.io-client costs on the generator's one core.
SENDER = {"id": "bench-sender", "name": "Sender"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000, help="guests in the one room")
    parser.add_argument("--burst", type=int, default=20, help="messages sent back to back")
    parser.add_argument("--rate", type=float, default=2.0, help="messages per second in the rate phase")
    parser.add_argument("--rate-seconds", type=float, default=20.0)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--ack-rate", type=float, default=200.0, help="messages per second in the ack phase")
    parser.add_argument("--ack-seconds", type=float, default=5.0)
    parser.add_argument("--drain-timeout", type=float, default=60.0, help="seconds to wait for deliveries")
    parser.add_argument("--stacks", default=",".join(STACKS))
    parser.add_argument("--history", type=int, default=1_000_000, help="messages for the history check (0: skip)")
    parser.add_argument("--quick", action="store_true", help="a small run: 200 guests, short phases")
    parser.add_argument("--out", type=pathlib.Path, help="JSON output file (default: bench/results/<time>.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.burst, args.rate, args.rate_seconds = 200, 10, 5.0, 2.0
        args.idle_seconds, args.ack_rate, args.ack_seconds, args.drain_timeout = 1.0, 50.0, 1.0, 20.0
        args.history = min(args.history, 20_000)
    return args


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pinned(core: int, command: list[str]) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(core), *command]
    return command


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port} within {timeout} s")


@contextlib.contextmanager
def server_process(command: list[str], port: int, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(
        pinned(0, command), env=env, preexec_fn=raise_fd_limit, stdout=subprocess.DEVNULL, cwd=ROOT
    )
    try:
        wait_for_port(port, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# The app's rate limits, raised the same way: the sender sends far faster than a person.
BENCH_RATES = {key: "1000000/second" for key in ("messagesPerConnection", "messagesPerUser", "joinsPerConnection",
                                                  "connectionsPerAddress", "usersCreatedPerAddress", "restCallsPerApp")}


def parley_env(database: pathlib.Path) -> dict[str, str]:
    # Every client of the benchmark comes from 127.0.0.1: the per-address limits are raised explicitly.
    return {**os.environ, "PARLEY_DATABASE_URL": f"sqlite:///{database}", "PARLEY_LOG_LEVEL": "warning",
            "PARLEY_CONNECTIONS_PER_ADDRESS": "100000", "PARLEY_PACKETS_PER_SECOND": "100000"}


def prepare_parley(base_url: str, env: dict[str, str], clients: int) -> dict[str, str]:
    """The bench app, the sender, the room and a small conversation for the ack phase."""
    run = [sys.executable, "-m", "server"]
    created = json.loads(subprocess.run([*run, "app", "create", "--name", "bench"], env=env, check=True,
                                        capture_output=True, text=True, cwd=ROOT).stdout)
    rates = [f"{key}={value}" for key, value in BENCH_RATES.items()]
    subprocess.run([*run, "app", "set", created["appId"], f"guestLimit={clients + 10}", *rates], env=env, check=True,
                   capture_output=True, cwd=ROOT)
    headers = {"Authorization": f"Bearer {created['secretKey']}"}
    with httpx.Client(base_url=f"{base_url}/v1/{created['appId']}/", headers=headers, timeout=30) as api:
        api.put(f"users/{SENDER['id']}", json={"name": SENDER["name"]}).raise_for_status()
        for conversation in ("room", "acks", "stall"):
            api.put(f"conversations/{conversation}", json={"participants": [SENDER["id"]]}).raise_for_status()
        stall = prepare_stall(api)
    return {"appId": created["appId"], "conversationId": "room", "ackConversationId": "acks", "stall": stall}


def prepare_stall(api: httpx.Client) -> dict:
    """A conversation whose catch-up pages are as big as an answer may be (512 KiB): what a stalled
    visitor asks for, again and again, without reading."""
    ids = []
    for batch in range(12):
        body = [{"text": f"history {batch}-{i} " + "h" * 9000, "type": "SystemMessage"} for i in range(10)]
        ids += [m["id"] for m in api.post("conversations/stall/messages", json=body).raise_for_status().json()["data"]]
    return {"conversationId": "stall", "afterMessageId": ids[0], "requests": 30}


def run_loadgen(config: dict, timeout: float) -> dict:
    command = pinned(1, ["node", str(BENCH / "loadgen.mjs"), json.dumps(config)])
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, preexec_fn=raise_fd_limit)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def loadgen_config(args: argparse.Namespace, url: str, pid: int, mode: str, extra: dict) -> dict:
    return {
        "url": url, "serverPid": pid, "mode": mode, "clients": args.clients, "concurrency": 200,
        "burst": args.burst, "rate": args.rate, "rateSeconds": args.rate_seconds, "idleSeconds": args.idle_seconds,
        "ackRate": args.ack_rate, "ackSeconds": args.ack_seconds, "drainTimeoutMs": args.drain_timeout * 1000,
        "padding": 120, "sender": SENDER, "appId": "bench", "conversationId": "room", "maxSeconds": overall_limit(args),
        **extra,
    }


def overall_limit(args: argparse.Namespace) -> float:
    return 240 + args.idle_seconds + args.rate_seconds + args.ack_seconds + 3 * args.drain_timeout


def measure(stack: str, args: argparse.Namespace, workdir: pathlib.Path) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if stack.startswith("parley"):
        env = parley_env(workdir / f"{stack}.db")
        command = [sys.executable, "-m", "server", "serve", "--port", str(port)]
    else:
        env = dict(os.environ)
        script = "baseline_socketio.py" if stack == "python-socketio" else "baseline_websockets.py"
        command = [sys.executable, str(BENCH / script), str(port)]
    with server_process(command, port, env) as process:
        extra = prepare_parley(url, env, args.clients) if stack.startswith("parley") else {}
        extra["lean"] = stack == "parley-lean"
        mode = "ws" if stack == "websockets" else "socketio"
        return run_loadgen(loadgen_config(args, url, process.pid, mode, extra), overall_limit(args) + 30)


def measure_history(count: int, workdir: pathlib.Path) -> dict:
    command = [sys.executable, str(BENCH / "history.py"), str(workdir / "history.db"), str(count)]
    done = subprocess.run(pinned(0, command), capture_output=True, text=True, timeout=900, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"history benchmark failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report: dict = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                    "machine": machine(), "settings": {k: str(v) for k, v in vars(args).items()}, "stacks": {}}
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        for stack in args.stacks.split(","):
            print(f"measuring {stack} with {args.clients} clients...", file=sys.stderr, flush=True)
            try:
                report["stacks"][stack] = measure(stack, args, pathlib.Path(tmp))
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                report["stacks"][stack] = {"error": str(error)}
        if args.history:
            print(f"measuring the latest 50 of {args.history} messages...", file=sys.stderr, flush=True)
            report["history"] = measure_history(args.history, pathlib.Path(tmp))
    from bench.report import print_table

    print_table(report)
    write_report(report, args.out, "")
    return 0


def write_report(report: dict, out: pathlib.Path | None, prefix: str) -> None:
    """The JSON beside the printed table: `out`, or bench/results/<prefix><time>.json."""
    out = out or RESULTS / f"{prefix}{report['date'].replace(':', '')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
