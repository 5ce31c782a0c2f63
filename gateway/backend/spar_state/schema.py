"""
The tables of spar's keyspace that the gateway reads and writes, as spar's migrations leave them
(services/spar/src/Spar/Schema/V*.hs; the whole keyspace in wire-server's cassandra-schema.cql,
keyspace `spar_test`). spar creates and migrates them itself: the gateway never runs this in a
real Wire. It is here for tests and for trying the gateway against a Cassandra without spar.
Column names, types and key order are spar's; table options are left at Cassandra's defaults.
"""

from __future__ import annotations

TABLES = (
    """CREATE TABLE IF NOT EXISTS {ks}.user (
    issuer text,
    sso_id text,
    uid uuid,
    PRIMARY KEY (issuer, sso_id)
) WITH CLUSTERING ORDER BY (sso_id ASC)""",
    """CREATE TABLE IF NOT EXISTS {ks}.user_v2 (
    issuer text,
    normalized_uname_id text,
    sso_id text,
    uid uuid,
    PRIMARY KEY (issuer, normalized_uname_id)
) WITH CLUSTERING ORDER BY (normalized_uname_id ASC)""",
    """CREATE TABLE IF NOT EXISTS {ks}.scim_external (
    team uuid,
    external_id text,
    creation_status int,
    user uuid,
    PRIMARY KEY (team, external_id)
) WITH CLUSTERING ORDER BY (external_id ASC)""",
    """CREATE TABLE IF NOT EXISTS {ks}.scim_user_times (
    uid uuid PRIMARY KEY,
    created_at timestamp,
    last_updated_at timestamp
)""",
    """CREATE TABLE IF NOT EXISTS {ks}.team_provisioning_by_team (
    team uuid,
    id uuid,
    created_at timestamp,
    descr text,
    idp uuid,
    name text,
    token_ text,
    PRIMARY KEY (team, id)
) WITH CLUSTERING ORDER BY (id ASC)""",
    """CREATE TABLE IF NOT EXISTS {ks}.team_provisioning_by_token (
    token_ text PRIMARY KEY,
    created_at timestamp,
    descr text,
    id uuid,
    idp uuid,
    name text,
    team uuid
)""",
)


def create_statements(keyspace: str, *, replication_factor: int = 1) -> list[str]:
    """The keyspace (SimpleStrategy, for a test server) and the tables, in order."""
    keyspace_cql = (
        f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = "
        f"{{'class': 'SimpleStrategy', 'replication_factor': '{replication_factor}'}} AND durable_writes = true"
    )
    return [keyspace_cql, *(table.format(ks=keyspace) for table in TABLES)]
