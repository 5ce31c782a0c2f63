"""
scim2-tester's `check_server` with two misreadings of the tool corrected, the results as JSON.

Run by tests/e2e/test_conformance.py with the interpreter of the `scim2` tool (this file imports
nothing but the tool's own packages): `python scim2_tester_corrected.py URL`. The token comes in
SCIM_CLI_HEADERS (`Authorization: Bearer ...`, as for `scim2`), never on the command line.

The two corrections, monkeypatched here and nowhere else, change nothing the tool sends but
these two things:

1. scim2-models, under the tool, cannot parse an extension URN ending in a version segment,
   such as Wire's `urn:wire:scim:schemas:profile:1.0`: its path grammar reads a URN only as the
   qualifier of an attribute name, and `1.0` is not one (`urn:...:enterprise:2.0:User` parses
   only by accident, as the attribute `User`). The tool builds such a bare URN path for every
   extension, and scim2-models already treats a bare schema URN as designating the extension
   model; only its parser stands in the way. The correction parses, where scim2-models refuses it,
   a bare URN ending in a version the same way (the URN before the last colon, then the last
   segment) without the attribute-name check, and lets it designate no attribute, as a bare schema
   URN does. The request still carries the URN as the tool wrote it.
2. The tool fills `preferredLanguage` with a random UUID; RFC 7643 §4.1.1 defines it as a
   language tag and Wire requires ISO 639-1. The correction picks one of a few ISO 639-1 codes.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
from typing import Any

from scim2_cli.session import Session
from scim2_cli.utils import split_headers
from scim2_models import InvalidPathException, Path
from scim2_models.path import path as path_module
from scim2_models.path.expressions import AttrPath, PathNode
from scim2_tester import CheckResult, check_server, filling

# A URN of at least two segments after `urn:` whose last segment is a version such as `1.0`.
VERSIONED_URN = re.compile(r"urn(?::[A-Za-z0-9][A-Za-z0-9._-]*)+:[0-9]+(?:\.[0-9]+)*", re.I)
ISO_639_1_SAMPLES = ("de", "en", "fr")
PREFERRED_LANGUAGE_PATHS = {
    "preferredlanguage",
    "urn:ietf:params:scim:schemas:core:2.0:user:preferredlanguage",
}


def accept_versioned_extension_urns() -> None:
    """Correction 1: a bare URN ending in a version parses, and designates no attribute."""
    parse_path = path_module._parse_path
    designated_attr_path = Path._designated_attr_path

    def parse(text: str) -> PathNode:
        try:
            return parse_path(text)
        except InvalidPathException:
            if not VERSIONED_URN.fullmatch(text):
                raise
        # AttrPath checks that `attr` is an attribute name, which a version is not: the node is
        # built without that check, split where scim2-models splits `urn:...:2.0:User`.
        uri, _, last = text.rpartition(":")
        node = object.__new__(AttrPath)
        for name, value in (("attr", last), ("sub_attr", None), ("uri", uri)):
            object.__setattr__(node, name, value)
        return node

    def designated(self: Path[Any]) -> AttrPath | None:
        if VERSIONED_URN.fullmatch(str(self)):
            return None
        return designated_attr_path(self)

    path_module._parse_path = parse
    Path._designated_attr_path = designated  # type: ignore[method-assign]


def fill_preferred_language_with_iso_639_1() -> None:
    """Correction 2: the random `preferredLanguage` is an ISO 639-1 code; the rest as before."""
    example_value = filling.get_random_example_value

    def example(path: Path[Any]) -> Any | None:
        if str(path).lower() in PREFERRED_LANGUAGE_PATHS:
            return random.choice(ISO_639_1_SAMPLES)
        return example_value(path)

    filling.get_random_example_value = example


def as_json(result: CheckResult) -> dict[str, Any]:
    return {
        "status": result.status.name,
        "title": result.title,
        "resource_type": result.resource_type,
        "reason": result.reason,
        "data": None if result.data is None else repr(result.data)[:2000],
    }


def main(url: str) -> None:
    accept_versioned_extension_urns()
    fill_preferred_language_with_iso_639_1()
    headers = [h for h in os.environ.get("SCIM_CLI_HEADERS", "").split(";") if h.strip()]
    client = Session(url, split_headers(headers), True, None, None, None).client
    results = check_server(client)
    json.dump([as_json(result) for result in results], sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
