"""
PostgreSQL for the tests: run only when SCIM_GATEWAY_TEST_POSTGRES_DSN names a server (e.g.
postgresql://postgres@127.0.0.1:5432/test; .ci/run sets it), skipped otherwise.

Each test gets a fresh schema of its own, created here and dropped afterwards: `fresh_schema()`
yields a DSN whose `options` set the search_path to it, so the gateway's tables (and its migration
lock, which is per schema) are the test's alone.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest

DSN_VARIABLE = "SCIM_GATEWAY_TEST_POSTGRES_DSN"


def server_dsn() -> str:
    """The test server's DSN; skips the test when none is configured."""
    dsn = os.environ.get(DSN_VARIABLE, "")
    if not dsn:
        pytest.skip(f"no PostgreSQL server: set {DSN_VARIABLE}, e.g. postgresql://postgres@127.0.0.1:5432/test")
    pytest.importorskip("psycopg", reason="the postgres extra is not installed: pip install -e '.[postgres]'")
    return dsn


def with_search_path(dsn: str, schema: str) -> str:
    """`dsn` (a postgres:// URL) with `options=-csearch_path=<schema>` added."""
    separator = "&" if "?" in dsn else "?"
    return f"{dsn}{separator}options={quote(f'-csearch_path={schema}', safe='')}"


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A new, empty schema for one test, dropped with everything in it afterwards; yields its DSN."""
    dsn = server_dsn()  # skips first: without a server, or without psycopg
    import psycopg

    schema = f"scim_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(dsn, schema)
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
