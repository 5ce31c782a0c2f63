"""
Hand-written samples of the JSON shapes of wire-server's types that the brig backend and brig-lite
exchange, and one check of a JSON value against them (`shape_errors`).

Each sample follows a golden file of wire-server (libs/wire-api/test/golden/testObject_<Name>.json,
named beside it) or, where there is none, the type's `ToSchema` instance (file and definition
named). A sample is a *shape*: field names, nesting, JSON types and enum spellings, never the
golden's values. Abbreviations: U = libs/wire-api/src/Wire/API/User.hs, IB =
libs/wire-api/src/Wire/API/Routes/Internal/Brig.hs.

How a key is marked, read from the schema (libs/schema-profunctor's `field`/`optField`):
- a plain shape: `field`, required both ways, never null;
- `Opt(shape)`: `maybe_ (optField ...)`: Wire leaves the key out when it has no value (so a null in
  an answer is a drift); Wire's parser reads a missing key or null as "none";
- `Written(shape)`: `fromMaybe default <$> optField ...` or `optField ... (maybeWithDefault Null ...)`:
  Wire always writes the key (null where the shape is `Nullable`), and reads it as optional.

`shape_errors(shape, value, side)` lists every difference: `side` is ANSWER for JSON that Wire
writes (brig, galley or spar answering: strict about absent vs null) and REQUEST for JSON that Wire
reads (what the gateway sends). A key that the shape does not have is a difference on both sides.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

Side: TypeAlias = Literal["answer", "request"]
ANSWER: Side = "answer"
REQUEST: Side = "request"

# --- the shape language -------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A JSON string; `pattern` (full match) or `check` narrow it, `what` names it in errors."""

    what: str = "a string"
    pattern: str | None = None
    check: Callable[[str], bool] | None = None
    example: str = "text"

    def accepts(self, value: str) -> bool:
        if self.pattern is not None and re.fullmatch(self.pattern, value) is None:
            return False
        return self.check is None or self.check(value)


@dataclass(frozen=True)
class Int:
    example: int = 0


@dataclass(frozen=True)
class Bool:
    example: bool = True


@dataclass(frozen=True)
class Enum:
    """One of these JSON values, spelt exactly (Wire's `enum` schemas)."""

    values: tuple[Any, ...]

    def __init__(self, *values: Any) -> None:
        object.__setattr__(self, "values", values)


@dataclass(frozen=True)
class ListOf:
    item: Shape


@dataclass(frozen=True)
class MapOf:
    """A JSON object with any keys, each value of `value`'s shape."""

    value: Shape


@dataclass(frozen=True)
class Nullable:
    inner: Shape


@dataclass(frozen=True)
class OneOf:
    """Exactly the shape of one of `alternatives` (e.g. UserSSOId's two forms)."""

    alternatives: tuple[Shape, ...]

    def __init__(self, *alternatives: Shape) -> None:
        object.__setattr__(self, "alternatives", alternatives)


@dataclass(frozen=True)
class AnyJson:
    """Any JSON value (what Wire does not look into, e.g. the deprecated `picture` entries)."""


@dataclass(frozen=True)
class Opt:
    shape: Shape


@dataclass(frozen=True)
class Written:
    shape: Shape


@dataclass(frozen=True)
class Obj:
    """
    A JSON object with exactly these keys (see the module docstring for Opt and Written); the keys
    of each `together` group are null (or absent) together or set together.
    """

    fields: Mapping[str, Shape | Opt | Written] = field(default_factory=dict)
    together: tuple[tuple[str, ...], ...] = ()


Shape: TypeAlias = Text | Int | Bool | Enum | ListOf | MapOf | Nullable | OneOf | AnyJson | Obj

_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}


def _kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return _JSON_TYPES[type(value)]
    if isinstance(value, int | float):
        return "a number"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def shape_errors(shape: Shape, value: Any, side: Side, path: str = "$") -> list[str]:
    """Every way `value` differs from `shape`, as `path: what differs` lines (empty: it matches)."""
    if isinstance(shape, Nullable):
        return [] if value is None else shape_errors(shape.inner, value, side, path)
    if isinstance(shape, AnyJson):
        return []
    if isinstance(shape, OneOf):
        tries = [shape_errors(alt, value, side, path) for alt in shape.alternatives]
        if any(not errors for errors in tries):
            return []
        return [f"{path}: matches none of {len(tries)} forms: " + " | ".join("; ".join(e) for e in tries)]
    if isinstance(shape, Text):
        if not isinstance(value, str):
            return [f"{path}: expected {shape.what}, got {_kind(value)} {value!r:.80}"]
        return [] if shape.accepts(value) else [f"{path}: expected {shape.what}, got {value!r:.200}"]
    if isinstance(shape, Int):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected an integer, got {_kind(value)} {value!r:.80}"]
    if isinstance(shape, Bool):
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean, got {_kind(value)} {value!r:.80}"]
    if isinstance(shape, Enum):
        same_type = [v for v in shape.values if type(v) is type(value)]
        if value in same_type:
            return []
        return [f"{path}: expected one of {list(shape.values)}, got {value!r:.80}"]
    if isinstance(shape, ListOf):
        if not isinstance(value, list):
            return [f"{path}: expected an array, got {_kind(value)}"]
        return [e for i, item in enumerate(value) for e in shape_errors(shape.item, item, side, f"{path}[{i}]")]
    if isinstance(shape, MapOf):
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {_kind(value)}"]
        return [e for k, item in value.items() for e in shape_errors(shape.value, item, side, f"{path}.{k}")]
    return _object_errors(shape, value, side, path)


def _object_errors(shape: Obj, value: Any, side: Side, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: expected an object, got {_kind(value)}"]
    errors = [f"{path}.{key}: a key wire-server's type does not have" for key in value if key not in shape.fields]
    for key, spec in shape.fields.items():
        where = f"{path}.{key}"
        if isinstance(spec, Opt | Written):
            inner = spec.shape
            if key not in value:
                if side == ANSWER and isinstance(spec, Written):
                    errors.append(f"{where}: missing (Wire always writes it)")
                continue
            if value[key] is None and not isinstance(inner, Nullable):
                if side == ANSWER:
                    errors.append(f"{where}: null, where Wire leaves the key out or writes a value")
                continue  # Wire's parser reads null as absent
        else:
            inner = spec
            if key not in value:
                errors.append(f"{where}: missing (required)")
                continue
        errors.extend(shape_errors(inner, value[key], side, where))
    for group in shape.together:
        set_keys = [key for key in group if value.get(key) is not None]
        if set_keys and len(set_keys) != len(group):
            errors.append(f"{path}: {', '.join(group)} are set together or not at all; only {', '.join(set_keys)} is")
    return errors


def example(shape: Shape | Opt | Written) -> Any:
    """A value of this shape with every optional key present (the fullest golden-like sample)."""
    if isinstance(shape, Opt | Written):
        return example(shape.shape)
    if isinstance(shape, Nullable):
        return example(shape.inner)
    if isinstance(shape, Text | Int | Bool):
        return shape.example
    if isinstance(shape, Enum):
        return shape.values[0]
    if isinstance(shape, OneOf):
        return example(shape.alternatives[0])
    if isinstance(shape, ListOf):
        return [example(shape.item)]
    if isinstance(shape, MapOf):
        return {"Key": example(shape.value)}
    if isinstance(shape, AnyJson):
        return {}
    return {key: example(spec) for key, spec in shape.fields.items()}


# --- values inside the types ------------------------------------------------------------------

SAML_ASSERTION_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
_URI = r"[A-Za-z][A-Za-z0-9+.-]*:\S*"  # saml2-web-sso reads an Issuer as a URI: a scheme, then ':'


def _saml_element(text: str, name: str) -> ET.Element | None:
    if not text.startswith("<") or "<!" in text:
        return None
    try:
        element = ET.fromstring(text)
    except ET.ParseError:
        return None
    return element if element.tag == f"{{{SAML_ASSERTION_NS}}}{name}" and len(element) == 0 else None


def _issuer_holding_uri(text: str) -> bool:
    element = _saml_element(text, "Issuer")
    return element is not None and re.fullmatch(_URI, (element.text or "").strip()) is not None


def _name_id(text: str) -> bool:
    element = _saml_element(text, "NameID")
    return element is not None and bool((element.text or "").strip())


STR = Text()
INT = Int()
BOOL = Bool()
UUID = Text(
    "a UUID",
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    example="5c1a7e0e-8a47-4e0a-9b3f-0f5e2d6c1a01",
)
URI = Text("a URI", _URI, example="https://idp.example.com/")
LOCALE = Text(
    "a Locale (<ISO 639-1>[-<ISO 3166-1>])", r"[a-z]{2}(-[A-Z]{2})?", example="en"
)  # golden LocaleUpdate_user_1
UTC_MILLIS = Text(
    "a UTCTimeMillis", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", example="2026-04-11T10:00:00.123Z"
)  # golden TeamMember_team_1 created_at
ISSUER_XML = Text(
    "an <Issuer> element (SAML assertion namespace) holding a URI",
    check=_issuer_holding_uri,
    example=f'<Issuer xmlns="{SAML_ASSERTION_NS}">https://idp.example.com/</Issuer>',
)
NAME_ID_XML = Text(
    "a <NameID> element (SAML assertion namespace)",
    check=_name_id,
    example=f'<NameID xmlns="{SAML_ASSERTION_NS}" Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">'
    "bjensen</NameID>",
)

# brig answers a SAML UserSSOId in saml2-web-sso's canonical XML (`encodeElem`), whatever form it was
# sent in: golden testObject_UserSSOId_user_2.json, with {} for the issuer URI and the NameID.
_CANONICAL_XMLNS = (
    'xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:samla="urn:oasis:names:tc:SAML:2.0:assertion" '
    'xmlns:samlm="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"'
)
CANONICAL_TENANT = f'<Issuer {_CANONICAL_XMLNS} xmlns="{SAML_ASSERTION_NS}">{{}}</Issuer>'
CANONICAL_EMAIL_SUBJECT = (
    f'<NameID {_CANONICAL_XMLNS} Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" '
    f'xmlns="{SAML_ASSERTION_NS}">{{}}</NameID>'
)

# U `instance ToSchema AccountStatus`
ACCOUNT_STATUS = Enum("active", "suspended", "deleted", "ephemeral", "pending-invitation")
# libs/wire-api/src/Wire/API/User/Profile.hs `instance ToSchema ManagedBy`
MANAGED_BY = Enum("wire", "scim")
# libs/wire-api/src/Wire/API/Team/Role.hs `roleName`
ROLE = Enum("owner", "admin", "member", "partner")
# U `instance ToSchema UserType`
USER_TYPE = Enum("regular", "app", "bot")
# U `instance ToSchema BaseProtocolTag`
PROTOCOL = Enum("proteus", "mls")
# U `instance FromByteString EmailActivation`
EMAIL_ACTIVATION = Enum("send_activation_email", "auto_activate")
# libs/types-common/src/Data/LegalHold.hs `instance ToSchema UserLegalHoldStatus`
LEGALHOLD_STATUS = Enum("enabled", "pending", "disabled", "no_consent")
# libs/wire-api/src/Wire/API/Team/Feature.hs: FeatureStatus, LockStatus, FeatureTTL
FEATURE_STATUS = Enum("enabled", "disabled")
LOCK_STATUS = Enum("locked", "unlocked")
# U `instance ToSchema VerificationAction`
VERIFICATION_ACTION = Enum("create_scim_token", "login", "delete_team")

# --- the types -----------------------------------------------------------------------------------

# golden testObject_User_user_4.json (qualified_id)
QUALIFIED_ID = Obj({"domain": STR, "id": UUID})

# golden testObject_UserSSOId_user_2.json (SAML) and testObject_UserSSOId_user_9.json (SCIM);
# libs/wire-api/src/Wire/API/User/Identity.hs `instance FromJSON UserSSOId`: never both forms.
USER_SSO_ID = OneOf(
    Obj({"tenant": ISSUER_XML, "subject": NAME_ID_XML}),
    Obj({"scim_external_id": STR}),
)

# golden testObject_User_user_2.json (assets, the fullest asset list)
ASSET = Obj({"key": STR, "type": Enum("image"), "size": Opt(Enum("preview", "complete"))})

# golden testObject_User_user_4.json (the fullest: handle, email, team, sso_id, service, expires_at),
# with text_status from testObject_User_user_2.json; keys as U `userObjectSchema` marks them
# (email and sso_id from `maybeUserIdentityObjectSchema`, libs/wire-api/src/Wire/API/User/Identity.hs).
USER = Obj(
    {
        "qualified_id": QUALIFIED_ID,
        "type": USER_TYPE,
        "id": Written(UUID),  # `optional (field "id" ...)`: always written, deprecated for qualified_id
        "email": Opt(STR),
        "sso_id": Opt(USER_SSO_ID),
        "email_unvalidated": Opt(STR),
        "name": STR,
        "text_status": Opt(STR),
        "picture": Written(ListOf(AnyJson())),  # deprecated Pict, [] in every golden
        "assets": Written(ListOf(ASSET)),
        "accent_id": INT,
        "status": ACCOUNT_STATUS,
        "locale": LOCALE,
        "service": Opt(Obj({"id": UUID, "provider": UUID})),
        "handle": Opt(STR),
        "expires_at": Opt(UTC_MILLIS),
        "team": Opt(UUID),
        "managed_by": Written(MANAGED_BY),
        "supported_protocols": Written(ListOf(PROTOCOL)),
        "deleted": Opt(Enum(True)),  # only for a deleted user (testObject_User_user_1.json)
        "searchable": Written(BOOL),
    }
)

# golden testObject_RichInfoAssocList_user_1.json (version is always 0)
RICH_INFO_ASSOC_LIST = Obj({"fields": ListOf(Obj({"type": STR, "value": STR})), "version": Enum(0)})

RICH_INFO_MAP_URN = "urn:ietf:params:scim:schemas:extension:wire:1.0:User"
RICH_INFO_LIST_URN = "urn:wire:scim:schemas:profile:1.0"
# golden testObject_RichInfo_user_1.json; libs/wire-api/src/Wire/API/User/RichInfo.hs
# `richInfoMapAndListSchema`: both keys written, each optional when read.
RICH_INFO = Obj(
    {
        RICH_INFO_MAP_URN: Written(MapOf(STR)),
        RICH_INFO_LIST_URN: Written(Obj({"richInfo": RICH_INFO_ASSOC_LIST})),
    }
)

# U `instance ToSchema NewUserSpar` (no golden): the body of POST /i/users/spar.
NEW_USER_SPAR = Obj(
    {
        "newUserSparUUID": UUID,
        "newUserSparSSOId": USER_SSO_ID,
        "newUserSparDisplayName": STR,
        "newUserSparTeamId": UUID,
        "newUserSparManagedBy": MANAGED_BY,
        "newUserSparHandle": Opt(STR),
        "newUserSparRichInfo": Opt(RICH_INFO),
        "newUserSparLocale": Opt(LOCALE),
        "newUserSparRole": ROLE,
    }
)

# U `instance Schema.ToSchema NewUserScimInvitation` (no golden): POST /i/teams/:tid/invitations.
NEW_USER_SCIM_INVITATION = Obj(
    {
        "team_id": UUID,
        "user_id": UUID,
        "external_id": STR,
        "locale": Opt(LOCALE),
        "name": STR,
        "email": STR,
        "role": ROLE,
    }
)

NAME_UPDATE = Obj({"name": STR})  # golden testObject_NameUpdate_user_1.json
HANDLE_UPDATE = Obj({"handle": STR})  # golden testObject_HandleUpdate_user_1.json
LOCALE_UPDATE = Obj({"locale": LOCALE})  # golden testObject_LocaleUpdate_user_1.json
EMAIL_UPDATE = Obj({"email": STR})  # golden testObject_EmailUpdate_user_1.json
MANAGED_BY_UPDATE = Obj({"managed_by": MANAGED_BY})  # U `instance ToSchema ManagedByUpdate`
RICH_INFO_UPDATE = Obj({"rich_info": RICH_INFO_ASSOC_LIST})  # U `instance ToSchema RichInfoUpdate`
ACCOUNT_STATUS_UPDATE = Obj({"status": ACCOUNT_STATUS})  # U `AccountStatusUpdate` (and `AccountStatusResp`)

# libs/wire-api/src/Wire/API/User/Auth/ReAuth.hs `instance ToSchema ReAuthUser` (no golden)
REAUTH_USER = Obj(
    {
        "password": Written(Nullable(STR)),
        "verification_code": Written(Nullable(STR)),
        "action": Written(Nullable(VERIFICATION_ACTION)),
    }
)

# golden testObject_TeamMember_team_1.json (`permissions`)
PERMISSIONS = Obj({"self": INT, "copy": INT})

# golden testObject_NewTeamMember_team_1.json; libs/wire-api/src/Wire/API/Team/Member.hs
# `newTeamMemberSchema`, `invitedSchema` (created_by/created_at: both or neither, null when neither).
NEW_TEAM_MEMBER_FIELDS: dict[str, Shape | Opt | Written] = {
    "user": UUID,
    "permissions": PERMISSIONS,
    "created_by": Written(Nullable(UUID)),
    "created_at": Written(Nullable(UTC_MILLIS)),
}
INVITED = (("created_by", "created_at"),)  # `invitedSchema'`: Maybe (UserId, UTCTimeMillis)
NEW_TEAM_MEMBER = Obj({"member": Obj(NEW_TEAM_MEMBER_FIELDS, together=INVITED)})

# golden testObject_TeamMember_team_1.json; Team/Member.hs `teamMemberObjectSchema`
TEAM_MEMBER = Obj({**NEW_TEAM_MEMBER_FIELDS, "legalhold_status": Written(LEGALHOLD_STATUS)}, together=INVITED)

# golden testObject_LockableFeature_team_10.json (a feature without config, as validateSAMLemails:
# Team/Feature.hs RequireExternalEmailVerificationConfig, `objectSchema = pure ...`)
LOCKABLE_FEATURE = Obj(
    {"status": FEATURE_STATUS, "lockStatus": LOCK_STATUS, "ttl": Written(OneOf(Enum("unlimited"), INT))}
)

# golden testObject_NewUserGroup_1.json
NEW_USER_GROUP = Obj({"name": STR, "members": ListOf(UUID)})

# IB `instance ToSchema CreateGroupInternalRequest` (no golden): POST /i/user-groups/full
CREATE_GROUP_INTERNAL_REQUEST = Obj(
    {
        "managed_by": MANAGED_BY,
        "team_id": UUID,
        "creator_user_id": Written(Nullable(UUID)),
        "new_group": NEW_USER_GROUP,
    }
)

# IB `instance ToSchema UpdateGroupInternalRequest` (no golden): PUT /i/user-groups
UPDATE_GROUP_INTERNAL_REQUEST = Obj(
    {
        "team_id": UUID,
        "group_id": UUID,
        "name": Written(Nullable(STR)),
        "members": Written(Nullable(ListOf(UUID))),
    }
)

# golden testObject_UserGroup_2.json; libs/wire-api/src/Wire/API/UserGroup.hs
# `instance ToSchema (UserGroup_ Identity)` (membersCount, channels, channelsCount optional)
USER_GROUP = Obj(
    {
        "id": UUID,
        "name": STR,
        "members": ListOf(UUID),
        "membersCount": Opt(INT),
        "channels": Opt(ListOf(QUALIFIED_ID)),
        "channelsCount": Opt(INT),
        "managedBy": MANAGED_BY,
        "createdAt": UTC_MILLIS,
    }
)

# golden testObject_UserGroupPage_1.json; libs/wire-api/src/Wire/API/UserGroup/Pagination.hs
# (`UserGroupPageWithMembers` = UserGroupPage_ UserGroup for the internal `i-get-groups`)
USER_GROUP_PAGE = Obj({"page": ListOf(USER_GROUP), "total": INT})

# golden testObject_IdP_1.json (extraInfo: libs/wire-api/src/Wire/API/User/IdentityProvider.hs
# `instance Schema.ToSchema WireIdP`, every key written, null when empty: testObject_IdP_2.json)
IDP = Obj(
    {
        "id": UUID,
        "metadata": Obj({"issuer": URI, "requestURI": URI, "certAuthnResponse": ListOf(STR)}),
        "extraInfo": Obj(
            {
                "team": UUID,
                "apiVersion": Nullable(Enum("WireIdPAPIV1", "WireIdPAPIV2")),
                "oldIssuers": ListOf(URI),
                "replacedBy": Nullable(UUID),
                "handle": STR,
                "domain": Nullable(STR),
            }
        ),
    }
)

# IdentityProvider.hs `newtype IdPList` (deriveJSON, no golden): spar's GET /i/identity-providers/:tid
IDP_LIST = Obj({"providers": ListOf(IDP)})

# libs/wai-utilities/src/Network/Wai/Utilities/Error.hs `instance ToJSON Error` (data, inner optional)
WIRE_ERROR = Obj({"code": INT, "label": STR, "message": STR, "data": Opt(AnyJson()), "inner": Opt(AnyJson())})
