"""
Wire's rich info (free-form profile fields such as Department), in its two SCIM forms
(libs/wire-api/src/Wire/API/User/RichInfo.hs):

- map form under `RICH_INFO_MAP_URN`: {"Department": "Sales"};
- list form under `RICH_INFO_LIST_URN`:
  {"richInfo": {"version": 0, "fields": [{"type": "Department", "value": "Sales"}]}}
  (or the legacy {"richInfo": [{"type": ..., "value": ...}]}).

Merged as Wire does: list order kept, map values override list values of the same type
(case-insensitively), map keys not in the list appended alphabetically, empty values dropped,
duplicates removed case-insensitively. The total of type and value lengths is capped (413).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.backend.wire_user import RICH_INFO_LIST_URN, RICH_INFO_MAP_URN, RichInfo
from gateway.scim.errors import InvalidValue, PayloadTooLarge


def parse_rich_info(attrs: Mapping[str, Any], *, limit: int) -> RichInfo:
    """Rich info from a User body whose top-level keys are lower-cased."""
    listed = _list_form(attrs.get(RICH_INFO_LIST_URN.lower()))
    mapped = _map_form(attrs.get(RICH_INFO_MAP_URN.lower()))
    merged = merge_rich_info(listed, mapped)
    size = sum(len(t) + len(v) for t, v in merged)
    if size > limit:
        raise PayloadTooLarge(
            f'["{RICH_INFO_MAP_URN}","{RICH_INFO_LIST_URN}"] together exceed the size limit: max {limit} characters, '
            f"but got {size}",
            scim_type="invalidValue",
        )
    return merged


def merge_rich_info(listed: RichInfo, mapped: Mapping[str, str]) -> RichInfo:
    overrides = {k.lower(): (k, v) for k, v in mapped.items()}
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for field_type, value in listed:
        low = field_type.lower()
        if low in seen:
            continue
        seen.add(low)
        value = overrides[low][1] if low in overrides else value
        out.append((field_type, value))
    for low in sorted(overrides):
        if low not in seen:
            seen.add(low)
            out.append(overrides[low])
    return tuple((t, v) for t, v in out if v != "")


def rich_info_map(rich_info: RichInfo) -> dict[str, str]:
    return dict(rich_info)


def rich_info_list(rich_info: RichInfo) -> dict[str, Any]:
    return {"richInfo": {"version": 0, "fields": [{"type": t, "value": v} for t, v in rich_info]}}


def _map_form(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidValue(f'{RICH_INFO_MAP_URN} must be an object of text fields, e.g. {{"Department": "Sales"}}')
    out: dict[str, str] = {}
    for key, field_value in value.items():
        if field_value is None:
            continue
        if not isinstance(field_value, str):
            raise InvalidValue(f"{RICH_INFO_MAP_URN}: the value of {key!r} must be a string")
        out[str(key)] = field_value
    return out


def _list_form(value: Any) -> RichInfo:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise InvalidValue(
            f'{RICH_INFO_LIST_URN} must be an object like {{"richInfo": {{"version": 0, "fields": []}}}}'
        )
    info = next((v for k, v in value.items() if str(k).lower() == "richinfo"), None)
    if info is None:
        return ()
    if isinstance(info, Mapping):
        lowered = {str(k).lower(): v for k, v in info.items()}
        unknown = sorted(set(lowered) - {"version", "fields"})
        if unknown:  # e.g. {"Department": "Sales"}: the map form, under the wrong schema
            raise InvalidValue(
                f'{RICH_INFO_LIST_URN}: richInfo takes {{"version": 0, "fields": [{{"type", "value"}}]}}, not '
                f"{', '.join(map(repr, unknown))}; for fields as an object such as "
                f'{{"Department": "Sales"}} use the extension {RICH_INFO_MAP_URN}'
            )
        if lowered.get("version", 0) != 0:
            raise InvalidValue(f"{RICH_INFO_LIST_URN}: richInfo.version must be 0")
        info = lowered.get("fields", [])
    if not isinstance(info, list):
        raise InvalidValue(f"{RICH_INFO_LIST_URN}: richInfo.fields must be a list of {{type, value}} objects")
    fields: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, entry in enumerate(info):
        entry = {str(k).lower(): v for k, v in entry.items()} if isinstance(entry, Mapping) else {}
        field_type, field_value = entry.get("type"), entry.get("value")
        if not isinstance(field_type, str) or not isinstance(field_value, str):
            raise InvalidValue(f"{RICH_INFO_LIST_URN}: richInfo field {i} needs a string type and value")
        if field_type.lower() in seen:
            raise InvalidValue(f"{RICH_INFO_LIST_URN}: richInfo has the field type {field_type!r} twice")
        seen.add(field_type.lower())
        fields.append((field_type, field_value))
    return tuple(fields)
