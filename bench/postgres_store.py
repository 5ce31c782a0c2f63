"""
The PostgreSQL store for `--store postgres`: the seeded SQLite template copied into a fresh
database with the gateway's own `scim-gateway store copy`, so both stores hold the same rows
(users, documents, groups, memberships, the token).

`--postgres-dsn` names a server and a database the bench may connect to as a role that can
create databases (e.g. postgresql://postgres@127.0.0.1:5432/postgres); each scale and worker
count gets its own database, `scim_bench_<scale>_<workers>w`, dropped afterwards.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

_REPO = Path(__file__).resolve().parents[1]


def database_dsn(admin_dsn: str, name: str) -> str:
    """`admin_dsn` (a postgresql:// URL) with its database replaced by `name`."""
    url = urlsplit(admin_dsn)
    if url.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"--postgres-dsn must be a postgresql://user@host:port/database URL, got {admin_dsn!r}")
    return urlunsplit(url._replace(path="/" + name))


def _admin(admin_dsn: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(statement)


def create_copy(admin_dsn: str, name: str, template: Path, *, log: Callable[[str], None]) -> str:
    """A fresh database `name` holding the SQLite `template`'s state; returns its DSN."""
    drop_database(admin_dsn, name)
    _admin(admin_dsn, f'CREATE DATABASE "{name}"')
    dsn = database_dsn(admin_dsn, name)
    started = time.perf_counter()
    copied = subprocess.run(
        [sys.executable, "-m", "gateway", "store", "copy", "--from", f"sqlite:{template}", "--to", dsn],
        cwd=_REPO, capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if copied.returncode != 0:
        raise RuntimeError(f"scim-gateway store copy failed: {copied.stderr[-2000:]}")
    _admin(dsn, "VACUUM ANALYZE")  # fresh statistics, as a database in use would have
    log(f"  copied {template.name} into PostgreSQL database {name} in {time.perf_counter() - started:.1f} s")
    return dsn


def drop_database(admin_dsn: str, name: str) -> None:
    _admin(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
