"""
The `Store` on PostgreSQL: the shared SQL store (gateway/store/sql.py) over a PostgresDatabase.
Needs the `postgres` extra (psycopg): `pip install 'scim-gateway[postgres]'`.
"""

from __future__ import annotations

from gateway.db.postgres import PostgresDatabase
from gateway.store.sql import SqlStore


class PostgresStore(SqlStore):
    db: PostgresDatabase

    @classmethod
    async def open(cls, dsn: str, *, readers: int = 4, writers: int = 4, migrate: bool = True) -> PostgresStore:
        return cls(await PostgresDatabase.open(dsn, readers=readers, writers=writers, migrate=migrate))
