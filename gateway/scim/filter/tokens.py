"""
Tokenizer and literal rules for SCIM filters (RFC 7644 §3.4.2.2, values per RFC 7159 / RFC 8259).

`tokenize` splits filter text into brackets, JSON strings and "words" (attribute paths, operators,
keywords, numbers, true/false/null and unquoted values); `parse_attr_path` checks one attribute
path (`[URN ":"] ATTRNAME ["." ATTRNAME]`, RFC 7644 §3.10). Positions are 0-based offsets into the
text; messages shown to IdP admins count characters from 1.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Literal

from gateway.scim.errors import InvalidFilter
from gateway.scim.filter.ast import AttrPath

TokenKind = Literal["(", ")", "[", "]", "string", "word", "end"]

_BRACKETS = "()[]"
_WORD_STOP = '()[]"'
_NAME_START = re.compile(r"[A-Za-z$]")
_NAME_CHAR = re.compile(r"[A-Za-z0-9_$-]")
_URN = re.compile(r"urn:[^\s:()\[\]\"][^\s()\[\]\"]*", re.IGNORECASE)
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?P<frac>\.[0-9]+)?(?P<exp>[eE][+-]?[0-9]+)?")
_SNIPPET_LIMIT = 40
_SURROGATE = re.compile("[\ud800-\udfff]")  # no character: cannot be encoded to UTF-8 for a store


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, the text as written, and its 0-based offset in the filter."""

    kind: TokenKind
    text: str
    pos: int
    value: str | None = None  # the decoded JSON string, for "string" tokens

    def describe(self) -> str:
        """How the token is named in an error message."""
        return "the end of the filter" if self.kind == "end" else snippet(self.text)


class PathSyntaxError(Exception):
    """A malformed attribute path; `offset` is relative to the start of the path text."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


def snippet(text: str) -> str:
    """Quote a piece of user input for an error message, shortened when long."""
    shown = text if len(text) <= _SNIPPET_LIMIT else text[:_SNIPPET_LIMIT] + "..."
    return f'"{shown}"' if "'" in shown else f"'{shown}'"


def invalid(pos: int, message: str) -> InvalidFilter:
    """An InvalidFilter whose detail names the (1-based) character where the filter broke."""
    return InvalidFilter(f"Invalid filter at character {pos + 1}: {message}")


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens, always ending with an "end" token; raises InvalidFilter."""
    surrogate = _SURROGATE.search(text)
    if surrogate is not None:
        raise invalid(surrogate.start(), _surrogate_message(surrogate.group()))
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in _BRACKETS:
            tokens.append(Token(ch, ch, i))  # type: ignore[arg-type]  # ch is one of _BRACKETS, a Kind
            i += 1
        elif ch == '"':
            token = _string_token(text, i)
            tokens.append(token)
            i += len(token.text)
        else:
            end = _word_end(text, i)
            tokens.append(Token("word", text[i:end], i))
            i = end
    tokens.append(Token("end", "", len(text)))
    return tokens


def _word_end(text: str, start: int) -> int:
    end = start
    while end < len(text) and not text[end].isspace() and text[end] not in _WORD_STOP:
        end += 1
    return end


def _string_token(text: str, start: int) -> Token:
    end = start + 1
    while end < len(text) and text[end] != '"':
        end += 2 if text[end] == "\\" else 1
    if end >= len(text):
        raise invalid(start, "this string has no closing '\"'")
    raw = text[start : end + 1]
    try:
        value = json.loads(raw, strict=False)
    except ValueError as exc:
        pos = getattr(exc, "pos", 0)
        message = getattr(exc, "msg", "malformed string")
        raise invalid(start + pos, f"invalid JSON string: {message}") from None
    surrogate = _SURROGATE.search(value)
    if surrogate is not None:
        raise invalid(start, _surrogate_message(surrogate.group()) + " in this string")
    return Token("string", raw, start, value)


def _surrogate_message(char: str) -> str:
    return f"a lone UTF-16 surrogate (\\u{ord(char):04x}) is no character; send the character itself"


def literal_value(word: str) -> tuple[bool, str | int | float | bool | None]:
    """
    `(True, value)` when `word` is true/false/null (any case) or a JSON number, else `(False, None)`.
    Raises ValueError for a number Python cannot hold (too many digits, or beyond float range).
    """
    lowered = word.lower()
    if lowered in ("true", "false"):
        return True, lowered == "true"
    if lowered == "null":
        return True, None
    match = _NUMBER.fullmatch(word)
    if match is None:
        return False, None
    if match["frac"] is None and match["exp"] is None:
        try:
            return True, int(word)
        except ValueError:  # more digits than int() accepts
            raise ValueError("number too long") from None
    number = float(word)
    if not math.isfinite(number):
        raise ValueError("number out of range")
    return True, number


def is_attr_name(text: str) -> bool:
    """ATTRNAME (RFC 7643 §2.1), also allowing '$' so that `$ref` works."""
    return _name_error(text) is None


def split_attr_path(text: str) -> AttrPath:
    """`[URN ":"] attr ["." sub]` → AttrPath with lower-cased names; raises PathSyntaxError."""
    uri: str | None = None
    rest_start = 0
    if ":" in text:
        uri, _, _ = text.rpartition(":")
        if _URN.fullmatch(uri) is None:
            raise PathSyntaxError(0, f"{snippet(uri)} is not a schema URN (it must start with 'urn:')")
        rest_start = len(uri) + 1
    names = text[rest_start:].split(".")
    if len(names) > 2:
        second_dot = text.index(".", text.index(".", rest_start) + 1)
        raise PathSyntaxError(second_dot, "an attribute path has at most one '.' (attribute.subAttribute)")
    offset = rest_start
    for name in names:
        error = _name_error(name)
        if error is not None:
            raise PathSyntaxError(offset + error[0], error[1])
        offset += len(name) + 1
    sub = names[1].lower() if len(names) == 2 else None
    return AttrPath(uri.lower() if uri is not None else None, names[0].lower(), sub)


def _name_error(name: str) -> tuple[int, str] | None:
    if not name:
        return 0, "expected an attribute name"
    if _NAME_START.fullmatch(name[0]) is None:
        return 0, f"an attribute name must start with a letter, got {snippet(name)}"
    for index, ch in enumerate(name):
        if _NAME_CHAR.fullmatch(ch) is None:
            return index, f"unexpected character {snippet(ch)} in attribute name {snippet(name)}"
    return None
