"""
spar's own Cassandra state, shared with spar (config `spar_state`).

    model.py       the values of spar's rows and the `SparState` interface
    nameid.py      spar's keys: the normalized NameID of `user_v2`, the NameID XML, the token hash (pure)
    statements.py  every CQL statement, each citing the spar function it comes from
    cassandra.py   `CassandraSparState`: the driver's async API bridged to asyncio, errors as SCIM 503/504
    flows.py       spar's SCIM writes in spar's order (create with the `creation_status` marker,
                   update, delete), as steps for the brig backend
    schema.py      spar's tables, for tests and a Cassandra without spar (spar creates its own)
"""

from gateway.backend.spar_state.model import CreationStatus, ExternalIdEntry, SparState, TokenInfo, UserTimes

__all__ = ["CreationStatus", "ExternalIdEntry", "SparState", "TokenInfo", "UserTimes"]
