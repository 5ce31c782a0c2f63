"""
brig's `UserSSOId` (libs/wire-api/src/Wire/API/User/Identity.hs, `instance FromJSON UserSSOId`,
`lenientlyParseSAMLIssuer`, `lenientlyParseSAMLNameID`): either {"tenant", "subject"} (a SAML
UserRef) or {"scim_external_id"}, never both. brig decodes and re-encodes it, so what it stores
and answers is the canonical XML of saml2-web-sso's `encodeElem` (golden
libs/wire-api/test/golden/testObject_UserSSOId_user_2.json), whatever form came in:

- tenant: an `<Issuer>` element (SAML assertion namespace) whose text is a URI, or a bare URI; a URI
  is a scheme, then ':' (uri-bytestring's lax parser). Anything else, a bare UUID included, fails
  to decode: 400 `bad-request` (brig's bodyParserErrorFormatter, services/brig/src/Brig/Run.hs).
- subject: a `<NameID>` element, or an email address (format emailAddress), or any name of 1 to
  128 characters (format unspecified).

Parsing uses the standard library's XML parser on short strings with no DTD allowed.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from gateway.brig_lite.wire_json import WireError

ASSERTION_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
_XMLNS = (
    'xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:samla="urn:oasis:names:tc:SAML:2.0:assertion" '
    'xmlns:samlm="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"'
)
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
UNSPECIFIED_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
_NAMEID_ATTRIBUTES = ("Format", "NameQualifier", "SPNameQualifier", "SPProvidedID")
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S*")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _bad(message: str) -> WireError:
    return WireError(400, "bad-request", f"Error in $: {message}")


def is_uri(text: str) -> bool:
    """A URI as saml2-web-sso reads an Issuer: a scheme, then ':'; no white space."""
    return URI.fullmatch(text) is not None


def _element(text: str, local_name: str) -> ET.Element | None:
    """`text` as one XML element `local_name` in the SAML assertion namespace, else None."""
    if not text.lstrip().startswith("<") or "<!" in text:  # no DTD, no entities
        return None
    try:
        element = ET.fromstring(text)
    except ET.ParseError:
        return None
    if element.tag != f"{{{ASSERTION_NS}}}{local_name}" or len(element) != 0:
        return None
    return element


def _escape(text: str, *, attribute: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if attribute else text


def issuer_xml(uri: str) -> str:
    """The Issuer element as brig answers it (encodeElem)."""
    return f'<Issuer {_XMLNS} xmlns="{ASSERTION_NS}">{_escape(uri)}</Issuer>'


def nameid_xml(value: str, attributes: Mapping[str, str]) -> str:
    present = [name for name in _NAMEID_ATTRIBUTES if name in attributes]
    rendered = "".join(f' {name}="{_escape(attributes[name], attribute=True)}"' for name in present)
    return f'<NameID {_XMLNS}{rendered} xmlns="{ASSERTION_NS}">{_escape(value)}</NameID>'


def parse_issuer(text: str) -> str:
    """The issuer URI of a tenant (an Issuer element or a bare URI); 400 `bad-request` otherwise."""
    element = _element(text, "Issuer")
    uri = (element.text or "").strip() if element is not None else text
    if not is_uri(uri):
        raise _bad(f"lenientlyParseSAMLIssuer: not an Issuer holding a URI: {text[:200]!r}")
    return uri


def parse_subject(text: str) -> str:
    """The subject (NameID) in brig's canonical XML; 400 `bad-request` when it is none of the three forms."""
    element = _element(text, "NameID")
    if element is not None and (element.text or "").strip():
        attributes = {name: element.attrib[name] for name in _NAMEID_ATTRIBUTES if name in element.attrib}
        return nameid_xml((element.text or "").strip(), attributes)
    if EMAIL.fullmatch(text):
        return nameid_xml(text, {"Format": EMAIL_FORMAT})
    if not text.startswith("<") and 1 <= len(text) <= 128:
        return nameid_xml(text, {"Format": UNSPECIFIED_FORMAT})
    raise _bad(f"lenientlyParseSAMLNameID: not a NameID: {text[:200]!r}")


def parse_sso_id(value: Any) -> str:
    """A UserSSOId body as brig decodes it, returned as the JSON text brig would answer."""
    if not isinstance(value, Mapping):
        raise _bad("parsing UserSSOId failed, expected Object")
    tenant, subject, external = value.get("tenant"), value.get("subject"), value.get("scim_external_id")
    for key, item in (("tenant", tenant), ("subject", subject), ("scim_external_id", external)):
        if item is not None and not isinstance(item, str):
            raise _bad(f"parsing UserSSOId failed: {key} must be a string")
    if tenant is not None and subject is not None and external is None:
        canonical = {"tenant": issuer_xml(parse_issuer(tenant)), "subject": parse_subject(subject)}
    elif tenant is None and subject is None and external is not None:
        canonical = {"scim_external_id": external}
    else:
        raise _bad("either need tenant and subject, or scim_external_id, but not both")
    return json.dumps(canonical, ensure_ascii=False)
