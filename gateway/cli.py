"""
The `scim-gateway` command: serve, token create/list/revoke/import, accept-invitation,
check-config, migrate, store copy, brig-lite (and brig-lite add-member); idp and team (the token
API's IdP registry and team admins) are in gateway/cli_team.py.
The only place that reads os.environ and sys.argv.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.command_line import UsageError, uuid_arg, with_state
from gateway.config import Config, ConfigError, load_config

EXIT_CONFIG = 2


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_CONFIG
    try:
        config = load_config(_config_path(args.config), os.environ)
    except ConfigError as exc:
        print(f"scim-gateway: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    from gateway.db.dialect import StoreNotReady

    try:
        return args.run(config, args)
    except UsageError as exc:
        print(f"scim-gateway: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except StoreNotReady as exc:  # unreachable, or a schema to migrate first: no traceback
        print(f"scim-gateway: {exc}", file=sys.stderr)
        return 1


def _config_path(given: str | None) -> Path | None:
    if given:
        return Path(given)
    default = Path("config.yaml")
    return default if default.is_file() else None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scim-gateway",
        description="SCIM 2.0 gateway for self-hosted Wire: identity providers provision team users.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, help: str, run: Callable[[Config, argparse.Namespace], int]) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument(
            "--config", metavar="FILE", help="YAML config (default: ./config.yaml if present, else built-in defaults)"
        )
        sub.set_defaults(run=run)
        return sub

    command("serve", "Run the SCIM API until SIGTERM or SIGINT.", _serve)
    command("check-config", "Validate the configuration and print it; exit 2 if it is wrong.", _check_config)
    migrate = command(
        "migrate", "Bring the store's database schema up to date (also done at start), and say so.", _migrate
    )
    migrate.add_argument("--to", type=int, metavar="VERSION", help=argparse.SUPPRESS)  # tests: an old schema

    lite = command(
        "brig-lite",
        "Serve brig's and galley's internal routes (brig-lite) on brig_lite.host:port, for trying the brig backend.",
        _brig_lite,
    )
    lite_actions = lite.add_subparsers(title="brig-lite commands", metavar="ACTION")
    member_help = "Add an active team member with an email and password to brig-lite; print its user id."
    member = lite_actions.add_parser("add-member", help=member_help, description=member_help)
    member.add_argument(
        "--config", metavar="FILE", default=argparse.SUPPRESS, help="YAML config (default: ./config.yaml if present)"
    )
    member.add_argument("--team", required=True, help="team id (UUID)")
    member.add_argument("--role", required=True, choices=["owner", "admin", "member", "partner"], help="team role")
    member.add_argument("--email", required=True, help="the member's email address (login)")
    member.add_argument(
        "--password", required=True, help="the member's password (at least 6 characters; stored as scrypt)"
    )
    member.set_defaults(run=_brig_lite_add_member)
    accept_help = (
        "Accept a SCIM invitee's invitation in brig-lite, as its sign-up does in Wire: active, email claimed, "
        "team member with the invited role. Not a Wire route."
    )
    lite_accept = lite_actions.add_parser("accept", help=accept_help, description=accept_help)
    lite_accept.add_argument(
        "--config", metavar="FILE", default=argparse.SUPPRESS, help="YAML config (default: ./config.yaml if present)"
    )
    lite_accept.add_argument("--user", required=True, help="the invitee's user id (UUID)")
    lite_accept.add_argument("--name", help="display name the invitee registers (default: keep SCIM's)")
    lite_accept.add_argument("--locale", help="locale the invitee registers, e.g. de or de-DE (default: keep)")
    lite_accept.set_defaults(run=_brig_lite_accept)
    idp_help = "Add an IdP of a team to brig-lite (served as spar's GET /i/identity-providers/:tid); print its id."
    lite_idp = lite_actions.add_parser("add-idp", help=idp_help, description=idp_help)
    lite_idp.add_argument(
        "--config", metavar="FILE", default=argparse.SUPPRESS, help="YAML config (default: ./config.yaml if present)"
    )
    lite_idp.add_argument("--team", required=True, help="team id (UUID)")
    lite_idp.add_argument(
        "--issuer", required=True, help="the IdP's metadata issuer, a URI (e.g. https://idp.example.com/)"
    )
    lite_idp.add_argument("--id", dest="idp_id", help="the IdP id (UUID; default: a new one)")
    lite_idp.set_defaults(run=_brig_lite_add_idp)

    accept = command(
        "accept-invitation",
        "Mark an invited (email/password) user as having accepted the invitation (embedded backend; "
        "with brig, forces it active through brig's status route: for brig-lite trials).",
        _accept_invitation,
    )
    accept.add_argument("--team", required=True, help="team id (UUID)")
    accept.add_argument("--user", required=True, help="user id (UUID), the SCIM id")

    token = commands.add_parser(
        "token",
        help="Create, list and revoke SCIM bearer tokens.",
        description="Create, list and revoke SCIM bearer tokens.",
    )
    tokens = token.add_subparsers(title="token commands", metavar="ACTION")
    token.set_defaults(run=None)

    def token_command(
        name: str, help: str, run: Callable[[Config, argparse.Namespace], int]
    ) -> argparse.ArgumentParser:
        sub = tokens.add_parser(name, help=help, description=help)
        sub.add_argument("--config", metavar="FILE", help="YAML config (default: ./config.yaml if present)")
        sub.add_argument("--team", required=True, help="team id (UUID); the embedded backend creates an unknown team")
        sub.set_defaults(run=run)
        return sub

    create = token_command("create", "Create a token for a team and print it (it is shown only once).", _token_create)
    create.add_argument("--description", default="", help="what the token is for, e.g. 'Entra ID production'")
    create.add_argument("--name", help="short name (default: the token id)")
    create.add_argument("--idp", help="SAML IdP id: users provisioned with this token are SAML users")
    create.add_argument("--json", action="store_true", help="print the whole record as JSON instead of the token alone")
    listing = token_command("list", "List a team's tokens (never the secrets).", _token_list)
    listing.add_argument("--json", action="store_true", help="print JSON lines")
    revoke = token_command("revoke", "Revoke a token at once.", _token_revoke)
    revoke.add_argument("--id", required=True, help="token id (from 'token list')")
    importing = tokens.add_parser(
        "import",
        help="Import spar's stored token rows (CSV or JSON exported from Cassandra).",
        description="Import spar's stored token rows (team_provisioning_by_team, exported from "
        "Cassandra as CSV with a header or as a JSON list), so IdPs keep their tokens.",
    )
    importing.add_argument("--config", metavar="FILE", help="YAML config (default: ./config.yaml if present)")
    importing.add_argument("--file", required=True, help="the exported rows ('-' for standard input)")
    importing.set_defaults(run=_token_import)
    token_command(
        "copy-to-spar",
        "With spar_state: copy a team's tokens made by the gateway before into spar's tables (docs/spar-state.md).",
        _token_copy_to_spar,
    )

    from gateway.cli_team import add_team_commands

    add_team_commands(commands)

    store = commands.add_parser(
        "store", help="Work on the store's database as a whole.", description="Work on the store's database as a whole."
    )
    store.set_defaults(run=None)
    copy_help = "Copy an installation's state (tokens, teams, users, groups, brig state) into an empty database."
    copy = store.add_subparsers(title="store commands", metavar="ACTION").add_parser(
        "copy", help=copy_help, description=copy_help
    )
    copy.add_argument("--config", metavar="FILE", help=argparse.SUPPRESS)
    copy.add_argument(
        "--from", dest="source", required=True, metavar="LOCATION", help="sqlite:PATH or postgres://user@host:port/db"
    )
    copy.add_argument("--to", dest="target", required=True, metavar="LOCATION", help="the empty target, same forms")
    copy.set_defaults(run=_store_copy)
    return parser


def _serve(config: Config, args: argparse.Namespace) -> int:
    from gateway.serve import serve  # imports aiohttp; keep --help fast

    return serve(config)


def _check_config(config: Config, args: argparse.Namespace) -> int:
    from gateway.config import defaults_as_yaml_items

    print("configuration OK")
    for key, _default, _help in defaults_as_yaml_items():
        value: Any = config
        for part in key.split("."):
            value = getattr(value, part)
        if isinstance(value, tuple):  # lists of scalars, or of rules (brig_lite.faults)
            value = [
                dataclasses.asdict(v) if dataclasses.is_dataclass(v) and not isinstance(v, type) else v for v in value
            ]
        if key == "store.dsn" and value:
            from gateway.db.connect import redact_dsn

            value = redact_dsn(value)
        if key in ("spar_state.username", "spar_state.password") and value:
            value = "***"  # credentials are never printed
        print(f"  {key}: {json.dumps(value)}")
    _explain_idp_source(config)
    return 0


def _explain_idp_source(config: Config) -> None:
    """
    Say where a team's SAML IdPs and their issuers (a SAML user's sso_id.tenant) come from; with
    the gateway's registry and the brig backend, warn (stderr) about registered IdPs without one.
    """
    backend = config.backend
    if backend.kind == "brig" and backend.spar_url:
        print(f"SAML issuers from spar at {backend.spar_url} (the token API's IdPs too)")
        return
    if backend.kind == "embedded":
        print("SAML IdPs from the gateway's IdP registry (scim-gateway idp add); the embedded backend needs no issuer")
        if backend.spar_url:
            print("warning: backend.spar_url is ignored with backend.kind embedded", file=sys.stderr)
        return
    print("SAML issuers from the gateway's IdP registry (scim-gateway idp add --issuer)")
    for record in _idps_without_issuer(config):
        print(
            f"warning: IdP {record.id} of team {record.team} has no issuer: SAML users of its tokens cannot be "
            f"written; run scim-gateway idp set-issuer --team {record.team} --id {record.id} --issuer <URI>",
            file=sys.stderr,
        )


def _idps_without_issuer(config: Config) -> list[Any]:
    """The registry's IdPs without an issuer; none (with a note) when the store cannot be read as it is."""
    from gateway.db.dialect import StoreNotReady
    from gateway.store.opening import open_store

    if config.store.kind == "sqlite" and not Path(config.store.path or "").is_file():
        return []  # no store yet, so nothing registered (and check-config creates nothing)

    async def read() -> list[Any]:
        store = await open_store(dataclasses.replace(config.store, migrate_at_start=False))  # changes nothing
        try:
            return await store.list_idps_without_issuer()
        finally:
            await store.close()

    try:
        return asyncio.run(read())
    except StoreNotReady as exc:
        print(f"note: the registered IdPs were not checked for issuers: {exc}", file=sys.stderr)
        return []


def _brig_lite(config: Config, args: argparse.Namespace) -> int:
    from gateway.brig_lite.app import serve_brig_lite  # imports aiohttp; keep --help fast

    return serve_brig_lite(config)


def _brig_lite_add_member(config: Config, args: argparse.Namespace) -> int:
    from gateway.brig_lite.app import add_member
    from gateway.brig_lite.wire_json import WireError

    team = uuid_arg(args.team, "--team")
    try:
        user_id = asyncio.run(
            add_member(config.brig_lite, team=team, role=args.role, email=args.email, password=args.password)
        )
    except WireError as exc:
        print(f"scim-gateway: {exc.message}", file=sys.stderr)
        return 1
    print(user_id)
    return 0


def _brig_lite_accept(config: Config, args: argparse.Namespace) -> int:
    from gateway.brig_lite.app import accept_invitation
    from gateway.brig_lite.wire_json import WireError

    user = uuid_arg(args.user, "--user")
    try:
        asyncio.run(accept_invitation(config.brig_lite, user=user, name=args.name, locale=args.locale))
    except WireError as exc:
        print(f"scim-gateway: {exc.message}", file=sys.stderr)
        return 1
    print(f"accepted: {user}")
    return 0


def _brig_lite_add_idp(config: Config, args: argparse.Namespace) -> int:
    from gateway.brig_lite.app import add_idp
    from gateway.brig_lite.wire_json import WireError

    team = uuid_arg(args.team, "--team")
    idp_id = None if args.idp_id is None else uuid_arg(args.idp_id, "--id")
    try:
        print(asyncio.run(add_idp(config.brig_lite, team=team, issuer=args.issuer, idp_id=idp_id)))
    except WireError as exc:
        print(f"scim-gateway: {exc.message}", file=sys.stderr)
        return 1
    return 0


def _token_create(config: Config, args: argparse.Namespace) -> int:
    from gateway.app import token_service
    from gateway.scim.errors import ScimError

    team = uuid_arg(args.team, "--team")

    async def work(state: Any) -> int:
        try:
            secret, record = await token_service(config, state).create(
                team, description=args.description, name=args.name, idp=args.idp
            )
        except ScimError as exc:
            print(f"scim-gateway: {exc.detail}", file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps({"token": secret, "info": _token_info(record)}))
        else:
            print(secret)
        return 0

    return with_state(config, work)


def _token_info(record: Any) -> dict[str, Any]:
    info = {
        "team": record.team,
        "id": record.id,
        "created_at": record.created_at,
        "description": record.description,
        "name": record.name,
    }
    if record.idp:
        info["idp"] = record.idp
    if record.last_used_at:
        info["last_used_at"] = record.last_used_at
    return info


def _token_list(config: Config, args: argparse.Namespace) -> int:
    from gateway.app import token_service

    team = uuid_arg(args.team, "--team")

    async def work(state: Any) -> int:
        records = await token_service(config, state).list(team)
        for record in records:
            if args.json:
                print(json.dumps(_token_info(record)))
            else:
                print(
                    f"{record.id}  {record.name}  created {record.created_at}  "
                    f"last used {record.last_used_at or 'never'}  {record.description}"
                )
        if not records and not args.json:
            print(f"team {team} has no SCIM tokens", file=sys.stderr)
        return 0

    return with_state(config, work)


def _token_revoke(config: Config, args: argparse.Namespace) -> int:
    from gateway.app import token_service

    team = uuid_arg(args.team, "--team")

    async def work(state: Any) -> int:
        if await token_service(config, state).revoke(team, args.id):
            print(f"revoked {args.id}")
            return 0
        print(f"scim-gateway: team {team} has no token {args.id}", file=sys.stderr)
        return 1

    return with_state(config, work)


def _token_import(config: Config, args: argparse.Namespace) -> int:
    from gateway.app import token_service
    from gateway.provisioning.token_import import TokenImportError, parse_spar_rows
    from gateway.scim.errors import ScimError

    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
        records = parse_spar_rows(text)
    except (OSError, TokenImportError) as exc:
        raise UsageError(f"token import: {exc}") from None

    async def work(state: Any) -> int:
        service = token_service(config, state)
        imported = 0
        for record in records:
            try:
                imported += await service.import_record(record)
            except ScimError as exc:
                print(f"scim-gateway: token {record.id}: {exc.detail}", file=sys.stderr)
                return 1
        print(f"imported {imported} token(s), {len(records) - imported} already present")
        return 0

    return with_state(config, work)


def _token_copy_to_spar(config: Config, args: argparse.Namespace) -> int:
    team = uuid_arg(args.team, "--team")
    if config.spar_state.kind != "cassandra":
        raise UsageError("token copy-to-spar: spar_state is not configured (spar_state.kind: cassandra)")

    async def work(state: Any) -> int:
        from gateway.app import token_service

        copied = await token_service(config, state).copy_to_spar(team)
        print(f"copied {copied} token(s) of team {team} into spar's tables")
        return 0

    return with_state(config, work)


def _accept_invitation(config: Config, args: argparse.Namespace) -> int:
    from gateway.scim.errors import ScimError

    team = uuid_arg(args.team, "--team")
    user_id = uuid_arg(args.user, "--user")

    async def work(state: Any) -> int:
        try:
            user = await state.backend.accept_invitation(team, user_id)
        except ScimError as exc:
            print(f"scim-gateway: {exc.detail}", file=sys.stderr)
            return 1
        print(f"user {user.id} is {user.status}")
        return 0

    return with_state(config, work)


def _migrate(config: Config, args: argparse.Namespace) -> int:
    from gateway.db.connect import Location, connect, migrate

    location = Location.of(config.store)
    conn = connect(location)
    try:
        before, after = migrate(conn, target=args.to)
    finally:
        conn.close()
    change = f"from version {before} to {after}" if after != before else f"up to date at version {after}"
    print(f"{location}: schema {change}")
    return 0


def _store_copy(config: Config, args: argparse.Namespace) -> int:
    from gateway.db.connect import Location, LocationError, connect, migrate
    from gateway.db.copy import CopyRefused, copy_state

    try:
        source, target = Location.parse(args.source), Location.parse(args.target)
    except LocationError as exc:
        raise UsageError(f"store copy: {exc}") from None
    if source == target:
        raise UsageError("store copy: --from and --to are the same database")
    connections = [connect(source), connect(target)]
    try:
        for conn in connections:
            migrate(conn)
        copied = copy_state(*connections)
    except CopyRefused as exc:
        print(f"scim-gateway: store copy: {exc}", file=sys.stderr)
        return 1
    finally:
        for conn in connections:
            conn.close()
    for each in copied:
        print(f"{each.table}: {each.rows} rows")
    print(f"copied {sum(c.rows for c in copied)} rows from {source} to {target}; counts match on both sides")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
