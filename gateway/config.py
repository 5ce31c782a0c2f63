"""
The gateway's configuration: one YAML file, overridden by `SCIM_GATEWAY__SECTION__KEY` environment
variables, read once at start into frozen dataclasses.

Every field carries its one-line help in `metadata["help"]`; `config.yaml` at the top of the
repository lists every key with its default and that help (a test keeps the two in step). Every
error names the dotted key (and the line, for YAML syntax errors) and what is allowed.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import ipaddress
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

ENV_PREFIX = "SCIM_GATEWAY__"


class ConfigError(Exception):
    """A configuration the gateway refuses to start with; the message names the key."""


def _opt(default: Any, help: str, **limits: Any) -> Any:
    """A dataclass field with its help text and optional `min`/`max` limits."""
    return field(default=default, metadata={"help": help, **limits})


def _section(factory: type, help: str) -> Any:
    return field(default_factory=factory, metadata={"help": help})


@dataclass(frozen=True, slots=True, kw_only=True)
class Listen:
    host: str = _opt("127.0.0.1", "address to listen on (0.0.0.0 for all interfaces)")
    port: int = _opt(8080, "TCP port of the SCIM API", min=1, max=65535)
    workers: int = _opt(1, "worker processes sharing the port (SO_REUSEPORT)", min=1, max=64)
    header_timeout_seconds: float = _opt(
        10.0, "a new connection must send its request head within this (else closed)", min=0.1, max=3600
    )
    keepalive_timeout_seconds: float = _opt(
        75.0,
        "an idle keep-alive connection is closed after this (above the proxy's: nginx keeps 60 s)",
        min=0.1,
        max=3600,
    )
    max_connections: int = _opt(
        1000,
        "open connections per process (at most the descriptor limit less 128); past it the oldest "
        "that has not sent a request is closed, else the new one",
        min=8,
        max=1000000,
    )
    internal_port: int | None = _opt(
        None,
        "TCP port of a second listener for /i/... (probes, metrics, Wire's internal routes); the main "
        "port then answers only /scim... (null: /i/... on the main port too)",
        min=1,
        max=65535,
    )
    trusted_proxies: tuple[str, ...] = _opt(
        ("127.0.0.1/32", "::1/128"),
        "CIDRs whose X-Forwarded-For or X-Real-IP gives the client address written in the logs "
        "(the logs only: what the gateway believes is the top-level trusted_proxies)",
    )
    fast_lane: bool = _opt(
        True,
        "answer GET /Users/<id>, a filter on userName, externalId or id, and the pages of an import straight "
        "from the connection's bytes when the request is plain and the token known, without aiohttp's request "
        "objects (same answer, a third less CPU for a lookup; false: every request through aiohttp)",
    )

    def __post_init__(self) -> None:
        if self.internal_port is not None and self.internal_port == self.port:
            raise ConfigError(f"listen.internal_port: {self.internal_port} is listen.port; choose another port")
        for i, cidr in enumerate(self.trusted_proxies):
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ConfigError(
                    f"listen.trusted_proxies[{i}]: {cidr!r} is not a CIDR such as 10.0.0.0/8 or ::1/128"
                ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Log:
    level: Literal["debug", "info", "warning", "error"] = _opt("info", "least severe level logged")
    format: Literal["auto", "json", "console"] = _opt("auto", "auto: console on a terminal, JSON lines otherwise")


@dataclass(frozen=True, slots=True, kw_only=True)
class Store:
    kind: Literal["sqlite", "postgres"] = _opt(
        "sqlite", "where the gateway keeps tokens and user state: sqlite (one machine) or postgres (replicas)"
    )
    path: str | None = _opt("./data/gateway.db", "SQLite database file (kind sqlite)")
    busy_timeout_ms: int = _opt(5000, "how long a write waits for a lock (kind sqlite)", min=0, max=600000)
    dsn: str | None = _opt(
        None, "PostgreSQL URL, e.g. postgresql://scim@db:5432/scim (kind postgres); password: PGPASSWORD"
    )
    connections: int = _opt(
        4, "PostgreSQL connections per process for reads, and as many for writes (kind postgres)", min=1, max=100
    )
    migrate_at_start: bool = _opt(
        True, "bring the schema up to date at start (false: run `scim-gateway migrate` first)"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Backend:
    kind: Literal["embedded", "brig"] = _opt(
        "embedded",
        "where Wire users live: embedded keeps them in the store's database, brig asks Wire's brig and galley",
    )
    default_locale: str = _opt("en", "language of users created without preferredLanguage")
    brig_url: str | None = _opt(None, "brig's internal API, e.g. http://brig:8080 (kind brig)")
    galley_url: str | None = _opt(
        None, "galley's internal API, e.g. http://galley:8080 (kind brig; default: brig_url, as brig-lite)"
    )
    spar_url: str | None = _opt(
        None,
        "spar's internal API, e.g. http://spar:8080: SAML issuers and a team's IdPs from spar (kind brig; "
        "null: from the gateway's IdP registry, scim-gateway idp add --issuer)",
    )
    call_timeout_seconds: float = _opt(
        10.0, "longest wait for each brig or galley call (SCIM 504 above)", min=0.01, max=600
    )
    connect_timeout_seconds: float = _opt(2.0, "longest wait for a new connection to brig or galley", min=0.01, max=600)
    max_connections: int = _opt(100, "keep-alive connections to brig and galley, at most", min=1, max=10000)
    retry_after_seconds: int = _opt(
        5, "Retry-After sent with a 502, 503 or 504 when brig or galley fails", min=0, max=3600
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultRule:
    """One fault brig-lite injects, for tests: an error, a delay or a dropped connection."""

    route: str = _opt("*", "fnmatch pattern over 'METHOD /path', e.g. 'POST /i/users/spar' or '* /i/users*'")
    rate: float = _opt(1.0, "share of matching requests that fail, 0 to 1", min=0.0, max=1.0)
    status: int = _opt(503, "status answered; 0 drops the connection, below 400 only the delay", min=0, max=599)
    label: str = _opt("injected-fault", "the label of Wire's error body, e.g. handle-exists or managed-by-scim")
    delay_ms: int = _opt(0, "wait before answering (every matching request)", min=0, max=600000)
    after: bool = _opt(False, "do the work first, then answer the error (a lost response)")
    times: int | None = _opt(None, "apply to the first N matching requests only", min=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class BrigLite:
    host: str = _opt("127.0.0.1", "address brig-lite listens on")
    port: int = _opt(8081, "TCP port of brig-lite (brig's and galley's internal routes)", min=1, max=65535)
    path: str = _opt("./data/brig-lite.db", "brig-lite's SQLite database file")
    domain: str = _opt("example.com", "the backend domain in users' qualified_id")
    default_locale: str = _opt("en", "locale of users created without one (GET /i/users/locale)")
    max_team_size: int = _opt(10000, "members a team may have (403 too-many-team-members above)", min=1)
    rich_info_chars: int = _opt(5000, "total characters of a user's rich info (413 above)", min=0)
    invitation_timeout_seconds: float = _opt(
        1814400.0, "pending invitations older than this vanish, as in Wire (21 days)", min=0
    )
    validate_saml_emails: bool = _opt(False, "the validateSAMLemails team feature: true sends activation")
    # Ignored since brig-lite keeps brig's email keys (always unique, 409 key-exists); kept so that
    # older configs load. Its help text stays until config.yaml's comment changes with it.
    unique_emails: bool = _opt(
        False, "ignored, kept so that older configs load: email keys are always unique, as in Wire (409 key-exists)"
    )
    faults: tuple[FaultRule, ...] = _opt(
        (), "injected faults for tests: [{route, rate, status, label, delay_ms, after, times}]"
    )
    fault_seed: int | None = _opt(None, "seed of the fault dice (null: random)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    max_body_bytes: int = _opt(1048576, "largest request body accepted (413 above)", min=1024)
    tokens_per_team: int = _opt(8, "SCIM tokens a team may hold at once", min=1, max=1000)
    rich_info_chars: int = _opt(5000, "total characters of rich-info fields per user (413 above)", min=0)
    default_page_size: int = _opt(100, "users per list page when count is absent", min=1)
    max_page_size: int = _opt(1000, "largest count honoured on a list page", min=1)
    auth_failures_per_minute: int = _opt(
        30, "failed authentications per client address and minute before 429 (per process; 0: off)", min=0
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Scim:
    kept_attributes: tuple[str, ...] = _opt(
        ("name",), "core User attributes Wire cannot hold that the gateway keeps and returns"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SsoSwitch:
    """The SSO-invite switch's webhook (docs/token-api.md, "The SSO-invite switch")."""

    webhook_url: str | None = _opt(
        None, "URL POSTed {team, sso_invites_enabled, changed_at, event_id} on every flip (null: no webhook)"
    )
    retry_seconds: float = _opt(
        1.0, "first wait before a failed delivery is retried (doubled each time)", min=0.01, max=3600
    )
    max_retry_seconds: float = _opt(300.0, "longest wait between two delivery attempts", min=0.01, max=86400)
    timeout_seconds: float = _opt(10.0, "longest wait for the webhook's answer", min=0.1, max=600)
    poll_seconds: float = _opt(
        2.0, "how often the outbox is read for flips made by other processes (the CLI, replicas)", min=0.01, max=3600
    )


# Keys of `spar_state` that hold credentials: only from the environment or a file, never the YAML file.
SPAR_STATE_SECRETS = ("username", "password")


@dataclass(frozen=True, slots=True, kw_only=True)
class SparState:
    """
    spar's own Cassandra tables (gateway/backend/spar_state): with kind cassandra the gateway reads and
    writes spar's SAML users, externalId index, SCIM times and tokens as spar's SCIM does.
    """

    kind: Literal["none", "cassandra"] = _opt(
        "none", "none: the gateway keeps this state in its own database; cassandra: in spar's keyspace"
    )
    contact_points: tuple[str, ...] = _opt((), "Cassandra hosts to connect to first, e.g. [cassandra] (kind cassandra)")
    port: int = _opt(9042, "Cassandra's native protocol port (spar's chart: 9042)", min=1, max=65535)
    keyspace: str = _opt("spar", "spar's keyspace (spar's chart: spar)")
    consistency: Literal["ONE", "LOCAL_ONE", "QUORUM", "LOCAL_QUORUM", "EACH_QUORUM", "ALL"] = _opt(
        "LOCAL_QUORUM", "consistency of every read and write (spar uses LOCAL_QUORUM for these tables)"
    )
    local_datacenter: str | None = _opt(
        None, "the datacentre whose nodes are asked (spar's filterNodesByDatacentre; null: the first contact point's)"
    )
    protocol_version: int | None = _opt(
        None, "native protocol version (null: negotiated; 3 for Cassandra 2.1)", min=3, max=5
    )
    tls_ca_file: str | None = _opt(
        None, "PEM file of the CA that signed Cassandra's certificate: TLS on (spar's chart: tlsCa)"
    )
    username: str | None = field(
        default=None,
        repr=False,
        metadata={"help": "only from SCIM_GATEWAY__SPAR_STATE__USERNAME or username_file, never this file"},
    )
    password: str | None = field(
        default=None,
        repr=False,
        metadata={"help": "only from SCIM_GATEWAY__SPAR_STATE__PASSWORD or password_file, never this file"},
    )
    username_file: str | None = _opt(None, "file holding the Cassandra user name (null: none, or from the environment)")
    password_file: str | None = _opt(None, "file holding the Cassandra password (null: none, or from the environment)")
    connect_timeout_seconds: float = _opt(5.0, "longest wait to connect to a Cassandra node", min=0.01, max=600)
    request_timeout_seconds: float = _opt(
        5.0, "longest wait for one statement (SCIM 504 above; 503 when no node answers)", min=0.01, max=600
    )
    retry_after_seconds: int = _opt(5, "Retry-After sent with a 503 or 504 when Cassandra fails", min=0, max=3600)
    token_cache_seconds: float = _opt(
        10.0,
        "how long a token found in spar's table is trusted without asking again: a token deleted in Team "
        "Settings or by spar keeps working this long here (0: ask on every request)",
        min=0,
        max=3600,
    )


def _refuse_file_secrets(raw: Mapping[str, Any], path: Path) -> None:
    """A credential of `spar_state` written in the config file itself: refused (files are copied and shown)."""
    section = raw.get("spar_state")
    if not isinstance(section, dict):
        return
    for key in SPAR_STATE_SECRETS:
        if section.get(key) is not None:
            raise ConfigError(
                f"{path}: spar_state.{key}: never read from the config file; set SCIM_GATEWAY__SPAR_STATE__"
                f"{key.upper()} or spar_state.{key}_file (a file only the gateway can read)"
            )


def _check_spar_state(config: Config) -> None:
    spar = config.spar_state
    if spar.kind != "cassandra":
        return
    if config.backend.kind != "brig" or not config.backend.spar_url:
        raise ConfigError(
            "spar_state.kind: cassandra needs backend.kind: brig and backend.spar_url (the gateway shares spar's "
            "tables only beside a real Wire)"
        )
    if not spar.contact_points:
        raise ConfigError("spar_state.contact_points: required when spar_state.kind is cassandra, e.g. [cassandra]")
    if not spar.keyspace.replace("_", "").isalnum():
        raise ConfigError(f"spar_state.keyspace: {spar.keyspace!r} is not a keyspace name (letters, digits, _)")
    for key in SPAR_STATE_SECRETS:
        if getattr(spar, key) is not None and getattr(spar, f"{key}_file") is not None:
            raise ConfigError(
                f"spar_state.{key}_file: give the {key} once: the file or SCIM_GATEWAY__SPAR_STATE__"
                f"{key.upper()}, not both"
            )
    if (spar.username is None and spar.username_file is None) != (spar.password is None and spar.password_file is None):
        raise ConfigError("spar_state.password: a user name and a password go together (both or neither)")
    if importlib.util.find_spec("cassandra") is None:
        raise ConfigError("spar_state.kind: cassandra needs cassandra-driver: pip install 'scim-gateway[cassandra]'")


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """Everything the gateway reads from its environment, read once at start."""

    listen: Listen = _section(Listen, "where the SCIM API listens")
    public_base_url: str | None = _opt(
        None, "base URL clients use, e.g. https://wire.example.com (else taken from the request)"
    )
    trusted_proxies: tuple[str, ...] = _opt(
        (), "CIDRs whose X-Forwarded-* and Z-User headers are believed (nginz in front; the token API needs it)"
    )
    shutdown_grace_seconds: float = _opt(10.0, "how long in-flight requests may finish after SIGTERM", min=0, max=3600)
    log: Log = _section(Log, "logging")
    store: Store = _section(Store, "the gateway's own state")
    backend: Backend = _section(Backend, "the user directory")
    limits: Limits = _section(Limits, "limits")
    scim: Scim = _section(Scim, "SCIM attribute handling")
    sso_switch: SsoSwitch = _section(
        SsoSwitch, "the SSO-invite switch: a webhook told when a team's first token is made or its last deleted"
    )
    brig_lite: BrigLite = _section(BrigLite, "brig-lite: brig's and galley's internal API for trying the brig backend")
    spar_state: SparState = _section(
        SparState, "spar's own Cassandra tables (SAML users, externalIds, SCIM times, tokens), shared with spar"
    )


def load_config(path: Path | None, env: Mapping[str, str]) -> Config:
    """
    Read `path` (if given), apply `SCIM_GATEWAY__*` overrides from `env`, validate.

    Raises:
        ConfigError: naming the key (and line for YAML syntax errors) and what is allowed.
    """
    raw = _read_yaml(path) if path is not None else {}
    if path is not None:
        _refuse_file_secrets(raw, path)
    for name in sorted(env):
        if name.startswith(ENV_PREFIX):
            keys = name.removeprefix(ENV_PREFIX).lower().split("__")
            _set_dotted(raw, keys, _parse_env_value(name, env[name]))
    config = _build(Config, raw, where="")
    _check_cross_field(config)
    return config


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise ConfigError(f"{path}: YAML syntax error at {where}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: YAML error: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections, not {_kind(data)}")
    return data


class _UniqueKeyLoader(yaml.SafeLoader):
    """
    safe_load, except that a key given twice in one mapping is an error: YAML keeps the last one
    silently, so an operator who adds `port:` under `listen:` again would not know which wins.
    Keys are compared as written (tag and text) before merge keys (`<<: *base`) are expanded, so
    a key that overrides a merged one is not a duplicate.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[tuple[str, str], yaml.Node] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            earlier = first.setdefault((key_node.tag, key_node.value), key_node)
            if earlier is not key_node:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key_node.value!r} (first given on line {earlier.start_mark.line + 1})",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _parse_env_value(name: str, value: str) -> Any:
    try:
        return yaml.safe_load(value) if value != "" else ""
    except yaml.YAMLError:
        raise ConfigError(f"{name}: the value is not valid YAML") from None


def _set_dotted(raw: dict[str, Any], keys: list[str], value: Any) -> None:
    node = raw
    for depth, key in enumerate(keys[:-1]):
        child = node.get(key)
        if child is None:
            child = node[key] = {}
        elif not isinstance(child, dict):
            dotted = ".".join(keys[: depth + 1])
            raise ConfigError(f"{dotted}: is not a section, so {'.'.join(keys)} cannot be set")
        node = child
    node[keys[-1]] = value


def _build(cls: type, raw: Any, *, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where or 'config'}: must be a mapping, got {_kind(raw)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        key = f"{where}.{unknown[0]}" if where else unknown[0]
        raise ConfigError(f"{key}: unknown key; allowed here: {', '.join(sorted(fields))}")
    values = {}
    for name, value in raw.items():
        key = f"{where}.{name}" if where else name
        values[name] = _convert(hints[name], value, key, fields[name].metadata)
    return cls(**values)


def _convert(hint: Any, value: Any, key: str, meta: Mapping[str, Any]) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value if value is not None else {}, where=key)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, key, meta)
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{key}: {value!r} is not allowed; choose one of {', '.join(args)}")
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{key}: must be a list, got {_kind(value)}")
        return tuple(_convert(args[0], item, f"{key}[{i}]", meta) for i, item in enumerate(value))
    return _scalar(hint, value, key, meta)


def _scalar(hint: type, value: Any, key: str, meta: Mapping[str, Any]) -> Any:
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: must be true or false, got {_kind(value)}")
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, hint) or (isinstance(value, bool) and hint is not bool):
        raise ConfigError(f"{key}: must be {_type_name(hint)}, got {_kind(value)}")
    low, high = meta.get("min"), meta.get("max")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"from {low}" + (f" to {high}" if high is not None else " up")
        raise ConfigError(f"{key}: {value} is out of range; allowed: {bounds}")
    return value


def _check_cross_field(config: Config) -> None:
    if config.store.kind == "sqlite" and not config.store.path:
        raise ConfigError("store.path: required when store.kind is sqlite (a file path)")
    if config.store.kind == "postgres" and not config.store.dsn:
        raise ConfigError(
            "store.dsn: required when store.kind is postgres (e.g. postgresql://scim@db:5432/scim; "
            "the password from PGPASSWORD or ~/.pgpass)"
        )
    if config.store.kind == "postgres" and importlib.util.find_spec("psycopg") is None:
        raise ConfigError("store.kind: postgres needs psycopg: pip install 'scim-gateway[postgres]'")
    if config.backend.kind == "brig" and not config.backend.brig_url:
        raise ConfigError(
            "backend.brig_url: required when backend.kind is brig (brig's internal API, e.g. http://brig:8080)"
        )
    for key in ("brig_url", "galley_url", "spar_url"):
        url = getattr(config.backend, key)
        if url is not None and not url.startswith(("http://", "https://")):
            raise ConfigError(f"backend.{key}: {url!r} must start with http:// or https://")
    for i, cidr in enumerate(config.trusted_proxies):
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ConfigError(f"trusted_proxies[{i}]: {cidr!r} is not a CIDR such as 10.0.0.0/8 or ::1/128") from None
    for key, url in (
        ("public_base_url", config.public_base_url),
        ("sso_switch.webhook_url", config.sso_switch.webhook_url),
    ):
        if url is not None and not url.startswith(("http://", "https://")):
            raise ConfigError(f"{key}: {url!r} must start with http:// or https://")
    _check_spar_state(config)
    if config.sso_switch.retry_seconds > config.sso_switch.max_retry_seconds:
        raise ConfigError("sso_switch.retry_seconds: must not exceed sso_switch.max_retry_seconds")
    if config.limits.default_page_size > config.limits.max_page_size:
        raise ConfigError("limits.default_page_size: must not exceed limits.max_page_size")
    for i, attr in enumerate(config.scim.kept_attributes):
        if attr not in KEEPABLE_ATTRIBUTES:
            allowed = ", ".join(sorted(KEEPABLE_ATTRIBUTES))
            raise ConfigError(f"scim.kept_attributes[{i}]: {attr!r} is not keepable; allowed: {allowed}")


# Core User attributes (RFC 7643 §4.1) that Wire has no place for and the gateway may keep.
KEEPABLE_ATTRIBUTES = frozenset(
    {
        "name",
        "nickName",
        "profileUrl",
        "title",
        "userType",
        "locale",
        "timezone",
        "phoneNumbers",
        "ims",
        "photos",
        "addresses",
        "entitlements",
        "x509Certificates",
    }
)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    kind = {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a whole number",
        float: "a number",
    }.get(type(value), f"a {type(value).__name__}")
    return kind if isinstance(value, (dict, list)) else f"{kind} ({value!r})"


def _type_name(hint: type) -> str:
    return {int: "a whole number", float: "a number", str: "a string"}.get(hint, hint.__name__)


def build_section(cls: type, raw: Any, *, where: str) -> Any:
    """One config dataclass from a mapping, checked like the file (e.g. a fault rule at run time)."""
    return _build(cls, raw, where=where)


def defaults_as_yaml_items(cls: type = Config, prefix: str = "") -> list[tuple[str, Any, str]]:
    """(dotted key, default, help) for every leaf key: what config.yaml must list."""
    items: list[tuple[str, Any, str]] = []
    for f in dataclasses.fields(cls):
        key = f"{prefix}{f.name}"
        hint = typing.get_type_hints(cls)[f.name]
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            items.extend(defaults_as_yaml_items(hint, key + "."))
        else:
            default = f.default
            items.append((key, list(default) if isinstance(default, tuple) else default, f.metadata["help"]))
    return items
