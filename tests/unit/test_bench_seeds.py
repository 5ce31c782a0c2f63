"""bench/runner.py reuses a seeded store from its work dir only when its documents are this checkout's."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import runner
from gateway.provisioning.documents import UserDocuments


def test_a_seed_is_reused_only_under_this_checkouts_renderer_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seeded: list[Path] = []

    def fake_seed(path: Path, scale: int, *, log: object) -> str:
        seeded.append(path)
        path.write_bytes(b"store")
        return f"token-{len(seeded)}"

    monkeypatch.setattr(runner, "seed_store", fake_seed)
    first = runner._seeded(tmp_path, 100)  # noqa: SLF001
    again = runner._seeded(tmp_path, 100)  # noqa: SLF001
    assert (first, again, len(seeded)) == ((tmp_path / "seed-100.db", "token-1"), first, 1)
    assert (tmp_path / "seed-100.key").read_text().strip() == UserDocuments().key

    (tmp_path / "seed-100.key").write_text("2:another release's\n")  # seeded by other code
    assert runner._seeded(tmp_path, 100) == (tmp_path / "seed-100.db", "token-2")  # noqa: SLF001
    (tmp_path / "seed-100.key").unlink()  # seeded before keys were written down
    assert runner._seeded(tmp_path, 100) == (tmp_path / "seed-100.db", "token-3")  # noqa: SLF001
