"""`make bench-cluster`: one super group served by 1 process vs 2 (Redis + PostgreSQL, same machine, same run),
and a reconnect storm (kill -9 one of two processes holding its share of the guests).

Both rows run on PostgreSQL and Redis, so the difference is what the split costs: each message is published once
on Redis and fanned out by each process to its own guests. The server processes share core 0 (the same CPU
budget as the single process) and the load generator (lean receivers, bench/loadgen.mjs) runs on core 1, so the
ratio shows the overhead of the split; the CPU per delivery says how it would scale with a core per process.
Only 127.0.0.1 is used: the machine's PostgreSQL (user postgres, trust) and Redis (a database of its own).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import pathlib
import subprocess
import sys
import uuid

import httpx

BENCH = pathlib.Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from bench.run import (free_port, loadgen_config, machine, parley_env, prepare_parley, run_loadgen,  # noqa: E402
                       server_process, write_report)

REDIS_DATABASE = 12


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--storm-clients", type=int, default=10_000, help="guests over two processes for the storm")
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--rate-seconds", type=float, default=20.0)
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument("--ack-rate", type=float, default=200.0)
    parser.add_argument("--ack-seconds", type=float, default=5.0)
    parser.add_argument("--drain-timeout", type=float, default=60.0)
    parser.add_argument("--quick", action="store_true", help="200 guests, short phases")
    parser.add_argument("--out", type=pathlib.Path)
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.storm_clients, args.burst, args.rate_seconds, args.idle_seconds = 200, 200, 5, 2.0, 1.0
        args.ack_seconds, args.drain_timeout = 1.0, 20.0
    return args


@contextlib.contextmanager
def fresh_database() -> str:
    import psycopg

    name = f"parley_bench_{uuid.uuid4().hex[:12]}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_redis() -> str:
    import redis

    url = f"redis://127.0.0.1:6379/{REDIS_DATABASE}"
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    return url


def redis_cpu_seconds() -> float:
    """CPU of the machine's redis-server (pub/sub and the scripts), to say where the time goes."""
    pid = subprocess.run(["pgrep", "-o", "redis-server"], capture_output=True, text=True).stdout.strip()
    if not pid:
        return 0.0
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()
    return (int(fields[11]) + int(fields[12])) / 100


def run_processes(count: int, clients: int, args: argparse.Namespace, phases: dict) -> dict:
    with fresh_database() as database_url, contextlib.ExitStack() as stack:
        env = {**parley_env(pathlib.Path("unused.db")), "PARLEY_DATABASE_URL": database_url, "PARLEY_REDIS_URL": fresh_redis()}
        ports = [free_port() for _ in range(count)]
        processes = [stack.enter_context(server_process([sys.executable, "-m", "server", "serve", "--port", str(port)], port, env))
                     for port in ports]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        extra = prepare_parley(urls[0], env, clients)
        extra.pop("stall")  # measured by `make bench`, on one process
        pids = [process.pid for process in processes]
        run_args = argparse.Namespace(**{**vars(args), "clients": clients})
        config = loadgen_config(run_args, urls[0], pids[0], "socketio", {**extra, "lean": True, "urls": urls, "serverPids": pids})
        config.update(phases)
        if "storm" in phases:
            config["storm"] = {**phases["storm"], "victimPid": pids[-1]}
            config.pop("ackConversationId", None)
            # Room for everyone twice: the killed process's slots are held until its lease lapses (15 s), and
            # this measures the reconnection, not the lease (with the room at its limit, guests wait for it).
            subprocess.run([sys.executable, "-m", "server", "app", "set", extra["appId"], f"guestLimit={2 * clients}"],
                           env=env, check=True, capture_output=True, cwd=ROOT)
        redis_before = redis_cpu_seconds()
        result = run_loadgen(config, 1800)
        result["redisCpuSeconds"] = redis_cpu_seconds() - redis_before
        result["processes"] = count
        result["cluster"] = [_cluster_report(url) for url in urls if "storm" not in phases]
        return result


def _cluster_report(url: str) -> dict:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"{url}/healthz", timeout=5).json().get("cluster", {})
    return {}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report: dict = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), "machine": machine(),
                    "settings": {k: str(v) for k, v in vars(args).items()}, "runs": {}}
    for name, count in (("one process", 1), ("two processes", 2)):
        print(f"measuring {args.clients} guests on {name}...", file=sys.stderr, flush=True)
        report["runs"][name] = run_processes(count, args.clients, args, {})
    print(f"reconnect storm: {args.storm_clients} guests on two processes, one killed...", file=sys.stderr, flush=True)
    storm = {"burst": 5, "rateSeconds": 2, "idleSeconds": 1, "storm": {"victim": 1, "messages": 10, "rate": 5}}
    report["runs"]["storm"] = run_processes(2, args.storm_clients, args, storm)
    from bench.report import print_cluster_table

    print_cluster_table(report)
    write_report(report, args.out, "cluster-")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
