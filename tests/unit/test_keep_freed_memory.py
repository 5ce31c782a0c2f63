"""
`keep_freed_memory` (gateway/serve.py): glibc keeps the memory a response was made in, so the next
response does not fault it in again page by page. Counted as the kernel counts page faults, in a
fresh process each: the same allocations with and without it.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gateway import serve
from gateway.config import Config

REPO = Path(__file__).resolve().parents[2]

# A list page's body, 300 KB, and one twice that size made of it, both freed, 200 times over;
# the faults of that loop alone are printed. "plain" sets glibc's thresholds to the 128 KB it
# starts with, fixed (glibc moves them as it goes, depending on what was freed before, which
# depends on the heap's layout): then each buffer is mapped afresh and faulted in page by page.
_PAGES = """
import ctypes, resource, sys
from gateway import serve
if sys.argv[1] == "kept":
    assert serve.keep_freed_memory()
else:
    mallopt = ctypes.CDLL(None).mallopt
    assert mallopt(serve.M_TRIM_THRESHOLD, 128 * 1024) and mallopt(serve.M_MMAP_THRESHOLD, 128 * 1024)
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def page(i):
    body = b"%03d" % i * 100_000
    return len(body + body)
for i in range(3):
    page(i)
before = faults()
for i in range(200):
    page(i)
print(faults() - before)
"""

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")


def _faults(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k not in serve.MALLOC_ENV}
    done = subprocess.run(
        [sys.executable, "-c", _PAGES, mode], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    return int(done.stdout)


@glibc
def test_freed_response_buffers_are_used_again_without_page_faults() -> None:
    plain, kept = _faults("plain"), _faults("kept")

    # Mapped afresh, a page faults in page by page: 220 faults for its 900 KB, or 147 when only the
    # 600 KB buffer is mapped afresh (both seen on the same machine, run to run), fewer where the
    # kernel backs anonymous memory with larger folios. At least 10 a page, whatever the kernel.
    assert plain >= 200 * 10
    assert kept < 200  # kept: the first pages' memory serves all the others, under 1 fault a page


class _FakeLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return 1


def _fake_libc(monkeypatch: pytest.MonkeyPatch, libc: str = "glibc") -> _FakeLibc:
    fake = _FakeLibc()
    monkeypatch.setattr(serve.platform, "libc_ver", lambda *a, **k: (libc, "2.36"))
    monkeypatch.setattr(serve.ctypes, "CDLL", lambda *a, **k: fake)
    for name in serve.MALLOC_ENV:
        monkeypatch.delenv(name, raising=False)
    return fake


def test_it_sets_the_trim_and_mmap_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_libc(monkeypatch)

    assert serve.keep_freed_memory()
    assert [(serve.M_TRIM_THRESHOLD, 8 * 2**20), (serve.M_MMAP_THRESHOLD, 4 * 2**20)] == fake.calls


@pytest.mark.parametrize("name", ["MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_"])
def test_the_operators_own_glibc_settings_stand(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    fake = _fake_libc(monkeypatch)
    monkeypatch.setenv(name, "131072")

    assert not serve.keep_freed_memory()
    assert [] == fake.calls


def test_nothing_is_set_on_another_c_library(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_libc(monkeypatch, libc="")  # musl, macOS: platform.libc_ver() names no glibc

    assert not serve.keep_freed_memory()
    assert [] == fake.calls


def test_serve_keeps_freed_memory_before_it_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(serve, "keep_freed_memory", lambda: calls.append("kept") or True)

    def run_loop(main: Any) -> None:
        calls.append("loop")
        main.close()

    monkeypatch.setattr(serve, "run_loop", run_loop)
    serve.serve(Config())
    assert ["kept", "loop"] == calls
