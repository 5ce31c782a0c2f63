"""
docs/configuration.md is generated from the config classes (gateway/config.py): every section and
key with its type, default, allowed range, help text and environment variable. The test renders it
afresh and compares; a key added, removed or changed without regenerating fails it.

Regenerate after changing gateway/config.py:

    SCIM_GATEWAY_UPDATE_DOCS=1 .venv/bin/python -m pytest -q tests/unit/test_config_reference.py
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml

from gateway.config import ENV_PREFIX, KEEPABLE_ATTRIBUTES, Config, FaultRule, defaults_as_yaml_items

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE = REPO_ROOT / "docs" / "configuration.md"
UPDATE_VARIABLE = "SCIM_GATEWAY_UPDATE_DOCS"
REGENERATE = f"{UPDATE_VARIABLE}=1 .venv/bin/python -m pytest -q tests/unit/test_config_reference.py"

INTRO = f"""\
# Configuration reference

<!-- Generated from gateway/config.py by tests/unit/test_config_reference.py; do not edit by hand.
     Regenerate: {REGENERATE} -->

The gateway reads one YAML file once, at start: `--config FILE`, else `./config.yaml` when it
exists, else the built-in defaults below (the Docker image and the Helm chart pass
`--config /etc/scim-gateway/config.yaml`). `config.yaml` at the top of the repository lists every
key with its default and help as a comment; a test keeps it equal to this page's defaults.

Any key can be set by an environment variable `{ENV_PREFIX}SECTION__KEY` (upper case, `__` between
the parts), which wins over the file. Its value is read as YAML: `SCIM_GATEWAY__LISTEN__PORT=9000`,
`SCIM_GATEWAY__TRUSTED_PROXIES='["10.0.0.0/8"]'`, `SCIM_GATEWAY__STORE__MIGRATE_AT_START=false`.

A configuration the gateway cannot use stops it before it listens, with exit status 2 and a
message naming the key (and the line, for a YAML syntax error): an unknown key, a key given twice
in one mapping, a value of the wrong type or out of its range, or one of the rules between keys
listed at the end. `scim-gateway check-config [--config FILE]` checks a file (and the environment)
the same way and prints the result, a password in `store.dsn` shown as `***`.
"""

CROSS_FIELD_RULES = """\
## Rules between keys

- `store.path` is required with `store.kind: sqlite`, `store.dsn` with `store.kind: postgres`
  (which also needs psycopg: `pip install 'scim-gateway[postgres]'`; the Docker image has it).
- `backend.brig_url` is required with `backend.kind: brig`; `backend.brig_url`,
  `backend.galley_url`, `backend.spar_url`, `public_base_url` and `sso_switch.webhook_url` must
  start with `http://` or `https://`.
- Every entry of `trusted_proxies` and `listen.trusted_proxies` is a CIDR (`10.0.0.0/8`,
  `::1/128`); `listen.internal_port` differs from `listen.port`.
- `sso_switch.retry_seconds` ≤ `sso_switch.max_retry_seconds`; `limits.default_page_size` ≤
  `limits.max_page_size`.
- `scim.kept_attributes` names core User attributes Wire has no place for: {keepable}.
"""


def render_reference(root: type = Config) -> str:
    """The whole page: the introduction, one table per section, the fault rule, the cross-key rules."""
    fields = dataclasses.fields(root)
    hints = typing.get_type_hints(root)
    top = [f for f in fields if not _is_section(hints[f.name])]
    parts = [INTRO]
    parts.append(_table("Top-level keys", "keys outside any section", "", top, hints))
    for f in fields:
        if _is_section(hints[f.name]):
            section = hints[f.name]
            parts.append(
                _table(
                    f"`{f.name}`",
                    f.metadata["help"],
                    f"{f.name}.",
                    dataclasses.fields(section),
                    typing.get_type_hints(section),
                )
            )
    parts.append(
        _table(
            "A fault rule (`brig_lite.faults[]`)",
            "each entry of `brig_lite.faults` is a mapping with these keys (the list is set whole, by the "
            "file or `SCIM_GATEWAY__BRIG_LITE__FAULTS`): " + (FaultRule.__doc__ or "").strip().rstrip(".").lower(),
            "",
            dataclasses.fields(FaultRule),
            typing.get_type_hints(FaultRule),
            env=False,
        )
    )
    keepable = ", ".join(f"`{name}`" for name in sorted(KEEPABLE_ATTRIBUTES, key=str.lower))
    parts.append(CROSS_FIELD_RULES.format(keepable=keepable))
    return "\n".join(parts)


def _is_section(hint: Any) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


def _table(title: str, about: str, prefix: str, fields: Any, hints: dict[str, Any], *, env: bool = True) -> str:
    head = "| key | type | default | environment variable | what it does |\n|---|---|---|---|---|\n"
    if not env:
        head = "| key | type | default | what it does |\n|---|---|---|---|\n"
    rows = []
    for f in fields:
        key = f"{prefix}{f.name}"
        cells = [f"`{key}`", _type(hints[f.name], f.metadata), f"`{_yaml(f.default)}`"]
        if env:
            cells.append(f"`{ENV_PREFIX}{key.upper().replace('.', '__')}`")
        cells.append(_cell(f.metadata["help"]))
        rows.append("| " + " | ".join(cells) + " |\n")
    text = f"## {title}\n\n{_cell(about[:1].upper() + about[1:])}.\n\n{head}{''.join(rows)}"
    return text


def _type(hint: Any, meta: typing.Mapping[str, Any]) -> str:
    name = _type_name(hint)
    low, high = meta.get("min"), meta.get("max")
    if low is not None and high is not None:
        name += f", {low} to {high}"
    elif low is not None:
        name += f", at least {low}"
    return name


def _type_name(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in args if a is not type(None)]
        return f"{_type_name(inner)} or null"
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin is tuple:
        item = args[0]
        if _is_section(item):
            return "list of fault rules (below)" if item is FaultRule else f"list of {item.__name__}"
        return f"list of {_type_name(item)}s"
    return {str: "string", int: "integer", float: "number", bool: "boolean"}[hint]


def _yaml(value: Any) -> str:
    """A default as it is written in YAML, on one line."""
    value = list(value) if isinstance(value, tuple) else value
    text: str = yaml.safe_dump(value, default_flow_style=True, width=1000)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def test_the_reference_is_generated_from_the_config_classes() -> None:
    """docs/configuration.md is what gateway/config.py renders to (regenerate it when a key changes)."""
    expected = render_reference()
    if os.environ.get(UPDATE_VARIABLE) == "1":
        REFERENCE.write_text(expected, encoding="utf-8")
    actual = REFERENCE.read_text(encoding="utf-8") if REFERENCE.is_file() else ""

    assert expected == actual, f"docs/configuration.md is out of date with gateway/config.py; regenerate: {REGENERATE}"


def test_every_key_is_documented_with_its_environment_variable_and_default() -> None:
    """Each leaf key of the config has a row naming it, its SCIM_GATEWAY__ variable and its default."""
    rows = {
        match.group(1): match.group(0)
        for match in re.finditer(r"^\| `([a-z_.]+)` \|.*$", REFERENCE.read_text(encoding="utf-8"), re.M)
    }
    missing = []
    for key, default, help in defaults_as_yaml_items():
        row = rows.get(key, "")
        env = ENV_PREFIX + key.upper().replace(".", "__")
        if f"`{env}`" not in row or f"`{_yaml(default)}`" not in row or _cell(help) not in row:
            missing.append(key)
    assert [] == missing, f"keys without a complete row in docs/configuration.md; regenerate: {REGENERATE}"


def test_every_fault_rule_key_is_documented() -> None:
    """The keys of a brig-lite fault rule have rows too (the list itself is one variable)."""
    text = REFERENCE.read_text(encoding="utf-8")
    part = text.split("## A fault rule", 1)[-1]

    assert [] == [f.name for f in dataclasses.fields(FaultRule) if f"| `{f.name}` |" not in part]


def test_a_new_key_changes_the_rendering() -> None:
    """A key added to a section shows up in the rendering, so the comparison above would fail."""
    text = render_reference(_Root)

    assert "| `extra.answer` | integer, at least 1 | `42` | `SCIM_GATEWAY__EXTRA__ANSWER` | the answer |" in text
    assert text != render_reference()


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Extra:
    answer: int = dataclasses.field(default=42, metadata={"help": "the answer", "min": 1})


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Root:
    extra: _Extra = dataclasses.field(default_factory=_Extra, metadata={"help": "a new section"})


@pytest.mark.parametrize(
    ("hint", "meta", "expected"),
    [
        (int, {"min": 1, "max": 65535}, "integer, 1 to 65535"),
        (float, {"min": 0}, "number, at least 0"),
        (str | None, {}, "string or null"),
        (Literal["sqlite", "postgres"], {}, "one of `sqlite`, `postgres`"),
        (tuple[str, ...], {}, "list of strings"),
        (tuple[FaultRule, ...], {}, "list of fault rules (below)"),
        (bool, {}, "boolean"),
    ],
)
def test_types_read_as_words(hint: Any, meta: dict[str, Any], expected: str) -> None:
    """Each annotation of gateway/config.py is named in words, with its range."""
    assert expected == _type(hint, meta)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "null"), (True, "true"), (8080, "8080"), ("./data/gateway.db", "./data/gateway.db"), ((), "[]"),
     (("127.0.0.1/32", "::1/128"), "[127.0.0.1/32, '::1/128']")],
)  # fmt: skip
def test_defaults_are_written_as_yaml(value: Any, expected: str) -> None:
    """A default reads as the YAML an operator would write."""
    assert expected == _yaml(value)
