"""Parser of Heron's search language: filter strings and order-by clauses.

A hand-written tokenizer keeps the offset of every token so that each
``SearchSyntaxError`` can point at the exact character at fault; a recursive-descent
parser then builds the tree defined in ``ast.py``. Type checks that only need the
identifier's kind (metrics compare with numbers, LIKE needs a string, ...) happen
here, so that every store gets the same errors without reimplementing them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NoReturn

from heron.errors import SearchSyntaxError
from heron.search.ast import (
    DATASET_FIELDS,
    RUNS,
    And,
    Comparison,
    ComparisonOp,
    Expr,
    Identifier,
    Kind,
    Literal_,
    Not,
    Or,
    OrderKey,
    Vocabulary,
)

__all__ = ["parse_filter", "parse_order_by"]

_PREFIXES: dict[str, Kind] = {
    "metrics": "metric",
    "metric": "metric",
    "params": "param",
    "param": "param",
    "parameters": "param",
    "tags": "tag",
    "tag": "tag",
    "attributes": "attribute",
    "attribute": "attribute",
    "attr": "attribute",
    "run": "attribute",
    "datasets": "dataset",
    "dataset": "dataset",
}

# Symbolic operators, longest first so that "<=" is not read as "<" then "=".
_SYMBOLS: dict[str, ComparisonOp] = {
    "<=": "<=",
    ">=": ">=",
    "<>": "!=",
    "!=": "!=",
    "==": "=",
    "=": "=",
    "<": "<",
    ">": ">",
}
_POSITIVE: dict[str, ComparisonOp] = {"IN": "IN", "LIKE": "LIKE", "ILIKE": "ILIKE"}
_NEGATED: dict[str, ComparisonOp] = {"IN": "NOT IN", "LIKE": "NOT LIKE", "ILIKE": "NOT ILIKE"}

# Words that can never start an identifier; reporting them as "unexpected" reads
# better than "unknown attribute 'AND'".
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "ASC", "DESC"})

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# A number running straight into letters ("1e", "0x10", "1.2.3") is reported whole
# rather than split into a number and a confusing second token.
_NUMBER_TAIL = re.compile(r"[A-Za-z0-9_.]+")
# The part before the first dot. It accepts '-', ':' and '/' so that "run-id" is
# reported as one unknown name instead of a stray '-'.
_HEAD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-:/]*")
# Everything after the first dot, so "params.model.lr" has key "model.lr".
_BARE_KEY = re.compile(r"[A-Za-z0-9_\-:/.]+")
# Inside quotes a backslash escapes only quote characters and itself; any other
# backslash is kept, so Windows paths and LIKE escapes such as '\%' survive as typed.
_ESCAPABLE = frozenset("'\"`\\")
# Bounds nesting (parentheses and NOTs together) so that hostile input fails with a
# SearchSyntaxError here, rather than with a RecursionError in this parser or in any
# store that walks the tree recursively.
_MAX_DEPTH = 100

_EXAMPLE_KEYS: dict[Kind, str] = {
    "metric": "auc",
    "param": "lr",
    "tag": "team",
    "attribute": "status",
    "dataset": "name",
}
_PLURALS: dict[Kind, str] = {
    "metric": "metrics",
    "param": "params",
    "tag": "tags",
    "attribute": "attributes",
    "dataset": "datasets",
}
_COMPARISON_HINT = "expected a comparison such as metrics.auc > 0.5"
_OPERATOR_LIST = "(=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS)"

_TokenKind = Literal["word", "ident", "number", "string", "op", "punct", "end"]


@dataclass(frozen=True)
class _Token:
    kind: _TokenKind
    pos: int
    # The source spelling, quoted back to the user in messages.
    text: str
    # word: the word; ident: the key; number/string: the literal; op: canonical op.
    value: str | int | float = ""
    # Only for "ident": the spelling before the dot and where the key starts.
    prefix: str = ""
    key_pos: int = 0


def _fail(message: str, text: str, position: int) -> NoReturn:
    raise SearchSyntaxError(message, text, position)


def _read_quoted(text: str, start: int, what: str) -> tuple[str, int]:
    """Read the quoted run starting at ``start``; return its content and the end offset."""
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPABLE:
            out.append(text[i + 1])
            i += 2
        elif char == quote:
            return "".join(out), i + 1
        else:
            out.append(char)
            i += 1
    _fail(f"unterminated {what}; close it with a matching {quote}", text, start)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        token = _read_token(text, i)
        tokens.append(token)
        # Every token's text is its exact source slice, so this is where it ends.
        i += len(token.text)
    tokens.append(_Token("end", len(text), "end of input"))
    return tokens


def _read_token(text: str, start: int) -> _Token:
    char = text[start]
    if char in "'\"":
        value, end = _read_quoted(text, start, "string")
        return _Token("string", start, text[start:end], value)
    if char in "(),":
        return _Token("punct", start, char, char)
    number = _NUMBER.match(text, start)
    if number:
        tail = _NUMBER_TAIL.match(text, number.end())
        if tail:
            _fail(f"malformed number '{text[start : tail.end()]}'", text, start)
        literal = number.group()
        is_float = any(c in literal for c in ".eE")
        return _Token("number", start, literal, float(literal) if is_float else int(literal))
    head = _HEAD.match(text, start)
    if head:
        if not text.startswith(".", head.end()):
            return _Token("word", start, head.group(), head.group())
        return _read_key(text, start, head.group())
    symbol = next((s for s in _SYMBOLS if text.startswith(s, start)), None)
    if symbol is not None:
        return _Token("op", start, symbol, _SYMBOLS[symbol])
    hint = "; did you mean '!='?" if char == "!" else ""
    _fail(f"unexpected character {char!r}{hint}", text, start)


def _read_key(text: str, start: int, prefix: str) -> _Token:
    """Read ``prefix.key`` at ``start``, where the key is bare, `backticked` or "quoted"."""
    key_pos = start + len(prefix) + 1
    if text[key_pos : key_pos + 1] in ("`", '"'):
        key, end = _read_quoted(text, key_pos, "quoted key")
        if not key:
            _fail("empty key; put the key's name between the quotes", text, key_pos)
    elif bare := _BARE_KEY.match(text, key_pos):
        key, end = bare.group(), bare.end()
    else:
        _fail(
            f"expected a key after '{prefix}.', e.g. {prefix}.auc; "
            "quote keys with spaces or other characters in backticks",
            text,
            key_pos,
        )
    return _Token("ident", start, text[start:end], key, prefix, key_pos)


def _keyword(token: _Token) -> str | None:
    return token.text.upper() if token.kind == "word" else None


def _is_punct(token: _Token, char: str) -> bool:
    return token.kind == "punct" and token.value == char


class _Parser:
    def __init__(self, text: str, vocabulary: Vocabulary = RUNS) -> None:
        self.text = text
        self.vocabulary = vocabulary
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        # The end token stays current so that callers never run off the list.
        if token.kind != "end":
            self.index += 1
        return token

    def fail(self, message: str, position: int) -> NoReturn:
        _fail(message, self.text, position)

    # -- identifiers -------------------------------------------------------------

    def identifier(self, token: _Token) -> Identifier:
        """Resolve a word or prefixed-ident token into an ``Identifier``, or fail."""
        if token.kind == "word":
            return self._bare_identifier(token)
        if token.kind != "ident":
            where = "end of input" if token.kind == "end" else f"'{token.text}'"
            self.fail(f"unexpected {where}; {_COMPARISON_HINT}", token.pos)
        kind = _PREFIXES.get(token.prefix.lower())
        if kind is None or kind not in self.vocabulary.kinds:
            self.fail(
                f"unknown prefix '{token.prefix}'; use {self._prefix_list()}",
                token.pos,
            )
        key = str(token.value)
        if kind == "attribute":
            key = self._attribute_key(key, token.key_pos)
        elif kind == "dataset":
            # Dataset fields are a closed lower-case set, so case is not significant.
            key = key.lower()
            if key not in DATASET_FIELDS:
                valid = ", ".join(sorted(DATASET_FIELDS))
                self.fail(
                    f"unknown dataset field '{token.value}'; valid fields are: {valid}",
                    token.key_pos,
                )
        return Identifier(kind, key, token.pos)

    def _bare_identifier(self, token: _Token) -> Identifier:
        word = token.text
        if word.upper() in _KEYWORDS:
            self.fail(f"unexpected '{word}'; {_COMPARISON_HINT}", token.pos)
        lowered = word.lower()
        if _PREFIXES.get(lowered) in self.vocabulary.kinds:
            example = _EXAMPLE_KEYS[_PREFIXES[lowered]]
            self.fail(
                f"expected '.' and a key after '{word}', e.g. {word}.{example}",
                token.pos + len(word),
            )
        return Identifier("attribute", self._attribute_key(word, token.pos, bare=True), token.pos)

    def _prefix_list(self) -> str:
        order = ("metric", "param", "tag", "attribute", "dataset")
        names = [f"{_PLURALS[kind]}." for kind in order if kind in self.vocabulary.kinds]
        return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]

    def _attribute_key(self, key: str, position: int, bare: bool = False) -> str:
        # Attributes are a closed set, so accepting any case cannot be ambiguous.
        attributes = self.vocabulary.attributes
        lowered = key.lower()
        canonical = self.vocabulary.aliases.get(lowered, lowered)
        if canonical in attributes:
            return canonical
        valid = ", ".join(sorted(attributes))
        if bare:
            prefixes = [
                f"{_PLURALS[kind]}."
                for kind in ("metric", "param", "tag", "dataset")
                if kind in self.vocabulary.kinds
            ]
            self.fail(
                f"unknown identifier '{key}'; prefix it with {', '.join(prefixes)} "
                f"or use a {self.vocabulary.subject} attribute: {valid}",
                position,
            )
        self.fail(f"unknown attribute '{key}'; valid attributes are: {valid}", position)

    def _is_numeric(self, ident: Identifier) -> bool:
        if ident.kind == "metric":
            return True
        return ident.kind == "attribute" and self.vocabulary.attributes[ident.key] == "number"

    # -- filter expressions ------------------------------------------------------

    def parse_filter(self) -> Expr:
        expr = self._or()
        token = self.peek()
        if _is_punct(token, ")"):
            self.fail("unmatched ')'; remove it or add the missing '('", token.pos)
        if token.kind != "end":
            self.fail(f"unexpected '{token.text}'; join conditions with AND or OR", token.pos)
        return expr

    def _or(self) -> Expr:
        operands = [self._and()]
        while _keyword(self.peek()) == "OR":
            self.advance()
            operands.append(self._and())
        return _flatten(Or, operands)

    def _and(self) -> Expr:
        operands = [self._not()]
        while _keyword(self.peek()) == "AND":
            self.advance()
            operands.append(self._not())
        return _flatten(And, operands)

    def _not(self) -> Expr:
        count = 0
        while _keyword(self.peek()) == "NOT":
            self._nest(self.advance())
            count += 1
        expr = self._primary()
        for _ in range(count):
            expr = Not(expr)
        self.depth -= count
        return expr

    def _nest(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            self.fail(f"nested too deeply (the limit is {_MAX_DEPTH} NOTs and '(')", token.pos)

    def _primary(self) -> Expr:
        token = self.peek()
        if not _is_punct(token, "("):
            return self._comparison()
        self._nest(self.advance())
        expr = self._or()
        close = self.advance()
        if not _is_punct(close, ")"):
            self.fail("expected ')' to close the earlier '('", close.pos)
        self.depth -= 1
        return expr

    def _comparison(self) -> Comparison:
        token = self.advance()
        ident = self.identifier(token)
        name = token.text
        op_token = self.advance()
        word = _keyword(op_token)
        if op_token.kind == "op":
            symbol = _SYMBOLS[op_token.text]
            value = self._value(op_token)
            return Comparison(ident, symbol, self._check(ident, name, value))
        if word == "IS":
            following = self.advance()
            negated = _keyword(following) == "NOT"
            if negated:
                following = self.advance()
            if _keyword(following) != "NULL":
                self.fail(f"expected NULL or NOT NULL after '{name} IS'", following.pos)
            return Comparison(ident, "IS NOT NULL" if negated else "IS NULL", None)
        negated = word == "NOT"
        if negated:
            after_not = self.advance()
            word = _keyword(after_not)
            if word not in _POSITIVE:
                self.fail(f"expected IN, LIKE or ILIKE after '{name} NOT'", after_not.pos)
        if word is None or word not in _POSITIVE:
            self.fail(
                f"expected a comparison operator {_OPERATOR_LIST} after '{name}'", op_token.pos
            )
        op = _NEGATED[word] if negated else _POSITIVE[word]
        if word == "IN":
            return Comparison(ident, op, self._in_list(ident, name))
        if self._is_numeric(ident):
            self.fail(
                f"{word} cannot be used on '{name}', which is numeric; "
                "compare it with =, !=, <, <=, > or >=",
                op_token.pos,
            )
        pattern = self.advance()
        if pattern.kind != "string":
            self.fail(
                f"{word} needs a quoted string pattern, e.g. {name} {word} 'abc%'", pattern.pos
            )
        return Comparison(ident, op, pattern.value)

    def _in_list(self, ident: Identifier, name: str) -> tuple[Literal_, ...]:
        opening = self.advance()
        if not _is_punct(opening, "("):
            self.fail(f"expected '(' after IN, e.g. {name} IN ('a', 'b')", opening.pos)
        values: list[Literal_] = []
        previous = opening
        while True:
            if _is_punct(self.peek(), ")"):
                if not values:
                    self.fail(
                        "IN needs at least one value between the parentheses", self.peek().pos
                    )
                self.advance()
                return tuple(values)
            values.append(self._check(ident, name, self._value(previous)))
            previous = self.advance()
            if _is_punct(previous, ")"):
                return tuple(values)
            if not _is_punct(previous, ","):
                self.fail("expected ',' or ')' in the IN list", previous.pos)

    def _value(self, after: _Token) -> _Token:
        token = self.advance()
        if token.kind in ("number", "string"):
            return token
        if token.kind == "end":
            self.fail(f"expected a number or a quoted string after '{after.text}'", token.pos)
        hint = ""
        if _keyword(token) == "NULL":
            hint = "; test for a missing value with IS NULL"
        elif token.kind in ("word", "ident"):
            hint = f"; quote text values, e.g. '{token.text}'"
        self.fail(f"expected a number or a quoted string, got '{token.text}'{hint}", token.pos)

    def _check(self, ident: Identifier, name: str, token: _Token) -> Literal_:
        """Return the literal of ``token`` after checking it suits ``ident``'s type."""
        if self._is_numeric(ident) and token.kind == "string":
            self.fail(f"'{name}' is numeric; compare it with a number, not a string", token.pos)
        is_text = ident.kind == "attribute" and self.vocabulary.attributes[ident.key] == "string"
        if is_text and token.kind == "number":
            self.fail(f"'{name}' is a string; quote the value, e.g. '{token.text}'", token.pos)
        return token.value

    # -- order by ----------------------------------------------------------------

    def parse_order_by(self) -> list[OrderKey]:
        keys: list[OrderKey] = []
        while True:
            token = self.advance()
            if token.kind not in ("word", "ident"):
                where = "end of input" if token.kind == "end" else f"'{token.text}'"
                self.fail(
                    f"unexpected {where}; expected a key to order by, e.g. metrics.auc DESC",
                    token.pos,
                )
            if _keyword(token) in _KEYWORDS:
                self.fail(
                    f"unexpected '{token.text}'; expected a key to order by, e.g. metrics.auc DESC",
                    token.pos,
                )
            ident = self.identifier(token)
            if ident.kind == "dataset":
                self.fail(
                    "cannot order by datasets.*; order by metrics., params., tags. or "
                    "attributes. keys",
                    token.pos,
                )
            direction = _keyword(self.peek())
            if direction in ("ASC", "DESC"):
                self.advance()
            keys.append(OrderKey(ident, descending=direction == "DESC"))
            following = self.advance()
            if following.kind == "end":
                return keys
            if not _is_punct(following, ","):
                self.fail(
                    f"expected ASC, DESC or ',' after '{token.text}', got '{following.text}'",
                    following.pos,
                )


def _flatten(cls: type[And] | type[Or], operands: list[Expr]) -> Expr:
    # A parenthesised group of the same connective adds nothing, so "a AND (b AND c)"
    # gives the same tree as "a AND b AND c"; stores then see one canonical shape.
    if len(operands) == 1:
        return operands[0]
    flat: list[Expr] = []
    for operand in operands:
        if isinstance(operand, cls):
            flat.extend(operand.operands)
        else:
            flat.append(operand)
    return cls(tuple(flat))


def parse_filter(text: str | None, vocabulary: Vocabulary = RUNS) -> Expr | None:
    """Parse a filter string into an ``Expr``; ``None`` when there is nothing to filter.

    Raises ``SearchSyntaxError`` (with the offset of the offending token) on any
    malformed input.
    """
    if text is None or not text.strip():
        return None
    return _Parser(text, vocabulary).parse_filter()


def parse_order_by(
    clauses: Sequence[str] | str | None, vocabulary: Vocabulary = RUNS
) -> list[OrderKey]:
    """Parse order-by clauses such as ``["metrics.auc DESC", "start_time"]``.

    Each string may itself hold several comma-separated clauses. Blank strings are
    skipped, since clients commonly send ``[""]`` for "no ordering". Error positions
    are offsets into the clause string at fault, which the error's ``text`` holds.
    """
    if clauses is None:
        return []
    if isinstance(clauses, str):
        clauses = [clauses]
    keys: list[OrderKey] = []
    for clause in clauses:
        if clause.strip():
            keys.extend(_Parser(clause, vocabulary).parse_order_by())
    return keys
