"""
`SparState` over spar's own Cassandra keyspace, through the DataStax Python driver
(cassandra-driver): every statement is prepared once at start (statements.py) and run with the
driver's `execute_async`, whose callbacks (on the driver's I/O thread) complete an asyncio future
through `call_soon_threadsafe`, so no statement ever blocks the event loop. Connecting and
preparing block, and run on a worker thread (`asyncio.to_thread`).

Failures are SCIM errors, as the brig client's are: no node reachable or too few replicas alive is
503, a statement past `spar_state.request_timeout_seconds` (the driver's or the coordinator's
timeout) is 504, both with Retry-After; a statement Cassandra refuses (a keyspace without spar's
tables) is 500 naming the statement.

Tokens found by `token_lookup` are kept `spar_state.token_cache_seconds` in this process (never a
miss: a token made in Team Settings works at once); a token deleted in spar keeps working here at
most that long, one deleted through this process stops at once.
"""

from __future__ import annotations

import asyncio
import importlib
import ssl
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import structlog

from gateway.backend.spar_state import statements as cql
from gateway.backend.spar_state.model import CreationStatus, ExternalIdEntry, TokenInfo, UserTimes
from gateway.backend.spar_state.nameid import TOKEN_HASH_PREFIX, name_id_xml, normalized_uname_id, token_key
from gateway.config import ConfigError, SparState
from gateway.scim.errors import ScimError

log = structlog.get_logger(__name__)

_TOKEN_CACHE_ENTRIES = 10000


def _driver(module: str) -> Any:
    """A module of cassandra-driver, imported when a Cassandra state is opened (an optional extra)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(
            "spar_state.kind: cassandra needs cassandra-driver: pip install 'scim-gateway[cassandra]'"
        ) from None


def read_credentials(settings: SparState) -> tuple[str, str] | None:
    """(user name, password) from the environment's values or the `*_file` keys; None without."""
    values: dict[str, str | None] = {}
    for key in ("username", "password"):
        value: str | None = getattr(settings, key)
        path = getattr(settings, f"{key}_file")
        if value is None and path is not None:
            try:
                value = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise ConfigError(f"spar_state.{key}_file: cannot read {path}: {exc.strerror}") from None
        values[key] = value
    username, password = values["username"], values["password"]
    if username is None or password is None:
        return None
    return username, password


class CassandraSparState:
    """spar's tables in its keyspace; open with `await CassandraSparState.open(config.spar_state)`."""

    def __init__(self, settings: SparState, cluster: Any, session: Any, prepared: dict[str, Any]) -> None:
        self._settings = settings
        self._cluster = cluster
        self._session = session
        self._prepared = prepared
        self._errors = _driver("cassandra")
        self._no_host = _driver("cassandra.cluster").NoHostAvailable
        self._query = _driver("cassandra.query")
        self._consistency = self._errors.ConsistencyLevel.name_to_value[settings.consistency]
        self._tokens: dict[str, tuple[float, TokenInfo]] = {}

    @classmethod
    async def open(cls, settings: SparState) -> CassandraSparState:
        """Connect to the contact points, use spar's keyspace and prepare every statement."""
        credentials = read_credentials(settings)
        return await asyncio.to_thread(cls._connect, settings, credentials)

    @classmethod
    def _connect(cls, settings: SparState, credentials: tuple[str, str] | None) -> CassandraSparState:
        cluster_module = _driver("cassandra.cluster")
        policies = _driver("cassandra.policies")
        query = _driver("cassandra.query")
        consistency = _driver("cassandra").ConsistencyLevel.name_to_value[settings.consistency]
        profile_args: dict[str, Any] = {
            "consistency_level": consistency,
            "request_timeout": settings.request_timeout_seconds,
            "row_factory": query.tuple_factory,
        }
        if settings.local_datacenter:
            profile_args["load_balancing_policy"] = policies.TokenAwarePolicy(
                policies.DCAwareRoundRobinPolicy(local_dc=settings.local_datacenter)
            )
        cluster_args: dict[str, Any] = {
            "contact_points": list(settings.contact_points),
            "port": settings.port,
            "execution_profiles": {
                cluster_module.EXEC_PROFILE_DEFAULT: cluster_module.ExecutionProfile(**profile_args)
            },
            "connect_timeout": settings.connect_timeout_seconds,
            "control_connection_timeout": settings.connect_timeout_seconds,
        }
        if settings.protocol_version is not None:
            cluster_args["protocol_version"] = settings.protocol_version
        if credentials is not None:
            cluster_args["auth_provider"] = _driver("cassandra.auth").PlainTextAuthProvider(*credentials)
        if settings.tls_ca_file:
            cluster_args["ssl_context"] = _tls_context(settings.tls_ca_file)
        cluster = cluster_module.Cluster(**cluster_args)
        try:
            session = cluster.connect(settings.keyspace)
            prepared = {name: session.prepare(text) for name, text in cql.ALL.items()}
        except Exception as exc:
            cluster.shutdown()
            raise ScimError(
                f"cannot open spar's keyspace {settings.keyspace!r} at {', '.join(settings.contact_points)}: "
                f"{type(exc).__name__}: {exc}",
                status=503,
            ) from exc
        log.info("spar_state_opened", keyspace=settings.keyspace, hosts=list(settings.contact_points))
        return cls(settings, cluster, session, prepared)

    async def close(self) -> None:
        await asyncio.to_thread(self._cluster.shutdown)

    # --- SAMLUserStore ---------------------------------------------------------------------

    async def saml_user_get(self, issuer: str, external_id: str) -> UUID | None:
        rows = await self._run("SAML_USER_SELECT", (issuer, normalized_uname_id(external_id)))
        if rows:
            return rows[0][0]
        legacy = await self._run("SAML_USER_SELECT_LEGACY", (issuer, name_id_xml(external_id)))
        if not legacy:
            return None
        user: UUID = legacy[0][0]
        await self.saml_user_put(issuer, external_id, user)  # spar's migrateLegacy
        return user

    async def saml_user_put(self, issuer: str, external_id: str, user: UUID) -> None:
        await self._run("SAML_USER_INSERT", (issuer, normalized_uname_id(external_id), name_id_xml(external_id), user))

    async def saml_user_delete(self, issuer: str, external_id: str, user: UUID) -> None:
        if await self.saml_user_get(issuer, external_id) != user:
            return
        await self._run("SAML_USER_DELETE_LEGACY", (issuer, name_id_xml(external_id)))
        await self._run("SAML_USER_DELETE", (issuer, normalized_uname_id(external_id)))

    # --- ScimExternalIdStore ---------------------------------------------------------------

    async def external_id_get(self, team: UUID, external_id: str) -> ExternalIdEntry | None:
        rows = await self._run("EXTERNAL_ID_SELECT", (team, external_id))
        if not rows or rows[0][0] is None:
            return None
        user, status = rows[0]
        return ExternalIdEntry(user, CreationStatus.CREATED if status is None else CreationStatus(status))

    async def external_id_put(
        self, team: UUID, external_id: str, user: UUID, status: CreationStatus | None = None
    ) -> None:
        if status is None:
            await self._run("EXTERNAL_ID_INSERT", (team, external_id, user))
        else:
            await self._run("EXTERNAL_ID_INSERT_STATUS", (team, external_id, user, int(status)))

    async def external_id_delete(self, team: UUID, external_id: str) -> None:
        await self._run("EXTERNAL_ID_DELETE", (team, external_id))

    # --- ScimUserTimesStore ----------------------------------------------------------------

    async def user_times_get(self, user: UUID) -> UserTimes | None:
        rows = await self._run("USER_TIMES_SELECT", (user,))
        if not rows or rows[0][0] is None or rows[0][1] is None:
            return None
        return UserTimes(_utc(rows[0][0]), _utc(rows[0][1]))

    async def user_times_put(self, user: UUID, times: UserTimes) -> None:
        await self._run("USER_TIMES_INSERT", (user, _millis(times.created_at), _millis(times.last_updated_at)))

    async def user_times_delete(self, user: UUID) -> None:
        await self._run("USER_TIMES_DELETE", (user,))

    # --- ScimTokenStore --------------------------------------------------------------------

    async def token_lookup(self, token: str) -> TokenInfo | None:
        key = token_key(token)
        cached = self._tokens.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        rows = await self._run("TOKEN_SELECT", (key, token))
        hashed = [row for row in rows if row[0].startswith(TOKEN_HASH_PREFIX)]
        plain = [row for row in rows if not row[0].startswith(TOKEN_HASH_PREFIX)]
        if plain:  # connvertPlaintextToken: the row moves to the hashed key, in one batch
            info = _token_info(plain[0])
            await self._batch(
                [
                    ("TOKEN_INSERT_BY_TOKEN", _token_row(key, info)),
                    ("TOKEN_INSERT_BY_TEAM", _token_row(key, info)),
                    ("TOKEN_DELETE_BY_KEY", (token,)),
                ]
            )
        elif len(hashed) == 1:
            info = _token_info(hashed[0])
        else:
            return None
        self._remember(key, info)
        return info

    async def tokens_of_team(self, team: UUID) -> list[TokenInfo]:
        rows = await self._run("TOKENS_OF_TEAM", (team,))
        return sorted((_token_info(row) for row in rows), key=lambda info: info.created_at)

    async def token_insert(self, token: str, info: TokenInfo) -> None:
        await self.token_insert_hashed(token_key(token), info)

    async def token_insert_hashed(self, key: str, info: TokenInfo) -> None:
        if not key.startswith(TOKEN_HASH_PREFIX):
            raise ValueError("a token's key in spar's tables is its sha512: hash")
        row = _token_row(key, info)
        await self._batch([("TOKEN_INSERT_BY_TOKEN", row), ("TOKEN_INSERT_BY_TEAM", row)])

    async def token_delete(self, team: UUID, token_id: UUID) -> None:
        rows = await self._run("TOKEN_KEY_BY_ID", (team, token_id))
        batch: list[tuple[str, Sequence[Any]]] = [("TOKEN_DELETE_BY_ID", (team, token_id))]
        batch += [("TOKEN_DELETE_BY_KEY", (row[0],)) for row in rows]
        await self._batch(batch)
        self._forget(lambda info: info.team == team and info.id == token_id)

    async def tokens_delete_team(self, team: UUID) -> None:
        rows = await self._run("TOKEN_KEYS_OF_TEAM", (team,))
        batch: list[tuple[str, Sequence[Any]]] = [("TOKENS_DELETE_TEAM", (team,))]
        batch += [("TOKEN_DELETE_BY_KEY", (row[0],)) for row in rows]
        await self._batch(batch)
        self._forget(lambda info: info.team == team)

    async def token_rename(self, team: UUID, token_id: UUID, name: str) -> None:
        rows = await self._run("TOKEN_KEY_BY_ID", (team, token_id))
        batch: list[tuple[str, Sequence[Any]]] = [("TOKEN_RENAME_BY_ID", (name, team, token_id))]
        batch += [("TOKEN_RENAME_BY_KEY", (name, row[0])) for row in rows]
        await self._batch(batch)
        self._forget(lambda info: info.team == team and info.id == token_id)

    def _remember(self, key: str, info: TokenInfo) -> None:
        seconds = self._settings.token_cache_seconds
        if seconds <= 0:
            return
        if len(self._tokens) >= _TOKEN_CACHE_ENTRIES:
            now = time.monotonic()
            self._tokens = {k: v for k, v in self._tokens.items() if v[0] > now}
            if len(self._tokens) >= _TOKEN_CACHE_ENTRIES:
                self._tokens.clear()
        self._tokens[key] = (time.monotonic() + seconds, info)

    def _forget(self, which: Any) -> None:
        self._tokens = {k: v for k, v in self._tokens.items() if not which(v[1])}

    # --- running statements ----------------------------------------------------------------

    async def _run(self, name: str, params: Sequence[Any]) -> list[Any]:
        return await self._execute(name, self._prepared[name].bind(params))

    async def _batch(self, items: list[tuple[str, Sequence[Any]]]) -> None:
        batch = self._query.BatchStatement(batch_type=self._query.BatchType.LOGGED, consistency_level=self._consistency)
        for name, params in items:
            batch.add(self._prepared[name], params)
        await self._execute("+".join(name for name, _ in items), batch)

    async def _execute(self, name: str, statement: Any) -> list[Any]:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[list[Any]] = loop.create_future()

        def settle(rows: Any = None, error: BaseException | None = None) -> None:
            if waiter.done():  # the caller was cancelled meanwhile
                return
            if error is not None:
                waiter.set_exception(error)
            else:
                waiter.set_result(list(rows or ()))

        try:
            response = self._session.execute_async(statement, timeout=self._settings.request_timeout_seconds)
            response.add_callbacks(
                lambda rows: loop.call_soon_threadsafe(settle, rows),
                lambda error: loop.call_soon_threadsafe(settle, None, error),
            )
            return await waiter
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise self._scim_error(name, exc) from exc

    def _scim_error(self, name: str, exc: Exception) -> ScimError:
        errors = self._errors
        headers = {"Retry-After": str(self._settings.retry_after_seconds)}
        if isinstance(exc, errors.OperationTimedOut | errors.ReadTimeout | errors.WriteTimeout):
            status, detail = (
                504,
                f"spar's Cassandra did not answer {name} within {self._settings.request_timeout_seconds} s",
            )
        elif isinstance(exc, self._no_host | errors.Unavailable):
            status, detail = 503, f"spar's Cassandra cannot run {name} now: {type(exc).__name__}"
        elif isinstance(exc, errors.RequestExecutionException):
            status, detail = 503, f"spar's Cassandra failed {name}: {type(exc).__name__}"
        else:
            log.error("spar_state_statement_failed", statement=name, error=f"{type(exc).__name__}: {exc}")
            return ScimError(f"spar's Cassandra refused {name}: {type(exc).__name__}", status=500)
        log.warning("spar_state_unavailable", statement=name, status=status, error=type(exc).__name__)
        return ScimError(detail, status=status, headers=headers)


def _tls_context(ca_file: str) -> ssl.SSLContext:
    """TLS with the node's certificate checked against the CA (not its name: nodes are found by address)."""
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"spar_state.tls_ca_file: cannot read a PEM CA from {ca_file}: {exc}") from None
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def _utc(moment: datetime) -> datetime:
    """The driver reads timestamps as naive UTC datetimes."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _millis(moment: datetime) -> datetime:
    """spar's UTCTimeMillis: the time to the millisecond (an aware time is required)."""
    if moment.tzinfo is None:
        raise ValueError("a time written to spar's tables must carry its time zone")
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _token_info(row: Sequence[Any]) -> TokenInfo:
    _key, team, token_id, created_at, idp, descr, name = row
    return TokenInfo(
        team=team,
        id=token_id,
        created_at=_utc(created_at),
        idp=idp,
        descr=descr or "",
        name=name if name is not None else str(token_id),
    )


def _token_row(key: str, info: TokenInfo) -> tuple[Any, ...]:
    return (key, info.team, info.id, _millis(info.created_at), info.idp, info.descr, info.name)
