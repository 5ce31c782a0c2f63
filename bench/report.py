"""
Results: statistics of one measured phase, the JSON document, and the Markdown tables.

Figures per workload (one measured phase):
- requests/s: HTTP requests answered per second of the measured phase (all of them, errors too);
- p50/p95/p99: latency in ms, from just before the request is sent to the last body byte, as the
  client sees it (so it includes queueing in the gateway at the given concurrency);
- errors: requests that got no answer or a non-2xx status, or whose answer was wrong (a lookup
  that did not find the user, a pre-create filter that found one, a create that was not 201);
  the empty filter answers entra-initial-sync expects are not errors;
- gateway CPU %: CPU time of the gateway process(es), all threads, per second of wall time
  (100 % = one core busy); client CPU % likewise for the load generator: near 100 % means the
  client, not the gateway, was the limit;
- others CPU %: CPU the rest of the machine used during the phase (anything but the gateway and
  the client): more than a few % means the figures were disturbed;
- peak RSS: VmHWM of the gateway process(es), reset at the start of the measured phase;
- backend calls / op (brig mode): the brig and galley calls brig-lite received during the measured
  phase, divided by the SCIM requests answered in it (each request is one SCIM operation); brig-lite's
  own CPU is in the JSON as backend CPU % and is not counted as "others";
- % of ceiling: requests/s divided by the ceiling's requests/s (same workers, client, concurrency;
  with --ceiling-beside, the ceiling measured right before that workload); and the same per
  gateway CPU-second, which stays fair when the client limited the ceiling.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from bench.loadgen import LoadOutcome
from bench.wrk import WrkOutcome


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _latency_summary(latencies: list[float], wall: float) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "requests_per_s": round(len(ordered) / wall, 1) if wall > 0 else 0.0,
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 2),
        "p95_ms": round(percentile(ordered, 0.95) * 1000, 2),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
    }


def summarise(outcome: LoadOutcome) -> dict[str, Any]:
    """One workload's measured phase as a JSON-ready dict (see the module docstring)."""
    everything: list[float] = []
    for stats in outcome.labels.values():
        everything.extend(stats.latencies)
    wall = outcome.wall
    result = _latency_summary(everything, wall)
    result.update(
        operations=outcome.operations,
        duration_s=round(wall, 3),
        errors=sum(s.errors for s in outcome.labels.values()),
        statuses=_statuses(outcome.labels.values()),
        error_samples=[m for s in outcome.labels.values() for m in s.samples][:5],
        client_cpu_pct=round(100 * outcome.client_cpu / wall, 1) if wall > 0 else None,
    )
    if len(outcome.labels) > 1:
        result["by_request"] = {
            label: {**_latency_summary(list(s.latencies), wall), "errors": s.errors,
                    "statuses": _statuses([s])}
            for label, s in outcome.labels.items()
        }  # fmt: skip
    _add_hook_figures(result, outcome.hooks, wall, outcome.client_cpu)
    return result


def summarise_wrk(outcome: WrkOutcome) -> dict[str, Any]:
    """A measured wrk run (bench/wrk.py) as the same JSON-ready dict as `summarise`."""
    stats = outcome.stats
    wall = stats["duration_us"] / 1e6
    transport = {k: stats[k] for k in ("connect", "read", "write", "timeout")}
    errors = sum(transport.values()) + stats["status"] + stats["failed_checks"]
    samples = [f"{kind} errors: {n}" for kind, n in transport.items() if n]
    if stats["status"]:
        samples.append(f"non-2xx/3xx answers: {stats['status']}")
    if stats["failed_checks"]:
        samples.append(f"failed checks: {stats['failed_checks']}, e.g. {stats['check_sample'][:200]!r}")
    result: dict[str, Any] = {
        "requests": stats["requests"],
        "requests_per_s": round(stats["requests"] / wall, 1) if wall > 0 else 0.0,
        "p50_ms": round(stats["p50_us"] / 1000, 2),
        "p95_ms": round(stats["p95_us"] / 1000, 2),
        "p99_ms": round(stats["p99_us"] / 1000, 2),
        "operations": stats["requests"],
        "duration_s": round(wall, 3),
        "errors": errors,
        "error_samples": samples,
        "client_cpu_pct": round(100 * outcome.client_cpu / outcome.hook_wall, 1) if outcome.hook_wall > 0 else None,
        "loadgen": "wrk",
        "wrk": stats,
    }
    # the gateway's CPU and the machine's were read around the whole wrk process: use that window
    _add_hook_figures(result, outcome.hooks, outcome.hook_wall, outcome.client_cpu)
    return result


def _add_hook_figures(result: dict[str, Any], hooks: dict[str, Any], wall: float, client_cpu: float) -> None:
    """The gateway's CPU %, others' CPU %, peak RSS (and brig-lite's figures) from on_go/on_done."""
    go, done = hooks.get("go") or {}, hooks.get("done") or {}
    if "cpu" in go and "cpu" in done:
        result["gateway_cpu_pct"] = round(100 * (done["cpu"] - go["cpu"]) / wall, 1)
    backend_cpu = 0.0
    if "backend_calls" in go and "backend_calls" in done:  # brig mode: brig-lite's count and CPU
        calls = done["backend_calls"] - go["backend_calls"]
        backend_cpu = done["backend_cpu"] - go["backend_cpu"]
        result["backend_calls"] = calls
        result["backend_calls_per_op"] = round(calls / result["requests"], 2) if result["requests"] else None
        result["backend_cpu_pct"] = round(100 * backend_cpu / wall, 1) if wall > 0 else None
    if "db_cpu" in go and "db_cpu" in done:  # --store postgres: the PostgreSQL server's processes
        db_cpu = done["db_cpu"] - go["db_cpu"]
        backend_cpu += db_cpu
        result["db_server_cpu_pct"] = round(100 * db_cpu / wall, 1) if wall > 0 else None
    if "machine_busy" in go and "machine_busy" in done:
        # CPU the rest of the machine used meanwhile (other sessions, py-spy, ...): a noisy-run flag
        busy = done["machine_busy"] - go["machine_busy"]
        gateway = (done["cpu"] - go["cpu"]) if "cpu" in go and "cpu" in done else 0.0
        others = busy - gateway - backend_cpu - client_cpu
        result["others_cpu_pct"] = round(max(0.0, 100 * others / wall), 1)
    if done.get("rss"):
        peaks = [v for v in done["rss"].values() if v is not None]
        result["gateway_peak_rss_mb"] = round(max(peaks), 1) if peaks else None
        result["gateway_peak_rss_total_mb"] = round(sum(peaks), 1) if peaks else None
        result["rss_reset_per_workload"] = bool(go.get("rss_reset"))


def _statuses(stats: Any) -> dict[str, int]:
    merged: dict[str, int] = {}
    for s in stats:
        for status, n in s.statuses.items():
            merged[str(status)] = merged.get(str(status), 0) + n
    return dict(sorted(merged.items()))


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import aiohttp

    try:
        git = {"capture_output": True, "text": True, "cwd": Path(__file__).parent, "timeout": 5}
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], **git).stdout.strip() or None
        # uncommitted changes to the gateway mean the numbers are not exactly that commit's
        if commit and subprocess.run(["git", "status", "--porcelain", "--", "../gateway"], **git).stdout.strip():
            commit += " + uncommitted gateway changes"
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "sqlite": sqlite3.sqlite_version,
        "kernel": platform.release(),
        "commit": commit,
        "wrk": _wrk_version(),
    }


def _wrk_version() -> str | None:
    """wrk's first line of `--version` (e.g. "wrk debian/4.1.0-3+b2 [epoll] ..."), None without wrk."""
    try:
        shown = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    first = (shown.stdout or shown.stderr).strip().splitlines()
    return first[0].split(" Copyright")[0].strip() if first else None


# --- derived figures ---------------------------------------------------------------------------


def add_derived(doc: dict[str, Any]) -> None:
    """% of ceiling per workload, and each workload's cost at each scale vs the smallest scale."""
    ceilings = doc.get("ceiling", {})
    for run in doc["runs"]:
        run_ceiling = ceilings.get(str(run["workers"])) if run["workers"] is not None else ceilings.get("1")
        for result in run["results"].values():
            ceiling = result.get("ceiling_beside") or run_ceiling  # measured right before it, if it was
            if not ceiling or not ceiling.get("requests_per_s"):
                continue
            result["pct_of_ceiling"] = round(100 * result["requests_per_s"] / ceiling["requests_per_s"], 1)
            if ceiling is not run_ceiling and run_ceiling and run_ceiling.get("requests_per_s"):
                result["pct_of_run_ceiling"] = round(100 * result["requests_per_s"] / run_ceiling["requests_per_s"], 1)
            own, theirs = result.get("gateway_cpu_pct"), ceiling.get("gateway_cpu_pct")
            if own and theirs:  # requests per CPU-second, gateway vs ceiling
                result["pct_of_ceiling_per_cpu"] = round(
                    100 * (result["requests_per_s"] / own) / (ceiling["requests_per_s"] / theirs), 1
                )
    doc["scaling"] = _scaling(doc["runs"])


def _scaling(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per worker count: each workload's time per request at each scale / at the smallest scale."""
    out: dict[str, Any] = {}
    for workers in sorted({r["workers"] for r in runs if r["workers"] is not None}):
        by_scale = sorted((r for r in runs if r["workers"] == workers), key=lambda r: r["scale"])
        if len(by_scale) < 2:
            continue
        base = by_scale[0]
        table: dict[str, Any] = {"scales": [r["scale"] for r in by_scale], "workloads": {}, "peak_rss_mb": []}
        for name, first in base["results"].items():
            ratios = []
            for run in by_scale:
                result = run["results"].get(name)
                if not result or not result["requests_per_s"] or not first["requests_per_s"]:
                    ratios.append(None)
                    continue
                ratios.append({
                    "cost": round(first["requests_per_s"] / result["requests_per_s"], 2),
                    "p50": round(result["p50_ms"] / first["p50_ms"], 2) if first["p50_ms"] else None,
                })  # fmt: skip
            table["workloads"][name] = ratios
        for run in by_scale:
            peaks = [r.get("gateway_peak_rss_mb") for r in run["results"].values()]
            peaks = [p for p in peaks if p is not None]
            table["peak_rss_mb"].append(max(peaks) if peaks else None)
        out[str(workers)] = table
    return out


# --- output ------------------------------------------------------------------------------------


def write_json(doc: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")


def _n(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def markdown(doc: dict[str, Any]) -> str:
    lines: list[str] = []
    header = ("| scale | workers | workload | req/s | p50 ms | p95 ms | p99 ms | errors | "
              "gateway CPU % | client CPU % | others CPU % | peak RSS MB | backend calls / op | "
              "% of ceiling | % of ceiling per CPU-s |")  # fmt: skip
    lines += [header, "|" + "---|" * (header.count("|") - 1)]
    for workers, ceiling in sorted(doc.get("ceiling", {}).items()):
        lines.append(_row("–", workers, "ceiling (minimal aiohttp)", ceiling))
    for run in doc["runs"]:
        workers = run["workers"] if run["workers"] is not None else "?"
        scale = f"{run['scale']:,}" + (" (brig)" if run.get("backend") == "brig" else "") + (" (PostgreSQL)" if run.get("store") == "postgres" else "")
        for name, result in run["results"].items():
            if result.get("ceiling_beside"):
                lines.append(_row("", workers, f"ceiling, right before {name}", result["ceiling_beside"]))
            lines.append(_row(scale, workers, name, result))
            for label, sub in (result.get("by_request") or {}).items():
                lines.append(_row("", "", f"  ↳ {label}", sub, sub_row=True))
    for workers, table in sorted(doc.get("scaling", {}).items()):
        lines += ["", f"Time per request relative to {table['scales'][0]:,} users (workers: {workers}; "
                  "1.00 = same cost; p50 ratio in brackets):", ""]  # fmt: skip
        lines.append("| workload | " + " | ".join(f"{s:,}" for s in table["scales"]) + " |")
        lines.append("|---|" + "---|" * len(table["scales"]))
        for name, ratios in table["workloads"].items():
            cells = ["–" if r is None else f"{r['cost']:.2f} ({_n(r['p50'], 2)})" for r in ratios]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("| peak RSS MB | " + " | ".join(_n(v) for v in table["peak_rss_mb"]) + " |")
    return "\n".join(lines) + "\n"


def _row(scale: str, workers: Any, name: str, r: dict[str, Any], *, sub_row: bool = False) -> str:
    cells = [
        scale, str(workers), name, _n(r.get("requests_per_s")), _n(r.get("p50_ms"), 2),
        _n(r.get("p95_ms"), 2), _n(r.get("p99_ms"), 2), _n(r.get("errors")),
        "" if sub_row else _n(r.get("gateway_cpu_pct")), "" if sub_row else _n(r.get("client_cpu_pct")),
        "" if sub_row else _n(r.get("others_cpu_pct")),
        "" if sub_row else _n(r.get("gateway_peak_rss_mb")),
        "" if sub_row else _n(r.get("backend_calls_per_op"), 2),
        "" if sub_row else _n(r.get("pct_of_ceiling")), "" if sub_row else _n(r.get("pct_of_ceiling_per_cpu")),
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def profile_markdown(name: str, summary: dict[str, Any], *, top: int = 12) -> str:
    """Three small tables: self time by function, by component, inclusive time of project code."""
    def table(title: str, rows: list[dict], key: str) -> list[str]:
        out = [f"| {title} | % of samples |", "|---|---|"]
        out += [f"| {r[key]} | {100 * r['share']:.1f} |" for r in rows[:top]]
        return out + [""]

    lines = [f"py-spy, {name}: {summary['samples']:,} samples", ""]
    lines += table("self time: function", summary["self"], "function")
    lines += table("self time: component", summary["self_by_component"], "component")
    lines += table("inclusive time: gateway function", summary["inclusive_project"], "function")
    return "\n".join(lines)
