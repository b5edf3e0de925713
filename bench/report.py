"""The benchmark's table: every figure, and its ratio to stock python-socketio where it is a rate."""

from __future__ import annotations

from typing import Any

BASELINE = "python-socketio"


def _get(result: dict, path: str) -> Any:
    value: Any = result
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


ROWS = (
    ("time to connect all (s)", "connectSeconds", "{:.1f}"),
    ("server CPU-ms per connect + join", "connectCpuMsPerClient", "{:.2f}"),
    ("burst deliveries/s", "burst.deliveriesPerSecond", "{:,.0f}"),
    ("burst lost", "burst.lost", "{}"),
    ("burst latency p99 (ms)", "burst.latencyMs.p99", "{:,.0f}"),
    ("server CPU-s per 1,000 deliveries", "burst.cpuSecondsPer1000", "{:.4f}"),
    ("rate-phase p50 (ms)", "rate.latencyMs.p50", "{:.1f}"),
    ("rate-phase p95 (ms)", "rate.latencyMs.p95", "{:.1f}"),
    ("rate-phase p99 (ms)", "rate.latencyMs.p99", "{:.1f}"),
    ("rate-phase lost", "rate.lost", "{}"),
    ("connections dropped", "drops", "{}"),
    ("RSS per connection (KB)", "rssPerConnectionBytes", "{:.1f}", 1 / 1024),
    ("idle CPU (% of a core)", "idle.serverCoreFraction", "{:.1f}", 100),
    ("send ack p99 (ms)", "ack.ackMs.p99", "{:.1f}"),
    ("stalled visitor dropped at its cap", "stall.droppedAtCap", "{}"),
    ("  ...after (s)", "stall.droppedAfterSeconds", "{:.1f}"),
    ("  others' rate-phase p99 meanwhile (ms)", "stall.othersLatencyMs.p99", "{:.1f}"),
    ("  others lost meanwhile", "stall.othersLost", "{}"),
    ("  server RSS growth (MB)", "stall.serverRssGrowthBytes", "{:.1f}", 1 / 2**20),
)


def _cell(result: dict, path: str, fmt: str, scale: float) -> str:
    if "error" in result:
        return "error"
    value = _get(result, path)
    return "-" if value is None else fmt.format(value * scale)


def derive(result: dict) -> None:
    """Figures computed from the generator's raw ones."""
    if "connectServerCpuSeconds" in result and result.get("clients"):
        result["connectCpuMsPerClient"] = result["connectServerCpuSeconds"] * 1000 / result["clients"]


def print_table(report: dict) -> None:
    stacks = report["stacks"]
    for result in stacks.values():
        derive(result)
    names = list(stacks)
    clients = report["settings"].get("clients")
    print(f"\n{clients} clients in one room; {report['machine']['cpu']} ({report['machine']['cores']} cores)\n")
    print(f"{'':36}" + "".join(f"{n:>18}" for n in names))
    for label, path, fmt, *scale in ROWS:
        cells = [_cell(stacks[n], path, fmt, scale[0] if scale else 1) for n in names]
        print(f"{label:36}" + "".join(f"{c:>18}" for c in cells))
    base = _get(stacks.get(BASELINE, {}), "burst.deliveriesPerSecond")
    if base:
        ratios = [_get(stacks[n], "burst.deliveriesPerSecond") for n in names]
        print(f"{'burst vs python-socketio':36}" + "".join(f"{(r / base if r else 0):>17.1f}x" for r in ratios))
    for name, result in stacks.items():
        if "error" in result:
            print(f"\n{name}: {result['error']}")
    history = report.get("history")
    if history:
        print(f"\nlatest 50 of {history['messages']:,} messages: p50 {history['p50Ms']:.2f} ms, "
              f"p99 {history['p99Ms']:.2f} ms (server time, {history['runs']} runs)")


CLUSTER_ROWS = (
    ("time to connect all (s)", "connectSeconds", "{:.1f}"),
    ("burst deliveries/s", "burst.deliveriesPerSecond", "{:,.0f}"),
    ("burst lost", "burst.lost", "{}"),
    ("server CPU-s per 1,000 deliveries", "burst.cpuSecondsPer1000", "{:.4f}"),
    ("rate-phase p50 / p99 (ms)", "rate.latencyMs", "{p50:.1f} / {p99:.1f}"),
    ("rate-phase lost", "rate.lost", "{}"),
    ("send ack p99 (ms)", "ack.ackMs.p99", "{:.1f}"),
    ("RSS per connection (KB)", "rssPerConnectionBytes", "{:.1f}", 1 / 1024),
    ("Redis CPU-s, whole run", "redisCpuSeconds", "{:.2f}"),
    ("connections dropped", "drops", "{}"),
)


def print_cluster_table(report: dict) -> None:
    runs = report["runs"]
    names = [n for n in runs if n != "storm"]
    print(f"\n{report['settings']['clients']} guests in one room; {report['machine']['cpu']} ({report['machine']['cores']} cores)\n")
    print(f"{'':36}" + "".join(f"{n:>18}" for n in names))
    for label, path, fmt, *scale in CLUSTER_ROWS:
        cells = []
        for name in names:
            value = _get(runs[name], path)
            if "error" in runs[name]:
                cells.append("error")
            elif value is None:
                cells.append("-")
            elif isinstance(value, dict):
                cells.append(fmt.format(**value))
            else:
                cells.append(fmt.format(value * (scale[0] if scale else 1)))
        print(f"{label:36}" + "".join(f"{c:>18}" for c in cells))
    one, two = (_get(runs.get(n, {}), "burst.deliveriesPerSecond") for n in names[:2])
    if one and two:
        print(f"{'burst, two vs one':36}{'':>18}{two / one:>17.2f}x")
    storm = runs.get("storm", {}).get("storm")
    if storm:
        print(f"\nreconnect storm: {storm['victims']:,} guests of a killed process back in {storm['allBackSeconds']} s, "
              f"all {runs['storm']['clients']:,} holding all {storm['messages']} messages sent meanwhile after "
              f"{storm['allCaughtUpSeconds']} s; missing {storm['missing']}")
    for name, result in runs.items():
        if "error" in result:
            print(f"\n{name}: {result['error']}")
