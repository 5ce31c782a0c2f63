"""
The token API's CLI commands (added to `scim-gateway` by gateway/cli.py):

- `idp add|set-issuer|list|remove`: the gateway's registry of a team's SAML IdPs and their issuer
  URIs (gateway/provisioning/idps.py), for the embedded backend and for brig without
  `backend.spar_url` (with it, spar is the source: `add` and `set-issuer` refuse);
- `team add-member|list-members|remove-member`: the embedded backend's team directory, the owners
  and admins who may manage tokens through the token API (with the brig backend they are brig's);
- `team scim-status`: the SSO-invite switch, as `GET /i/teams/{tid}/scim-status` shows it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from gateway.command_line import UsageError, uuid_arg, with_state
from gateway.config import Config

Run = Callable[[Config, argparse.Namespace], int]


def add_team_commands(commands: Any) -> None:
    """Add the `idp` and `team` commands to the `scim-gateway` subparsers `commands`."""
    idp = commands.add_parser(
        "idp",
        help="Register a team's SAML IdPs and their issuers (without backend.spar_url).",
        description=(
            "Register a team's SAML IdPs: which the token API ties tokens to, and the issuer URI the brig "
            "backend writes as a SAML user's tenant. With backend.spar_url set, spar is the source instead."
        ),
    )
    idp.set_defaults(run=None)
    idps = idp.add_subparsers(title="idp commands", metavar="ACTION")
    add = _sub(idps, "add", "Register an IdP of a team (its id as spar shows it) with its issuer URI.", _idp_add)
    add.add_argument("--id", required=True, help="the IdP id (UUID)")
    add.add_argument("--issuer", required=True, help=_ISSUER_HELP)
    add.add_argument("--description", default="", help="what it is, e.g. 'Entra ID'")
    issuer = _sub(idps, "set-issuer", "Set the issuer URI of a registered IdP.", _idp_set_issuer)
    issuer.add_argument("--id", required=True, help="the IdP id (UUID)")
    issuer.add_argument("--issuer", required=True, help=_ISSUER_HELP)
    _sub(idps, "list", "List a team's IdPs.", _idp_list).add_argument(
        "--json", action="store_true", help="print JSON lines"
    )
    _sub(idps, "remove", "Forget an IdP (refused while tokens use it).", _idp_remove).add_argument(
        "--id", required=True, help="the IdP id (UUID)"
    )

    team = commands.add_parser(
        "team",
        help="Team admins for the token API; a team's SSO-invite switch.",
        description="Team admins for the token API (embedded backend); a team's SSO-invite switch.",
    )
    team.set_defaults(run=None)
    teams = team.add_subparsers(title="team commands", metavar="ACTION")
    member = _sub(
        teams,
        "add-member",
        "Add an owner or admin (or member) who signs in to the token API; print its id.",
        _member_add,
    )
    member.add_argument("--role", required=True, choices=["owner", "admin", "member", "partner"], help="team role")
    member.add_argument("--email", required=True, help="the member's email address")
    member.add_argument(
        "--password",
        required=True,
        help="at least 6 characters, stored as scrypt ('-': read one line from standard input)",
    )
    _sub(teams, "list-members", "List the team's members (never their passwords).", _member_list).add_argument(
        "--json", action="store_true", help="print JSON lines"
    )
    _sub(teams, "remove-member", "Remove a member.", _member_remove).add_argument(
        "--user", required=True, help="its id (UUID)"
    )
    _sub(teams, "scim-status", "Print the team's token count and whether SSO invites are on.", _scim_status)


_ISSUER_HELP = (
    "the IdP's entity ID: the `issuer` of its SAML metadata, a URI such as https://sts.windows.net/<tenant-id>/ "
    "(Entra ID) or http://www.okta.com/<id> (Okta)"
)


def _sub(parent: Any, name: str, help: str, run: Run) -> argparse.ArgumentParser:
    sub = parent.add_parser(name, help=help, description=help)
    sub.add_argument("--config", metavar="FILE", help="YAML config (default: ./config.yaml if present)")
    sub.add_argument("--team", required=True, help="team id (UUID)")
    sub.set_defaults(run=run)
    return sub


def _fail(message: str) -> int:
    print(f"scim-gateway: {message}", file=sys.stderr)
    return 1


def _registry_is_the_source(config: Config, command: str) -> None:
    """UsageError when spar lists the teams' IdPs (backend.spar_url): the registry is not read then."""
    if config.backend.kind == "brig" and config.backend.spar_url:
        raise UsageError(
            f"`idp {command}` is for the embedded backend and for brig without backend.spar_url: with spar_url "
            f"({config.backend.spar_url}) a team's IdPs and their issuers come from spar; add or change the IdP "
            "in Wire's Team Settings (SAML connections) instead"
        )


def _issuer_arg(value: str) -> str:
    from gateway.provisioning.idps import parse_issuer

    try:
        return parse_issuer(value)
    except ValueError as exc:
        raise UsageError(f"--issuer: {exc}") from None


def _idp_add(config: Config, args: argparse.Namespace) -> int:
    from gateway.provisioning.idps import IdpRegistry

    _registry_is_the_source(config, "add")
    team, idp_id, issuer = uuid_arg(args.team, "--team"), uuid_arg(args.id, "--id"), _issuer_arg(args.issuer)

    async def work(state: Any) -> int:
        added = await IdpRegistry(state.store).add(team, idp_id, description=args.description, issuer=issuer)
        if added is None:
            return _fail(
                f"IdP {idp_id} is registered already (to change its issuer: scim-gateway idp set-issuer "
                f"--team {team} --id {idp_id} --issuer <URI>)"
            )
        print(f"registered IdP {idp_id} for team {team}, issuer {issuer}")
        return 0

    return with_state(config, work)


def _idp_set_issuer(config: Config, args: argparse.Namespace) -> int:
    from gateway.provisioning.idps import IdpRegistry

    _registry_is_the_source(config, "set-issuer")
    team, idp_id, issuer = uuid_arg(args.team, "--team"), uuid_arg(args.id, "--id"), _issuer_arg(args.issuer)

    async def work(state: Any) -> int:
        if not await IdpRegistry(state.store).set_issuer(team, idp_id, issuer):
            return _fail(f"team {team} has no IdP {idp_id} (register it with `scim-gateway idp add`)")
        print(f"IdP {idp_id} of team {team}: issuer {issuer}")
        return 0

    return with_state(config, work)


def _idp_list(config: Config, args: argparse.Namespace) -> int:
    from gateway.provisioning.idps import IdpRegistry

    team = uuid_arg(args.team, "--team")
    if config.backend.kind == "brig" and config.backend.spar_url:
        print("scim-gateway: note: with backend.spar_url, IdPs are read from spar, not this list", file=sys.stderr)

    async def work(state: Any) -> int:
        for record in await IdpRegistry(state.store).list(team):
            fields = {
                "id": record.id,
                "team": record.team,
                "issuer": record.issuer,
                "description": record.description,
                "created_at": record.created_at,
            }
            issuer = record.issuer or "(no issuer: scim-gateway idp set-issuer)"
            line = f"{record.id}  {issuer}  created {record.created_at}  {record.description}"
            print(json.dumps(fields) if args.json else line)
        return 0

    return with_state(config, work)


def _idp_remove(config: Config, args: argparse.Namespace) -> int:
    from gateway.provisioning.idps import IdpRegistry
    from gateway.store.base import IdpInUse

    team, idp_id = uuid_arg(args.team, "--team"), uuid_arg(args.id, "--id")

    async def work(state: Any) -> int:
        try:
            removed = await IdpRegistry(state.store).remove(team, idp_id)
        except IdpInUse as exc:
            return _fail(str(exc))
        if not removed:
            return _fail(f"team {team} has no IdP {idp_id}")
        print(f"removed IdP {idp_id}")
        return 0

    return with_state(config, work)


def _directory(config: Config, state: Any) -> Any:
    from gateway.backend.embedded.team_directory import EmbeddedTeamDirectory

    if not isinstance(state.directory, EmbeddedTeamDirectory):
        raise UsageError(
            f"team members are the user directory's: with backend.kind {config.backend.kind} add them in "
            "Wire (Team Settings), or with `scim-gateway brig-lite add-member` for brig-lite"
        )
    return state.directory


def _member_add(config: Config, args: argparse.Namespace) -> int:
    from gateway.backend.team_directory import MemberExists

    team = uuid_arg(args.team, "--team")
    password = sys.stdin.readline().rstrip("\r\n") if args.password == "-" else args.password

    async def work(state: Any) -> int:
        try:
            member = await _directory(config, state).add_member(
                team=team, role=args.role, email=args.email, password=password
            )
        except (ValueError, MemberExists) as exc:
            return _fail(str(exc))
        print(member.id)
        return 0

    return with_state(config, work)


def _member_list(config: Config, args: argparse.Namespace) -> int:
    team = uuid_arg(args.team, "--team")

    async def work(state: Any) -> int:
        for m in await _directory(config, state).list_members(team):
            fields = {"id": m.id, "team": m.team, "email": m.email, "role": m.role, "created_at": m.created_at}
            print(json.dumps(fields) if args.json else f"{m.id}  {m.role}  {m.email}  added {m.created_at}")
        return 0

    return with_state(config, work)


def _member_remove(config: Config, args: argparse.Namespace) -> int:
    team, user = uuid_arg(args.team, "--team"), uuid_arg(args.user, "--user")

    async def work(state: Any) -> int:
        if not await _directory(config, state).remove_member(team, user):
            return _fail(f"team {team} has no member {user}")
        print(f"removed {user}")
        return 0

    return with_state(config, work)


def _scim_status(config: Config, args: argparse.Namespace) -> int:
    from gateway.app import token_service

    team = uuid_arg(args.team, "--team")

    async def work(state: Any) -> int:
        count = await token_service(config, state).count(team)
        print(json.dumps({"scim_tokens": count, "sso_invites_enabled": count == 0}))
        return 0

    return with_state(config, work)
