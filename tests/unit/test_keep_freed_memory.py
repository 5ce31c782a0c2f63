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

# What a list page does with its body: 100 documents of about 800 bytes, sliced, joined, encoded
# and joined again, then all freed, 200 times over. The faults of that loop alone are printed.
_PAGES = """
import resource, sys
from gateway.serve import keep_freed_memory
if sys.argv[1] == "kept":
    assert keep_freed_memory()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def page(i):
    documents = [str(i) * 800 + str(j) for j in range(100)]
    text = ",".join([document[:-2] + "}}" for document in documents])
    return len(b"".join((b'{"Resources":[', text.encode(), b"]}")))
for i in range(3):
    page(i)
before = faults()
for i in range(200):
    page(i)
print(faults() - before)
"""

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")


def _faults(mode: str, seed: int) -> int:
    """The loop's page faults; the hash seed fixed, since the heap's layout depends on it."""
    env = {k: v for k, v in os.environ.items() if k not in serve.MALLOC_ENV} | {"PYTHONHASHSEED": str(seed)}
    done = subprocess.run(
        [sys.executable, "-c", _PAGES, mode], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    return int(done.stdout)


@glibc
@pytest.mark.parametrize("seed", [0, 1])
def test_freed_response_buffers_are_used_again_without_page_faults(seed: int) -> None:
    plain, kept = _faults("plain", seed), _faults("kept", seed)

    assert plain >= 200 * 20  # glibc's defaults: about 70 faults a page, each page faulted in again
    assert kept < 200  # kept: the first pages' memory serves all the others


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
