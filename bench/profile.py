"""
Optional profiling (`--profile`): py-spy samples the gateway during a workload's measured phase,
and the collapsed stacks are summarised into the functions that cost the most.

py-spy reads the gateway's memory from outside (no code in the gateway, no restart); it is not a
dependency of the project: `pip install py-spy` into the venv. It samples in non-blocking mode
(the gateway is never paused), but py-spy itself needs CPU on a 2-core machine, so a profiled
run's throughput is not a benchmark figure.

Two modes:
- "threads" (default): every thread that is not idle, including threads waiting for the GIL (a
  function that releases the GIL, e.g. os.urandom or a file write, then shows the wait to get it
  back: latency, not CPU) and SQLite working in the reader/writer threads without the GIL;
- "gil": only the thread holding the GIL (py-spy --gil): where the Python CPU time goes, without
  GIL waits, but also without C code that runs GIL-free (SQLite's statement steps).

Summary, over all samples:
- "self": the function at the top of the stack (where the CPU was);
- "inclusive": stacks the function appears in at all (what it and its callees cost).
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

_REPO = str(Path(__file__).resolve().parents[1]) + "/"  # shown as gateway/..., bench/...
# Frames every sample of the event loop passes through: not informative as inclusive time.
_ENTRY_POINTS = ("gateway/cli.py", "gateway/serve.py", "gateway/__main__.py")
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*)(?::\d+)?\)$")


def py_spy() -> str | None:
    """The py-spy executable: next to this Python (the venv) or on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Sampler:
    """`py-spy record` of some pids from start() to stop(), writing collapsed stacks to `out`."""

    def __init__(self, pids: list[int], out: Path, *, rate: int = 1000, gil_only: bool = False) -> None:
        self.out = out
        self._argv = [
            py_spy() or "py-spy", "record", "--format", "raw", "--rate", str(rate),
            "--output", str(out), "--nonblocking", "--pid", str(pids[0]),
        ]  # fmt: skip
        if len(pids) > 1:
            self._argv.append("--subprocesses")
        if gil_only:
            self._argv.append("--gil")
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(self._argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            _, err = self._process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            _, err = self._process.communicate()
        if not self.out.exists():
            print(f"bench: py-spy wrote no profile: {err.decode(errors='replace')[-500:]}", file=sys.stderr)


def summarise(collapsed: Path, *, top: int = 15) -> dict:
    """
    Shares of all samples: top functions by self time; the project's own functions (gateway/,
    bench/) by inclusive time; and self time grouped by component (asyncio, aiohttp, structlog,
    gateway/web, ...: the first folder of the function's file).
    """
    self_counts: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    components: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [f for f in (_name(f) for f in stack.split(";")) if f is not None]
        if not frames:
            continue
        self_counts[frames[-1]] += count
        components[_component(frames[-1])] += count
        for name in set(frames):
            where = name.rsplit(" (", 1)[-1]
            if where.startswith(("gateway/", "bench/")) and not where.startswith(_ENTRY_POINTS):
                inclusive[name] += count

    def rows(counter: Counter[str], key: str = "function") -> list[dict]:
        return [{key: name, "share": round(n / total, 4), "samples": n} for name, n in counter.most_common(top)]

    return {
        "samples": total,
        "self": rows(self_counts),
        "inclusive_project": rows(inclusive),
        "self_by_component": rows(components, "component"),
    }


def _component(function: str) -> str:
    """'X (stdlib/asyncio/events.py)' -> 'asyncio'; 'Y (gateway/web/users.py)' -> 'gateway/web'."""
    path = function.rsplit(" (", 1)[-1].rstrip(")")
    parts = path.split("/")
    if parts[0] == "stdlib":
        parts = parts[1:]
    if parts[0] in ("gateway", "bench") and len(parts) > 2:
        return "/".join(parts[:2])
    return parts[0].removesuffix(".py") if parts else path


def _name(frame: str) -> str | None:
    """'handle_request (gateway/web/middlewares.py:27)' -> 'handle_request (gateway/web/middlewares.py)'."""
    match = _FRAME.match(frame.strip())
    if match is None:
        return None if frame.startswith(("process ", "thread ")) else frame.strip()
    path = match["file"]
    for marker in ("/site-packages/", "/lib/python3.", _REPO):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "/lib/python3.":
                path = "stdlib/" + path.split("/", 1)[1]
            break
    return f"{match['func']} ({path})"
