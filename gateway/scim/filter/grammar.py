"""
SCIM filter parser and renderer (RFC 7644 §3.4.2.2; attribute paths per RFC 7644 §3.10).

`parse_filter` is a recursive-descent parser over `tokens.tokenize`:

    filter    = orExp
    orExp     = andExp *("or" andExp)                       ; left-associative
    andExp    = unary *("and" unary)                        ; "and" binds tighter than "or"
    unary     = "not" "(" filter ")" / "(" filter ")" / attrExp / valuePath
    valuePath = attrPath "[" valFilter "]" ["." ATTRNAME (compareOp compValue / "pr")]
    attrExp   = attrPath ("pr" / compareOp compValue)

Keywords and operators are case-insensitive. Besides the RFC it accepts Entra's
`emails[type eq "work"].value eq "x"` and unquoted bare-word values after eq/ne/co/sw/ew.
Every failure is an `InvalidFilter` naming the character where the filter broke.

`parse_attr_path` reads a `sortBy`/`attributes` path; `render_filter` writes canonical filter text.
"""

from __future__ import annotations

import functools
import json
import math
import re

from gateway.scim.errors import InvalidFilter, InvalidPath
from gateway.scim.filter.ast import (
    COMPARE_OPS,
    And,
    AttrPath,
    Compare,
    Filter,
    Not,
    Or,
    Present,
    Value,
    ValuePath,
)
from gateway.scim.filter.tokens import (
    PathSyntaxError,
    Token,
    invalid,
    is_attr_name,
    literal_value,
    snippet,
    split_attr_path,
    tokenize,
)
from gateway.scim.text import unstorable

__all__ = [
    "MAX_DEPTH",
    "MAX_NESTING",
    "MAX_TERMS",
    "parse_attr_path",
    "parse_filter",
    "refuse_unstorable",
    "render_filter",
]

# Both stores compile a filter into one SQL expression, nested as the parsed tree is; SQLite's
# parser gives up ("parser stack overflow", a 500) at about 88 comparisons joined by `or`, or 18
# nested `not (...)`, fewer of both together. Entra and Okta send one comparison, or two joined by
# `and` (docs/clients.md); these limits stay far above that and far below SQLite's (docs/limits.md;
# tests/api/test_hardening_values.py runs the worst filter they allow on both stores).
MAX_DEPTH = 32  # nested "(", "not (" and "[" groups as written, needed or not: bounds the parser
MAX_TERMS = 50  # comparisons in one filter
MAX_NESTING = 5  # levels of the parsed tree: "not (...)", "[...]", and an and/or group right of and/or

_OPERATORS = "(eq, ne, co, sw, ew, gt, ge, lt, le, pr)"
_BARE_VALUE_OPS = frozenset({"eq", "ne", "co", "sw", "ew"})
_KEYWORDS = frozenset({"and", "or", "not"})
_VALUE_HINT = 'a value (a "double-quoted" string, a number, true, false or null)'


# The filter nearly every IdP request carries (`userName eq "x"`, `externalId eq "x"`): one
# comparison of a plain attribute with a string that needs no JSON unescaping. Matched by this
# pattern it costs a microsecond instead of the tokenizer's and parser's 30; anything else takes
# the full parser, which gives the same AST (test_filter_grammar.py checks that they agree).
_SIMPLE_COMPARISON = re.compile(
    r' *([A-Za-z$][A-Za-z0-9_$-]*) +(eq|ne|co|sw|ew|gt|ge|lt|le) +"([^"\\\x00-\x1f\ud800-\udfff]*)" *',
    re.IGNORECASE | re.ASCII,  # without ASCII, IGNORECASE lets "ſ" match "s" and "K" match "k"  # noqa: RUF003 - the long s is the point
)


def parse_filter(text: str) -> Filter:
    """Parse a SCIM filter into the AST; raises InvalidFilter (and nothing else) on bad input."""
    if not isinstance(text, str):
        raise InvalidFilter("Invalid filter: the filter must be text")
    return _parse_text(text)


@functools.lru_cache(maxsize=64)  # a request reads its filter more than once (checked, then searched)
def _parse_text(text: str) -> Filter:
    """`parse_filter` of text; the AST is immutable (frozen dataclasses and tuples), so it can be shared."""
    simple = _SIMPLE_COMPARISON.fullmatch(text)
    if simple is not None:
        name, op, value = simple.groups()
        return Compare(AttrPath(None, name.lower()), op.lower(), value)
    return parse_filter_fully(text)


def parse_filter_fully(text: str) -> Filter:
    """parse_filter without its shortcut for the one common shape."""
    return _Parser(tokenize(text)).parse()


def parse_attr_path(text: str) -> AttrPath:
    """Parse a `sortBy` or `attributes` entry (`[URN:]attr[.sub]`); raises InvalidPath."""
    if not isinstance(text, str):
        raise InvalidPath("Invalid attribute path: the path must be text")
    stripped = text.strip()
    if not stripped:
        raise InvalidPath("Invalid attribute path: the path is empty")
    try:
        return split_attr_path(stripped)
    except PathSyntaxError as exc:
        column = len(text) - len(text.lstrip()) + exc.offset + 1
        raise InvalidPath(f"Invalid attribute path {snippet(stripped)} at character {column}: {exc.message}") from None


class _Parser:
    """One parse: a cursor over the tokens plus the depth and term counters."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0
        self.terms = 0
        self.last_value_bare = False

    # -- cursor -------------------------------------------------------------------------------

    @property
    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def after_previous(self) -> str:
        if self.index == 0:
            return "at the start of the filter"
        return f"after {snippet(self.tokens[self.index - 1].text)}"

    def is_keyword(self, word: str) -> bool:
        token = self.peek
        return token.kind == "word" and token.text.lower() == word

    # -- grammar ------------------------------------------------------------------------------

    def parse(self) -> Filter:
        if self.peek.kind == "end":
            raise invalid(0, "the filter is empty")
        result = self.or_expr(in_brackets=False)
        token = self.peek
        if token.kind == ")":
            raise invalid(token.pos, "this ')' has no matching '('")
        if token.kind == "]":
            raise invalid(token.pos, "this ']' has no matching '['")
        if token.kind != "end":
            raise invalid(token.pos, self.expected("'and', 'or' or the end of the filter", token))
        if _nesting(result) > MAX_NESTING:
            raise InvalidFilter(
                f"Invalid filter: it nests more than {MAX_NESTING} levels of 'not (...)', '[...]' and "
                "parenthesised 'and'/'or' groups; write it with fewer levels"
            )
        return result

    def expected(self, what: str, token: Token) -> str:
        hint = ""
        if self.last_value_bare and token.kind == "word":
            hint = " (put values that contain spaces in double quotes)"
        return f"expected {what} {self.after_previous()}, got {token.describe()}{hint}"

    def or_expr(self, *, in_brackets: bool) -> Filter:
        result = self.and_expr(in_brackets=in_brackets)
        while self.is_keyword("or"):
            self.advance()
            result = Or(result, self.and_expr(in_brackets=in_brackets))
        return result

    def and_expr(self, *, in_brackets: bool) -> Filter:
        result = self.unary(in_brackets=in_brackets)
        while self.is_keyword("and"):
            self.advance()
            result = And(result, self.unary(in_brackets=in_brackets))
        return result

    def unary(self, *, in_brackets: bool) -> Filter:
        token = self.peek
        if token.kind == "(":
            return self.group(in_brackets=in_brackets)
        keyword = token.text.lower() if token.kind == "word" and not self.names_attribute() else ""
        if keyword == "not":
            return self.negation(in_brackets=in_brackets)
        if token.kind == "word" and keyword not in _KEYWORDS:
            return self.attr_expr(in_brackets=in_brackets)
        raise invalid(token.pos, self.expected("an attribute name, 'not (' or '('", token))

    def names_attribute(self) -> bool:
        """Whether the word under the cursor is followed by an operator or '[' (`not pr`)."""
        following = self.tokens[min(self.index + 1, len(self.tokens) - 1)]
        if following.kind == "[":
            return True
        return following.kind == "word" and following.text.lower() in COMPARE_OPS | {"pr"}

    def negation(self, *, in_brackets: bool) -> Filter:
        self.advance()
        token = self.peek
        if token.kind != "(":
            raise invalid(token.pos, self.expected("'(' (write not (...))", token))
        return Not(self.group(in_brackets=in_brackets))

    def group(self, *, in_brackets: bool) -> Filter:
        opening = self.enter()
        inner = self.or_expr(in_brackets=in_brackets)
        self.leave(opening, ")")
        return inner

    def enter(self) -> Token:
        opening = self.advance()
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise invalid(opening.pos, f"the filter nests more than {MAX_DEPTH} levels deep")
        return opening

    def leave(self, opening: Token, closer: str) -> None:
        token = self.peek
        if token.kind != closer:
            unclosed = f" (the '{opening.text}' at character {opening.pos + 1} is not closed)"
            raise invalid(token.pos, self.expected(f"'and', 'or' or '{closer}'", token) + unclosed)
        self.advance()
        self.depth -= 1

    def attr_expr(self, *, in_brackets: bool) -> Filter:
        path_token = self.advance()
        path = self.path(path_token)
        if self.peek.kind == "[":
            if in_brackets:
                raise invalid(self.peek.pos, "a value filter '[...]' cannot contain another one")
            return self.value_path(path)
        return self.comparison(path)

    def path(self, token: Token) -> AttrPath:
        try:
            return split_attr_path(token.text)
        except PathSyntaxError as exc:
            raise invalid(token.pos + exc.offset, exc.message) from None

    def value_path(self, path: AttrPath) -> Filter:
        opening = self.enter()
        inner = self.or_expr(in_brackets=True)
        self.leave(opening, "]")
        token = self.peek
        if token.kind == "word" and token.text.startswith("."):
            # Entra: `emails[type eq "work"].value eq "x"` → emails[type eq "work" and value eq "x"]
            self.advance()
            sub = token.text[1:]
            if not is_attr_name(sub):
                raise invalid(token.pos + 1, f"expected a sub-attribute name after ']', got {snippet(sub)}")
            inner = And(inner, self.comparison(AttrPath(None, sub.lower())))
        return ValuePath(path, inner)

    def comparison(self, path: AttrPath) -> Filter:
        token = self.peek
        op = token.text.lower() if token.kind == "word" else ""
        if op != "pr" and op not in COMPARE_OPS:
            raise invalid(token.pos, self.expected(f"a comparison operator {_OPERATORS}", token))
        self.advance()
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise invalid(token.pos, f"the filter has more than {MAX_TERMS} comparisons")
        if op == "pr":
            return Present(path)
        return Compare(path, op, self.comp_value(op))

    def comp_value(self, op: str) -> Value:
        token = self.peek
        self.last_value_bare = False
        if token.kind == "string":
            self.advance()
            return token.value
        if token.kind == "word":
            try:
                is_literal, value = literal_value(token.text)
            except ValueError as exc:
                raise invalid(token.pos, f"{exc} {self.after_previous()}: {token.describe()}") from None
            if is_literal:
                self.advance()
                return value
            if op in _BARE_VALUE_OPS and self.bare_word_ok(token.text):
                self.advance()
                self.last_value_bare = True
                return token.text
        hint = " (strings must be in double quotes)" if token.text.startswith("'") else ""
        raise invalid(token.pos, self.expected(_VALUE_HINT, token) + hint)

    @staticmethod
    def bare_word_ok(word: str) -> bool:
        return word.lower() not in _KEYWORDS and not word.startswith("'")


def _nesting(f: Filter) -> int:
    """
    The levels SQL nests `f` in: `not`, a value filter, and an and/or right of an and/or. A chain
    (`a or b or c`, left-associative) stays at one level; its length is bounded by MAX_TERMS.
    """
    if isinstance(f, Not):
        return 1 + _nesting(f.expr)
    if isinstance(f, ValuePath):
        return 1 + _nesting(f.filter)
    if isinstance(f, (And, Or)):
        right = _nesting(f.right) + (1 if isinstance(f.right, (And, Or)) else 0)
        return max(_nesting(f.left), right)
    return 0


def refuse_unstorable(f: Filter) -> Filter:
    """
    `f` when no value holds what no store can (a NUL: PostgreSQL's text cannot; a lone
    surrogate), else InvalidFilter. Apart from parse_filter, which reads any JSON string.
    """
    pending = [f]
    while pending:
        node = pending.pop()
        if isinstance(node, (And, Or)):
            pending.extend((node.left, node.right))
        elif isinstance(node, Not):
            pending.append(node.expr)
        elif isinstance(node, ValuePath):
            pending.append(node.filter)
        elif isinstance(node, Compare) and isinstance(node.value, str):
            problem = unstorable(node.value)
            if problem is not None:
                raise InvalidFilter(
                    f"Invalid filter: the value compared with '{node.path.dotted}' contains {problem}; remove it"
                )
    return f


# -- rendering ----------------------------------------------------------------------------------


def render_filter(f: Filter) -> str:
    """Canonical filter text for `f`: lower-case operators, JSON values, minimal parentheses."""
    if isinstance(f, Compare):
        return f"{render_attr_path(f.path)} {f.op} {render_value(f.value)}"
    if isinstance(f, Present):
        return f"{render_attr_path(f.path)} pr"
    if isinstance(f, Not):
        return f"not ({render_filter(f.expr)})"
    if isinstance(f, ValuePath):
        return f"{render_attr_path(f.path)}[{render_filter(f.filter)}]"
    if isinstance(f, And):
        return f"{_operand(f.left, Or)} and {_operand(f.right, Or, And)}"
    if isinstance(f, Or):
        return f"{render_filter(f.left)} or {_operand(f.right, Or)}"
    raise TypeError(f"not a filter node: {f!r}")


def _operand(f: Filter, *needs_parens: type) -> str:
    text = render_filter(f)
    return f"({text})" if isinstance(f, needs_parens) else text


def render_attr_path(path: AttrPath) -> str:
    """`[uri:]attr[.sub]` as written in a filter."""
    prefix = f"{path.uri}:" if path.uri is not None else ""
    return prefix + path.dotted


def render_value(value: Value) -> str:
    """A comparison value as JSON; raises ValueError for NaN and infinities, which JSON lacks."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be written in a filter")
        return repr(value)
    return json.dumps(value, ensure_ascii=False)
