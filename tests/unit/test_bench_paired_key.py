"""bench.paired waits for each ref's own documents: the key is read from that ref's code, not this checkout's."""

from __future__ import annotations

from pathlib import Path

from bench.paired import _renderer_key

from gateway.provisioning.documents import UserDocuments


def test_the_renderer_key_is_the_one_of_the_code_given(tmp_path: Path) -> None:
    package = tmp_path / "gateway" / "provisioning"
    package.mkdir(parents=True)
    (tmp_path / "gateway" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "documents.py").write_text("class UserDocuments:\n    key = 'another rendering'\n")

    assert "another rendering" == _renderer_key(tmp_path)
    assert UserDocuments().key == _renderer_key(Path(__file__).resolve().parents[2])
