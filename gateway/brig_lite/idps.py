"""
spar's identity providers as brig-lite keeps them (table `idps`), and their JSON: spar's `IdP`
(`IdPConfig WireIdP`, libs/wire-api/src/Wire/API/User/IdentityProvider.hs; golden
libs/wire-api/test/golden/testObject_IdP_1.json):

    {"id", "metadata": {"issuer", "requestURI", "certAuthnResponse": [KeyInfo XML, ...]},
     "extraInfo": {"team", "apiVersion", "oldIssuers", "replacedBy", "handle", "domain"}}

brig-lite does no SAML: the certificate is a placeholder unless one is given, and only the issuer
matters to the gateway (the `tenant` it writes into users' sso_id).
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from gateway.brig_lite.sso_id import is_uri
from gateway.brig_lite.wire_json import WireError

# Not a certificate: brig-lite never signs or checks SAML responses.
PLACEHOLDER_CERTIFICATE = "YnJpZy1saXRlOiBubyBjZXJ0aWZpY2F0ZQ=="  # base64 of "brig-lite: no certificate"
API_VERSION = "WireIdPAPIV2"  # what spar gives a new IdP (WireIdPAPIVersion)


@dataclass(frozen=True, slots=True, kw_only=True)
class IdP:
    id: str
    team: str
    issuer: str
    request_uri: str
    certificate: str
    api_version: str | None


def key_info_xml(certificate: str) -> str:
    return (
        '<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>'
        f"{certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
    )


def idp_json(idp: IdP) -> dict[str, Any]:
    """spar's IdP object; `handle` is the id, as spar gives an IdP without a name."""
    return {
        "id": idp.id,
        "metadata": {
            "issuer": idp.issuer,
            "requestURI": idp.request_uri,
            "certAuthnResponse": [key_info_xml(idp.certificate)],
        },
        "extraInfo": {
            "team": idp.team,
            "apiVersion": idp.api_version,
            "oldIssuers": [],
            "replacedBy": None,
            "handle": idp.id,
            "domain": None,
        },
    }


def add_idp(
    conn: sqlite3.Connection,
    *,
    team: str,
    issuer: str,
    idp_id: str | None,
    request_uri: str | None,
    certificate: str | None,
    now: str,
) -> IdP:
    """A new IdP of `team`; 400 unless the issuer is a URI, 409 when the id or (within the team) issuer is taken."""
    if not is_uri(issuer):
        raise WireError(400, "bad-request", "the issuer must be a URI (a scheme, then ':')")
    if request_uri is not None and not is_uri(request_uri):
        raise WireError(400, "bad-request", "the request URI must be a URI")
    idp = IdP(
        id=str(uuid.UUID(idp_id)) if idp_id else str(uuid.uuid4()),
        team=team,
        issuer=issuer,
        request_uri=request_uri or issuer,
        certificate=certificate or PLACEHOLDER_CERTIFICATE,
        api_version=API_VERSION,
    )
    if conn.execute("SELECT 1 FROM idps WHERE id = ?", (idp.id,)).fetchone() is not None:
        raise WireError(409, "idp-already-in-use", f"IdP {idp.id} already exists")
    if conn.execute("SELECT 1 FROM idps WHERE team = ? AND issuer = ?", (team, issuer)).fetchone() is not None:
        raise WireError(409, "idp-already-in-use", "this team already has an IdP with this issuer")
    conn.execute(
        "INSERT INTO idps (id, team, issuer, request_uri, certificate, api_version, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (idp.id, team, issuer, idp.request_uri, idp.certificate, idp.api_version, now),
    )
    return idp


def team_idps(conn: sqlite3.Connection, team: str) -> list[IdP]:
    rows = conn.execute(
        "SELECT id, team, issuer, request_uri, certificate, api_version FROM idps WHERE team = ? ORDER BY seq",
        (team,),
    ).fetchall()
    return [IdP(id=r[0], team=r[1], issuer=r[2], request_uri=r[3], certificate=r[4], api_version=r[5]) for r in rows]
