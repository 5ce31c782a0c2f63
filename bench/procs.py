"""
The server processes the bench starts, and what /proc says about any process.

- `start_gateway`: `python -m gateway serve --config <tmp config>`, pinned with `taskset -c 0` when
  it has one worker (and the machine has a second core for the client); with `listen.workers` > 1
  the gateway's own supervisor starts the workers, unpinned.
- `start_ceiling`: `python -m bench.ceiling`, pinned the same way.
- `start_brig_lite` (brig mode): `python -m gateway brig-lite --config <tmp config>`, pinned to the
  gateway's core (the client keeps core 1 to itself), with a zero-delay fault rule on every route
  so that `backend_calls` can read how many brig and galley calls it has received.
- CPU seconds (utime + stime of all threads), the whole machine's busy CPU seconds (to see how
  much other processes took during a measurement), peak RSS (VmHWM), resetting VmHWM between workloads
  (`/proc/<pid>/clear_refs` = 5), and a process's descendants (a gateway's workers).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

SERVER_CPU = 0  # the core a single-process server is pinned to
CLIENT_CPUS = (1,)  # the cores the load generator is pinned to
_TICKS = os.sysconf("SC_CLK_TCK")
REPO = Path(__file__).resolve().parents[1]  # the checkout the bench runs from


def can_pin() -> bool:
    """Pinning needs taskset and cores 0 and 1 available to us."""
    return shutil.which("taskset") is not None and {SERVER_CPU, *CLIENT_CPUS} <= os.sched_getaffinity(0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A started server process (and, with workers, its children)."""

    name: str
    process: subprocess.Popen
    base_url: str
    log_path: Path
    pinned: bool

    @property
    def pid(self) -> int:
        return self.process.pid

    def pids(self) -> list[int]:
        """The process and its descendants (a gateway supervisor's workers)."""
        return [self.pid, *descendants(self.pid)]

    def wait_ready(self, ready_path: str, *, workers: int, timeout: float = 120.0) -> None:
        """Until `ready_path` answers 200 and all `workers` processes are up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            if _answers(self.base_url + ready_path) and (workers == 1 or len(descendants(self.pid)) >= workers):
                if workers > 1:  # let every worker bind and open its store before the load starts
                    time.sleep(1.0)
                    for _ in range(4 * workers):
                        _answers(self.base_url + ready_path)
                return
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready after {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for pid in reversed(self.pids()):
                    _kill(pid)
                self.process.wait(timeout=10)


def write_gateway_config(path: Path, *, port: int, workers: int, db: Path, log_level: str,
                         brig_url: str | None = None, postgres_dsn: str | None = None) -> None:  # fmt: skip
    """
    A gateway config.yaml for the bench: loopback, the given store, JSON logs to the log file;
    with `brig_url`, the brig backend in front of that brig(-lite), which also plays spar (the
    bench IdP's issuer comes from its `GET /i/identity-providers/:tid`).
    """
    config: dict = {
        "listen": {"host": "127.0.0.1", "port": port, "workers": workers},
        "store": {"path": str(db)},
        "log": {"level": log_level, "format": "json"},
        "shutdown_grace_seconds": 2.0,
    }
    if brig_url is not None:
        config["backend"] = {"kind": "brig", "brig_url": brig_url, "spar_url": brig_url}
    if postgres_dsn is not None:  # --store postgres: that database instead of the SQLite file
        config["store"] = {"kind": "postgres", "dsn": postgres_dsn}
    path.write_text(yaml.safe_dump(config, sort_keys=False))


# brig-lite counts every call in this rule's `fired` (status < 400 with no delay: it only counts)
COUNT_EVERY_CALL = {"route": "*", "status": 200}


def write_brig_lite_config(path: Path, *, port: int, db: Path, log_level: str) -> None:
    """A brig-lite config: loopback, the given database, no team size limit, every call counted."""
    config = {
        "brig_lite": {
            "host": "127.0.0.1", "port": port, "path": str(db),
            "max_team_size": 100_000_000,  # entra-initial-sync keeps adding users
            "faults": [COUNT_EVERY_CALL],
        },
        "log": {"level": log_level, "format": "json"},
        "shutdown_grace_seconds": 2.0,
    }  # fmt: skip
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def backend_calls(brig_url: str) -> int:
    """The brig and galley calls brig-lite has received so far (its counting rule's `fired`)."""
    with urllib.request.urlopen(f"{brig_url}/i/_faults", timeout=10) as response:
        return sum(json.load(response)["fired"])


def start_gateway(
    config: Path, *, port: int, workers: int, pin: bool, log_path: Path, code: Path | None = None
) -> Server:
    """`code`: a checkout whose `gateway` package to run (bench.paired), instead of this one's."""
    argv = [sys.executable, "-m", "gateway", "serve", "--config", str(config)]
    return _start("gateway", argv, port=port, pin=pin and workers == 1, log_path=log_path, code=code)


def start_brig_lite(config: Path, *, port: int, pin: bool, log_path: Path) -> Server:
    argv = [sys.executable, "-m", "gateway", "brig-lite", "--config", str(config)]
    return _start("brig-lite", argv, port=port, pin=pin, log_path=log_path)


def start_ceiling(*, port: int, workers: int, pin: bool, log_path: Path) -> Server:
    argv = [sys.executable, "-m", "bench.ceiling", "--port", str(port), "--workers", str(workers)]
    return _start("ceiling", argv, port=port, pin=pin and workers == 1, log_path=log_path)


def _start(name: str, argv: list[str], *, port: int, pin: bool, log_path: Path, code: Path | None = None) -> Server:
    if pin:
        argv = ["taskset", "-c", str(SERVER_CPU), *argv]
    # Only the bench's config file counts: no SCIM_GATEWAY__* overrides from our environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIM_GATEWAY")}
    paths = [str(code)] if code is not None else []  # before this checkout: its gateway package wins
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [*paths, str(REPO), env.get("PYTHONPATH")]))  # bench.ceiling
    log = log_path.open("ab")
    # The server's stdout/stderr (the gateway's JSON access log) go to a file, not our terminal.
    # In `code` (else this checkout): `python -m` puts the working directory before PYTHONPATH, so
    # run from anywhere else a checkout's own gateway package would shadow `code`'s.
    cwd = code if code is not None else REPO
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=cwd)
    log.close()
    return Server(name, process, f"http://127.0.0.1:{port}", log_path, pin)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# --- /proc -------------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(p) for p in f.read().split())
    except OSError:
        pass
    return found


def descendants(pid: int) -> list[int]:
    out: list[int] = []
    for child in children(pid):
        out.append(child)
        out.extend(descendants(child))
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes (all their threads), in seconds."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / _TICKS


def postgres_pids() -> list[int]:
    """The PostgreSQL server's processes on this machine (comm "postgres"), for --store postgres."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == "postgres":
                        found.append(int(entry))
            except OSError:
                continue
    return found


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent not idle since boot (from /proc/stat), for everyone."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    busy = sum(values[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / _TICKS


def wait_until_quiet(max_wait: float, *, busy_below: float = 0.10, window: float = 1.0) -> float:
    """
    Wait (at most `max_wait` s) until the whole machine used less than `busy_below` of a core over
    `window` seconds (the bench's own servers are idle between workloads, so this waits for
    other users of the machine). Returns the seconds waited.
    """
    started = time.monotonic()
    while time.monotonic() - started < max_wait:
        before = machine_busy_seconds()
        time.sleep(window)
        if (machine_busy_seconds() - before) / window < busy_below:
            break
    return time.monotonic() - started


def reset_peak_rss(pids: list[int]) -> bool:
    """Set VmHWM back to the current RSS (Linux >= 4.0); False if not allowed."""
    ok = True
    for pid in pids:
        try:
            with open(f"/proc/{pid}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            ok = False
    return ok


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM of the process in MB (MiB), or None if it is gone or unreadable."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None
