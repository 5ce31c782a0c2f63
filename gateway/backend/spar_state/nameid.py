"""
How spar keys a SAML user and a token, pure (no I/O):

- `normalized_uname_id`: the clustering key of `user_v2`. spar's `normalizeQualifiedNameId`
  (services/spar/src/Spar/Data.hs) drops the NameID's qualifiers and case-folds its text
  (`Data.CaseInsensitive.foldCase`, full Unicode case folding: Python's `str.casefold`). For an
  externalId, spar's SCIM builds the NameID in `mkValidScimId`/`validateSubject`
  (services/spar/src/Spar/Scim/User.hs): format emailAddress when the text is an email address,
  else unspecified; both render as the text itself (saml2-web-sso `unsafeShowNameID`), so the key
  is the case-folded externalId.
- `name_id_xml`: the `sso_id` column, the NameID as saml2-web-sso's `encodeElem` writes it (the
  `Cql SAML.NameID` instance, libs/wire-subsystems/src/Wire/IdPConfigStore/Orphans.hs; its form in
  the golden libs/wire-api/test/golden/testObject_UserSSOId_user_2.json).
- `token_key`: the partition key of `team_provisioning_by_token`, `sha512:` and the base64 of the
  SHA-512 of the token's UTF-8 bytes (`hashScimToken`, libs/wire-api/src/Wire/API/User/Scim.hs;
  `Cql ScimTokenHash`, services/spar/src/Spar/Data/Instances.hs).
"""

from __future__ import annotations

import base64
import hashlib

from gateway.scim.text import is_email

ASSERTION_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
UNSPECIFIED_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
# The namespace declarations encodeElem puts on every element it renders (hsaml2's defaults).
_NAMESPACES = (
    'xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:samla="urn:oasis:names:tc:SAML:2.0:assertion" '
    'xmlns:samlm="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"'
)
TOKEN_HASH_PREFIX = "sha512:"


def normalized_uname_id(external_id: str) -> str:
    """`user_v2.normalized_uname_id` for a SAML user whose externalId (the NameID's text) is this."""
    return external_id.casefold()


def name_id_format(external_id: str) -> str:
    """The NameID format spar gives an externalId: emailAddress for an email address, else unspecified."""
    return EMAIL_FORMAT if is_email(external_id) else UNSPECIFIED_FORMAT


def name_id_xml(external_id: str) -> str:
    """`user_v2.sso_id`: the NameID element for this externalId, as spar stores it."""
    text = external_id.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<NameID {_NAMESPACES} Format="{name_id_format(external_id)}" xmlns="{ASSERTION_NS}">{text}</NameID>'


def token_key(token: str) -> str:
    """The hashed lookup key spar stores for a SCIM token (never the token itself)."""
    digest = hashlib.sha512(token.encode("utf-8")).digest()
    return TOKEN_HASH_PREFIX + base64.b64encode(digest).decode("ascii")
