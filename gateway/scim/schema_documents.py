"""
Attribute definitions for schema documents (RFC 7643 §7), built from their characteristics.

Every call builds a new dict, so a caller may change what it gets back. What the attributes of a
schema are, and what their descriptions say, is the caller's: this module knows no resource.

Characteristics (RFC 7643 §7): `type` is one of `TYPES`, `mutability` one of `MUTABILITIES`,
`returned` one of `RETURNED`, `uniqueness` one of `UNIQUENESSES`; `caseExact` is given for the
text types (string, reference, binary) and left out for the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

TYPES = frozenset({"string", "boolean", "decimal", "integer", "dateTime", "binary", "reference", "complex"})
MUTABILITIES = frozenset({"readOnly", "readWrite", "immutable", "writeOnly"})
RETURNED = frozenset({"always", "never", "default", "request"})
UNIQUENESSES = frozenset({"none", "server", "global"})
TEXT_TYPES = frozenset({"string", "reference", "binary"})


def attribute(
    name: str,
    type_: str,
    description: str,
    *,
    multi_valued: bool = False,
    required: bool = False,
    case_exact: bool = False,
    mutability: str = "readWrite",
    returned: str = "default",
    uniqueness: str = "none",
    canonical_values: Sequence[str] = (),
    reference_types: Sequence[str] = (),
    sub_attributes: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """
    Build one attribute definition (RFC 7643 §7 "attributes").

    `caseExact` is written only for text types; `canonicalValues`, `referenceTypes` and
    `subAttributes` only when given.
    """
    definition: dict[str, Any] = {
        "name": name,
        "type": type_,
        "multiValued": multi_valued,
        "description": description,
        "required": required,
    }
    if type_ in TEXT_TYPES:
        definition["caseExact"] = case_exact
    if canonical_values:
        definition["canonicalValues"] = list(canonical_values)
    if reference_types:
        definition["referenceTypes"] = list(reference_types)
    definition["mutability"] = mutability
    definition["returned"] = returned
    definition["uniqueness"] = uniqueness
    if sub_attributes:
        definition["subAttributes"] = list(sub_attributes)
    return definition
