"""OData v3 `$filter` syntax: tokens, the syntax tree and a recursive-descent parser.

SnelStart runs the old ASP.NET `System.Web.Http.OData` (v3): literals are typed with
prefixes (`guid'…'`, `datetime'…'`), substring search is `substringof('x', Naam)` and
collections are searched with `Relatiesoort/any(r:r eq 'Klant')`. The maintained Python
OData parsers (`odata-query`) speak v4 and know none of these, hence this small parser:

    expr    := or
    or      := and ('or' and)*
    and     := not ('and' not)*
    not     := 'not' not | cmp
    cmp     := primary (('eq'|'ne'|'gt'|'ge'|'lt'|'le') primary)?
    primary := '(' expr ')' | literal | function '(' args ')' | path ['/' ('any'|'all') lambda]

Keywords and functions are lowerCamelCase and case-sensitive, as documented (portal /odata).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any


class FilterError(Exception):
    """Malformed filter: answered with ALG-0104."""


# ---------------------------------------------------------------------------- tokens
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<typed>(?:guid|datetime|datetimeoffset|time)'(?:[^']|'')*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[()/,:])
    """,
    re.VERBOSE,
)
COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise FilterError(f"unexpected character at {pos}: {text[pos]!r}")
        pos = match.end()
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group()))
    return tokens


# ---------------------------------------------------------------------------- syntax tree
@dataclass(frozen=True)
class Literal:
    value: Any
    kind: str  # string | number | bool | null | guid | datetime


@dataclass(frozen=True)
class Path:
    segments: tuple[str, ...]


@dataclass(frozen=True)
class Lambda:
    collection: Path
    op: str  # any | all
    var: str
    body: Any


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Binary:
    op: str  # a comparison, "and" or "or"
    left: Any
    right: Any


@dataclass(frozen=True)
class Not:
    operand: Any


FUNCTIONS: dict[str, int] = {
    "substringof": 2,
    "startswith": 2,
    "endswith": 2,
    "indexof": 2,
    "length": 1,
    "tolower": 1,
    "toupper": 1,
    "trim": 1,
    "year": 1,
    "month": 1,
    "day": 1,
    "hour": 1,
    "minute": 1,
    "second": 1,
}


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self, offset: int = 0) -> Token | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise FilterError("unexpected end of filter")
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise FilterError(f"expected {text!r}, found {token.text!r}")

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "name" and token.text in words

    def parse(self) -> Any:
        node = self.parse_or()
        if self.peek() is not None:
            raise FilterError(f"unexpected {self.peek().text!r}")  # type: ignore[union-attr]
        return node

    def parse_or(self) -> Any:
        node = self.parse_and()
        while self.at_word("or"):
            self.take()
            node = Binary("or", node, self.parse_and())
        return node

    def parse_and(self) -> Any:
        node = self.parse_not()
        while self.at_word("and"):
            self.take()
            node = Binary("and", node, self.parse_not())
        return node

    def parse_not(self) -> Any:
        if self.at_word("not"):
            self.take()
            return Not(self.parse_not())
        return self.parse_comparison()

    def parse_comparison(self) -> Any:
        left = self.parse_primary()
        if self.at_word(*COMPARISONS):
            op = self.take().text
            return Binary(op, left, self.parse_primary())
        return left

    def parse_primary(self) -> Any:
        token = self.take()
        if token.text == "(":
            node = self.parse_or()
            self.expect(")")
            return node
        if token.kind == "string":
            return Literal(token.text[1:-1].replace("''", "'"), "string")
        if token.kind == "typed":
            return _typed_literal(token.text)
        if token.kind == "number":
            return Literal(_number(token.text), "number")
        if token.kind != "name":
            raise FilterError(f"unexpected {token.text!r}")
        if token.text in ("true", "false"):
            return Literal(token.text == "true", "bool")
        if token.text == "null":
            return Literal(None, "null")
        if token.text in (*COMPARISONS, "and", "or", "not"):
            raise FilterError(f"unexpected keyword {token.text!r}")
        nxt = self.peek()
        if nxt is not None and nxt.text == "(":
            return self.parse_call(token.text)
        return self.parse_path(token.text)

    def parse_call(self, name: str) -> Call:
        if name not in FUNCTIONS:
            raise FilterError(f"unknown function {name!r}")
        self.expect("(")
        args = [self.parse_or()]
        while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
            self.take()
            args.append(self.parse_or())
        self.expect(")")
        if len(args) != FUNCTIONS[name]:
            raise FilterError(f"{name} takes {FUNCTIONS[name]} arguments")
        return Call(name, tuple(args))

    def parse_path(self, first: str) -> Any:
        segments = [first]
        while self.peek() is not None and self.peek().text == "/":  # type: ignore[union-attr]
            self.take()
            name = self.take()
            if name.kind != "name":
                raise FilterError("property name expected after '/'")
            if name.text in ("any", "all"):
                self.expect("(")
                var = self.take()
                if var.kind != "name":
                    raise FilterError("lambda variable expected")
                self.expect(":")
                body = self.parse_or()
                self.expect(")")
                return Lambda(Path(tuple(segments)), name.text, var.text, body)
            segments.append(name.text)
        return Path(tuple(segments))


def _number(text: str) -> Decimal:
    try:
        return Decimal(text.rstrip("mMdDfFlL"))
    except InvalidOperation:
        raise FilterError(f"bad number {text!r}") from None


def _typed_literal(text: str) -> Literal:
    prefix, _, rest = text.partition("'")
    body = rest[:-1].replace("''", "'").strip()
    if prefix == "guid":
        try:
            return Literal(str(uuid.UUID(body)), "guid")
        except ValueError:
            raise FilterError(f"bad guid {body!r}") from None
    moment = parse_datetime(body)
    if moment is None:
        raise FilterError(f"bad datetime {body!r}")
    return Literal(moment, "datetime")


def parse_datetime(text: str) -> datetime | None:
    """SnelStart datetimes are naive (`2026-03-14T00:00:00[.fff]`); a zone is dropped."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=None)


def parse_filter(text: str) -> Any:
    return _Parser(tokenize(text)).parse()
