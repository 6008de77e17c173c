"""Tests of the search-language parser (heron.search.parser)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Protocol, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heron.errors import InvalidArgument, SearchSyntaxError
from heron.search import (
    DATASET_FIELDS,
    RUN_ATTRIBUTE_ALIASES,
    RUN_ATTRIBUTES,
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
    parse_filter,
    parse_order_by,
)

T = TypeVar("T")

# -- helpers -----------------------------------------------------------------------


def strip(node: Expr) -> Expr:
    """``node`` with every identifier position set to 0, to compare trees by shape."""
    if isinstance(node, Comparison):
        return dataclasses.replace(node, left=dataclasses.replace(node.left, position=0))
    if isinstance(node, Not):
        return Not(strip(node.operand))
    return type(node)(tuple(strip(operand) for operand in node.operands))


def parse(text: str) -> Expr:
    result = parse_filter(text)
    assert result is not None
    return strip(result)


def cmp(kind: Kind, key: str, op: ComparisonOp, value: object) -> Comparison:
    return Comparison(Identifier(kind, key), op, value)  # type: ignore[arg-type]


def metric(key: str, op: ComparisonOp = "=", value: object = 1) -> Comparison:
    return cmp("metric", key, op, value)


def identifiers(node: Expr) -> list[Identifier]:
    """Identifiers in source order (left to right)."""
    if isinstance(node, Comparison):
        return [node.left]
    if isinstance(node, Not):
        return identifiers(node.operand)
    return [ident for operand in node.operands for ident in identifiers(operand)]


A = metric("a")
B = metric("b")
C = metric("c")
D = metric("d")


def syntax_error(text: str) -> SearchSyntaxError:
    with pytest.raises(SearchSyntaxError) as info:
        parse_filter(text)
    return info.value


# -- empty input -------------------------------------------------------------------


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t "])
def test_empty_filter_is_none(text: str | None) -> None:
    assert parse_filter(text) is None


# -- structure and precedence ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.a = 1", A),
        ("(metrics.a = 1)", A),
        ("((metrics.a = 1))", A),
        ("metrics.a = 1 AND metrics.b = 1", And((A, B))),
        ("metrics.a = 1 OR metrics.b = 1", Or((A, B))),
        # AND binds tighter than OR, on either side.
        ("metrics.a = 1 OR metrics.b = 1 AND metrics.c = 1", Or((A, And((B, C))))),
        ("metrics.a = 1 AND metrics.b = 1 OR metrics.c = 1", Or((And((A, B)), C))),
        # NOT binds tighter than AND.
        ("NOT metrics.a = 1 AND metrics.b = 1", And((Not(A), B))),
        ("NOT metrics.a = 1 OR metrics.b = 1", Or((Not(A), B))),
        ("NOT NOT metrics.a = 1", Not(Not(A))),
        # Parentheses override precedence.
        ("(metrics.a = 1 OR metrics.b = 1) AND metrics.c = 1", And((Or((A, B)), C))),
        ("NOT (metrics.a = 1 AND metrics.b = 1)", Not(And((A, B)))),
        ("metrics.a = 1 AND NOT (metrics.b = 1 OR metrics.c = 1)", And((A, Not(Or((B, C)))))),
        # Chains and redundant groups of the same connective flatten.
        ("metrics.a = 1 AND metrics.b = 1 AND metrics.c = 1", And((A, B, C))),
        ("metrics.a = 1 AND (metrics.b = 1 AND metrics.c = 1)", And((A, B, C))),
        ("(metrics.a = 1 OR metrics.b = 1) OR (metrics.c = 1 OR metrics.d = 1)", Or((A, B, C, D))),
        # ...but different connectives never do.
        (
            "(metrics.a = 1 OR metrics.b = 1) AND (metrics.c = 1 OR metrics.d = 1)",
            And((Or((A, B)), Or((C, D)))),
        ),
    ],
)
def test_structure(text: str, expected: Expr) -> None:
    assert parse(text) == expected


def test_keywords_are_case_insensitive() -> None:
    text = "metrics.a = 1 and not params.p like 'x%' Or tags.t Is Not Null AnD tags.u nOt In ('v')"
    assert parse(text) == Or(
        (
            And((A, Not(cmp("param", "p", "LIKE", "x%")))),
            And((cmp("tag", "t", "IS NOT NULL", None), cmp("tag", "u", "NOT IN", ("v",)))),
        )
    )


def test_whitespace_is_optional_around_symbols() -> None:
    assert parse("(metrics.a=1)AND(metrics.b>=2)") == And((A, metric("b", ">=", 2)))
    assert parse("params.p='x'OR tags.t!=\"y\"") == Or(
        (cmp("param", "p", "=", "x"), cmp("tag", "t", "!=", "y"))
    )


# -- operators ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "op"),
    [
        ("=", "="),
        ("==", "="),
        ("!=", "!="),
        ("<>", "!="),
        ("<", "<"),
        ("<=", "<="),
        (">", ">"),
        (">=", ">="),
    ],
)
def test_symbolic_operators(spelling: str, op: ComparisonOp) -> None:
    assert parse(f"metrics.auc {spelling} 0.5") == metric("auc", op, 0.5)
    assert parse(f"params.p {spelling} 'x'") == cmp("param", "p", op, "x")


@pytest.mark.parametrize(
    ("spelling", "op"),
    [("LIKE", "LIKE"), ("NOT LIKE", "NOT LIKE"), ("ILIKE", "ILIKE"), ("NOT ILIKE", "NOT ILIKE")],
)
def test_like_operators(spelling: str, op: ComparisonOp) -> None:
    assert parse(f"tags.t {spelling} 'a%'") == cmp("tag", "t", op, "a%")
    assert parse(f"run_name {spelling} 'lr_%'") == cmp("attribute", "run_name", op, "lr_%")


def test_in_lists() -> None:
    assert parse("metrics.a IN (1, 2.5, -3)") == metric("a", "IN", (1, 2.5, -3))
    assert parse("params.p NOT IN ('x', 2)") == cmp("param", "p", "NOT IN", ("x", 2))
    assert parse("status IN ('FINISHED',)") == cmp("attribute", "status", "IN", ("FINISHED",))
    assert parse("tags.t in('a','b' , 'c')") == cmp("tag", "t", "IN", ("a", "b", "c"))


def test_is_null() -> None:
    assert parse("metrics.a IS NULL") == metric("a", "IS NULL", None)
    assert parse("tags.t IS NOT NULL") == cmp("tag", "t", "IS NOT NULL", None)
    assert parse("end_time is null") == cmp("attribute", "end_time", "IS NULL", None)


# -- identifiers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [
        ("metrics", "metric"),
        ("metric", "metric"),
        ("METRICS", "metric"),
        ("params", "param"),
        ("param", "param"),
        ("parameters", "param"),
        ("tags", "tag"),
        ("Tag", "tag"),
    ],
)
def test_free_key_prefixes(prefix: str, kind: Kind) -> None:
    assert parse(f"{prefix}.k IS NULL") == cmp(kind, "k", "IS NULL", None)


@pytest.mark.parametrize("prefix", ["attributes", "attribute", "attr", "run", "ATTRIBUTES", ""])
def test_attribute_prefixes(prefix: str) -> None:
    dotted = f"{prefix}." if prefix else ""
    assert parse(f"{dotted}status = 'FINISHED'") == cmp("attribute", "status", "=", "FINISHED")


@pytest.mark.parametrize(("alias", "canonical"), sorted(RUN_ATTRIBUTE_ALIASES.items()))
def test_attribute_aliases(alias: str, canonical: str) -> None:
    value: Literal_ = 5 if RUN_ATTRIBUTES[canonical] == "number" else "x"
    literal = "5" if value == 5 else "'x'"
    expected = cmp("attribute", canonical, "=", value)
    assert parse(f"{alias} = {literal}") == expected
    assert parse(f"attributes.{alias} = {literal}") == expected
    assert parse(f"attr.{alias.upper()} = {literal}") == expected


@pytest.mark.parametrize("prefix", ["datasets", "dataset"])
def test_dataset_fields(prefix: str) -> None:
    for field in sorted(DATASET_FIELDS):
        assert parse(f"{prefix}.{field} = 'x'") == cmp("dataset", field, "=", "x")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("metrics.train/loss < 1", "train/loss"),
        ("metrics.val-loss:v2 < 1", "val-loss:v2"),
        ("metrics.model.lr < 1", "model.lr"),
        ("metrics.1st < 1", "1st"),
        ("metrics.`my key.v2` < 1", "my key.v2"),
        ('metrics."my key" < 1', "my key"),
        ("metrics.`a\\`b` < 1", "a`b"),
        ('metrics."a\\"b" < 1', 'a"b'),
        ("metrics.`a\\\\b` < 1", "a\\b"),
        ("metrics.`naïve (σ)` < 1", "naïve (σ)"),
    ],
)
def test_keys(text: str, key: str) -> None:
    assert parse(text) == metric(key, "<", 1)


def test_identifier_positions() -> None:
    text = "metrics.a = 1 AND (NOT tags.`x y` IS NULL OR  status = 'R')"
    result = parse_filter(text)
    assert result is not None
    positions = [ident.position for ident in identifiers(result)]
    assert positions == [0, text.index("tags"), text.index("status")] == [0, 23, 46]


# -- values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("0", 0),
        ("42", 42),
        ("-7", -7),
        ("+7", 7),
        ("1.5", 1.5),
        ("-0.25", -0.25),
        (".5", 0.5),
        ("2.", 2.0),
        ("1e3", 1000.0),
        ("1E-3", 0.001),
        ("-2.5e+2", -250.0),
    ],
)
def test_numbers(literal: str, value: float) -> None:
    parsed = parse(f"metrics.a = {literal}")
    assert isinstance(parsed, Comparison)
    assert parsed.value == value
    assert type(parsed.value) is type(value)


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'abc'", "abc"),
        ('"abc"', "abc"),
        ("''", ""),
        ("'it\\'s'", "it's"),
        ('"say \\"hi\\""', 'say "hi"'),
        ("'a\\\\b'", "a\\b"),
        ("'\"'", '"'),
        ('"\'"', "'"),
        # Other backslashes are kept, so LIKE escapes and Windows paths survive.
        ("'100\\%'", "100\\%"),
        ("'C:\\temp'", "C:\\temp"),
        ("'AND OR ( ) ,'", "AND OR ( ) ,"),
    ],
)
def test_strings(literal: str, value: str) -> None:
    assert parse(f"tags.t = {literal}") == cmp("tag", "t", "=", value)


def test_params_tags_and_datasets_keep_number_literals() -> None:
    assert parse("params.lr = 0.1") == cmp("param", "lr", "=", 0.1)
    assert parse("params.n > 10") == cmp("param", "n", ">", 10)
    assert parse("tags.v = '10'") == cmp("tag", "v", "=", "10")
    assert parse("datasets.digest = 123") == cmp("dataset", "digest", "=", 123)


def test_string_attributes_allow_ordering_operators() -> None:
    assert parse("run_id >= 'abc'") == cmp("attribute", "run_id", ">=", "abc")
    assert parse("start_time > 1700000000000") == cmp("attribute", "start_time", ">", 1700000000000)


# -- errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        (
            "metrics.auc 0.5",
            "expected a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS) "
            "after 'metrics.auc'",
            12,
        ),
        ("metrics.auc", "expected a comparison operator", 11),
        ("tags.t = 'abc", "unterminated string", 9),
        ('tags.t = "abc\\"', "unterminated string", 9),
        ("metrics.`abc = 1", "unterminated quoted key", 8),
        (
            "metric_.auc > 1",
            "unknown prefix 'metric_'; use metrics., params., tags., attributes. or datasets.",
            0,
        ),
        ("AND metrics.a = 1", "unexpected 'AND'", 0),
        ("metrics.a = 1 AND AND metrics.b = 1", "unexpected 'AND'", 18),
        ("metrics.a = 1 AND", "unexpected end of input", 17),
        ("(metrics.a = 1", "expected ')'", 14),
        ("(metrics.a = 1 metrics.b = 2)", "expected ')'", 15),
        ("metrics.a = 1)", "unmatched ')'", 13),
        (
            "metrics.a = 1 metrics.b = 2",
            "unexpected 'metrics.b'; join conditions with AND or OR",
            14,
        ),
        ("params.p LIKE 5", "LIKE needs a quoted string pattern", 14),
        ("params.p NOT ILIKE", "ILIKE needs a quoted string pattern", 18),
        ("metrics.a LIKE 'x%'", "LIKE cannot be used on 'metrics.a'", 10),
        ("start_time NOT LIKE 'x%'", "LIKE cannot be used on 'start_time'", 11),
        ("metrics.a = 'x'", "'metrics.a' is numeric", 12),
        ("metrics.a IN (1, 'x')", "'metrics.a' is numeric", 17),
        ("created < '2024'", "'created' is numeric", 10),
        ("experiment_id = 1", "'experiment_id' is a string; quote the value, e.g. '1'", 16),
        ("status IN ('A', 2)", "'status' is a string", 16),
        ("metrics.a = inf", "expected a number or a quoted string, got 'inf'", 12),
        ("metrics.a = nan", "quote text values, e.g. 'nan'", 12),
        ("tags.t != null", "test for a missing value with IS NULL", 10),
        ("metrics.a =", "expected a number or a quoted string after '='", 11),
        ("metrics.a = (1)", "expected a number or a quoted string, got '('", 12),
        ("metrics.a IN 1", "expected '(' after IN", 13),
        ("metrics.a IN ()", "IN needs at least one value", 14),
        ("metrics.a IN (1 2)", "expected ',' or ')'", 16),
        ("metrics.a IN (1,,)", "expected a number or a quoted string, got ','", 16),
        ("metrics.a IS 1", "expected NULL or NOT NULL after 'metrics.a IS'", 13),
        ("metrics.a NOT = 1", "expected IN, LIKE or ILIKE after 'metrics.a NOT'", 14),
        ("metrics.a = 1abc", "malformed number '1abc'", 12),
        ("metrics.a = 1.2.3", "malformed number '1.2.3'", 12),
        ("metrics.a ! 1", "unexpected character '!'; did you mean '!='?", 10),
        ("metrics.a = 1 & metrics.b = 2", "unexpected character '&'", 14),
        ("metrics. = 1", "expected a key after 'metrics.'", 8),
        ("metrics.`` = 1", "empty key", 8),
        ("metrics = 1", "expected '.' and a key after 'metrics', e.g. metrics.auc", 7),
        ("auc > 0.5", "unknown identifier 'auc'; prefix it with metrics.", 0),
        (
            "attributes.colour = 'x'",
            "unknown attribute 'colour'; valid attributes are: end_time",
            11,
        ),
        ("datasets.size = 1", "unknown dataset field 'size'; valid fields are: context", 9),
        ("NOT", "unexpected end of input", 3),
        ("()", "unexpected ')'", 1),
    ],
)
def test_errors(text: str, message: str, position: int) -> None:
    error = syntax_error(text)
    assert message in error.reason
    assert error.position == position
    assert error.text == text
    # The rendered message carries the text and a caret under the offending character.
    assert str(error).endswith(f"\n  {text}\n  {' ' * position}^")


def test_syntax_error_is_an_invalid_argument() -> None:
    assert isinstance(syntax_error("metrics.a ="), InvalidArgument)


@pytest.mark.parametrize(
    ("prefix", "suffix", "position"),
    # The error points at the 101st level: the 101st '(', the 101st NOT, the 51st NOT.
    [("(", ")", 100), ("NOT ", "", 400), ("NOT (", ")", 250)],
)
def test_deep_nesting_fails_cleanly(prefix: str, suffix: str, position: int) -> None:
    # A tree this deep would also overflow the stack of any store compiling it.
    error = syntax_error(prefix * 5000 + "metrics.a = 1" + suffix * 5000)
    assert "nested too deeply" in error.reason
    assert error.position == position
    shallow = parse(prefix * 25 + "metrics.a = 1" + suffix * 25)
    depth = 0
    while isinstance(shallow, Not):
        shallow, depth = shallow.operand, depth + 1
    assert (depth, shallow) == (25 * prefix.count("NOT"), A)


# -- order by ----------------------------------------------------------------------


def key(kind: Kind, name: str, descending: bool = False) -> OrderKey:
    return OrderKey(Identifier(kind, name), descending)


def parse_keys(clauses: list[str] | str | None) -> list[OrderKey]:
    return [
        dataclasses.replace(k, identifier=dataclasses.replace(k.identifier, position=0))
        for k in parse_order_by(clauses)
    ]


@pytest.mark.parametrize(
    ("clauses", "expected"),
    [
        (None, []),
        ("", []),
        ([], []),
        ([""], []),
        ("metrics.auc DESC", [key("metric", "auc", True)]),
        ("metrics.auc desc", [key("metric", "auc", True)]),
        ("attributes.start_time", [key("attribute", "start_time")]),
        ("params.C asc", [key("param", "C")]),
        ("start_time DESC", [key("attribute", "start_time", True)]),
        ("attr.created", [key("attribute", "start_time")]),
        ("tags.`my key` DESC", [key("tag", "my key", True)]),
        (
            ["metrics.auc DESC", "params.C asc", "name"],
            [key("metric", "auc", True), key("param", "C"), key("attribute", "run_name")],
        ),
        (
            "metrics.auc DESC, start_time,params.`a,b` ASC",
            [key("metric", "auc", True), key("attribute", "start_time"), key("param", "a,b")],
        ),
        (
            ["metrics.a, metrics.b DESC", "tags.t"],
            [key("metric", "a"), key("metric", "b", True), key("tag", "t")],
        ),
    ],
)
def test_order_by(clauses: list[str] | str | None, expected: list[OrderKey]) -> None:
    assert parse_keys(clauses) == expected


def test_order_by_positions_are_offsets_in_the_clause() -> None:
    keys = parse_order_by("metrics.a,  tags.b DESC")
    assert [k.identifier.position for k in keys] == [0, 12]


@pytest.mark.parametrize(
    ("clause", "message", "position"),
    [
        ("datasets.name", "cannot order by datasets.*", 0),
        ("metrics.a, dataset.digest DESC", "cannot order by datasets.*", 11),
        ("attributes.colour", "unknown attribute 'colour'", 11),
        ("colour DESC", "unknown identifier 'colour'", 0),
        ("metrics.a DESC DESC", "expected ASC, DESC or ',' after 'metrics.a'", 15),
        ("metrics.a b", "expected ASC, DESC or ','", 10),
        ("metrics.a,", "expected a key to order by", 10),
        (",metrics.a", "unexpected ','", 0),
        ("DESC", "unexpected 'DESC'", 0),
        ("metrics.a = 1", "expected ASC, DESC or ','", 10),
        ("metric_.a", "unknown prefix 'metric_'", 0),
        ("tags.'t'", "expected a key after 'tags.'", 5),
    ],
)
def test_order_by_errors(clause: str, message: str, position: int) -> None:
    with pytest.raises(SearchSyntaxError) as info:
        parse_order_by(["metrics.ok", clause])
    assert message in info.value.reason
    assert info.value.position == position
    assert info.value.text == clause


# -- property tests ----------------------------------------------------------------

BARE_KEY = re.compile(r"[A-Za-z0-9_\-:/.]+")
PREFIXES: dict[Kind, list[str]] = {
    "metric": ["metrics", "metric"],
    "param": ["params", "param", "parameters"],
    "tag": ["tags", "tag"],
    "attribute": ["attributes", "attribute", "attr", "run"],
    "dataset": ["datasets", "dataset"],
}
ALIASES_OF: dict[str, list[str]] = {
    name: [name] + [alias for alias, target in RUN_ATTRIBUTE_ALIASES.items() if target == name]
    for name in RUN_ATTRIBUTES
}

numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
)
strings = st.text(max_size=12)
free_keys = st.one_of(st.from_regex(BARE_KEY, fullmatch=True), st.text(min_size=1, max_size=10))
ORDERING_OPS: list[ComparisonOp] = ["=", "!=", "<", "<=", ">", ">="]
LIKE_OPS: list[ComparisonOp] = ["LIKE", "NOT LIKE", "ILIKE", "NOT ILIKE"]
OTHER_OPS: list[ComparisonOp] = ["IN", "NOT IN", "IS NULL", "IS NOT NULL"]


@st.composite
def comparisons(draw: st.DrawFn) -> Comparison:
    kind: Kind = draw(st.sampled_from(list(PREFIXES)))
    if kind == "attribute":
        name = draw(st.sampled_from(sorted(RUN_ATTRIBUTES)))
    elif kind == "dataset":
        name = draw(st.sampled_from(sorted(DATASET_FIELDS)))
    else:
        name = draw(free_keys)
    numeric = kind == "metric" or (kind == "attribute" and RUN_ATTRIBUTES[name] == "number")
    textual = kind == "attribute" and RUN_ATTRIBUTES[name] == "string"
    values = numbers if numeric else strings if textual else st.one_of(numbers, strings)
    op = draw(st.sampled_from(ORDERING_OPS + OTHER_OPS + ([] if numeric else LIKE_OPS)))
    value: Literal_ | tuple[Literal_, ...] | None
    if op in ("IN", "NOT IN"):
        value = tuple(draw(st.lists(values, min_size=1, max_size=4)))
    elif op in ("IS NULL", "IS NOT NULL"):
        value = None
    elif op in LIKE_OPS:
        value = draw(strings)
    else:
        value = draw(values)
    return Comparison(Identifier(kind, name), op, value)


def connective(cls: type[And] | type[Or], operands: list[Expr]) -> Expr:
    """``cls(operands)`` in the parser's normal form: nested ``cls`` flattened."""
    flat: list[Expr] = []
    for operand in operands:
        flat.extend(operand.operands if isinstance(operand, cls) else [operand])
    return cls(tuple(flat))


exprs = st.recursive(
    comparisons(),
    lambda children: st.one_of(
        children.map(Not),
        st.lists(children, min_size=2, max_size=3).map(lambda xs: connective(And, xs)),
        st.lists(children, min_size=2, max_size=3).map(lambda xs: connective(Or, xs)),
    ),
    max_leaves=10,
)


class Draw(Protocol):
    def __call__(self, strategy: st.SearchStrategy[T]) -> T: ...


class Renderer:
    """Writes a tree back as filter text, varying every spelling the grammar allows."""

    def __init__(self, draw: Draw) -> None:
        self.draw = draw
        self.out = ""
        self.positions: list[int] = []

    def emit(self, *parts: str) -> None:
        self.out += "".join(parts)

    def space(self) -> str:
        return self.draw(st.sampled_from([" ", "  ", "\t", "\n "]))

    def word(self, word: str) -> str:
        return self.draw(st.sampled_from([word.upper(), word.lower(), word.title()]))

    def quoted(self, text: str, quote: str) -> str:
        escaped = text.replace("\\", "\\\\").replace(quote, "\\" + quote)
        return quote + escaped + quote

    def literal(self, value: Literal_) -> str:
        if isinstance(value, str):
            return self.quoted(value, self.draw(st.sampled_from(["'", '"'])))
        return repr(value)

    def expr(self, node: Expr) -> None:
        if isinstance(node, Comparison):
            self.comparison(node)
        elif isinstance(node, Not):
            self.emit(self.word("NOT"), self.space())
            self.operand(node.operand, parenthesize=(And, Or))
        else:
            # AND binds tighter than OR, so only an OR inside an AND needs parentheses.
            joiner = "AND" if isinstance(node, And) else "OR"
            for i, operand in enumerate(node.operands):
                if i:
                    self.emit(self.space(), self.word(joiner), self.space())
                self.operand(operand, parenthesize=(Or,) if joiner == "AND" else ())

    def operand(self, node: Expr, parenthesize: tuple[type, ...]) -> None:
        if isinstance(node, parenthesize):
            self.emit("(")
            self.expr(node)
            self.emit(")")
        else:
            self.expr(node)

    def identifier(self, ident: Identifier) -> None:
        self.positions.append(len(self.out))
        name = ident.key
        if ident.kind == "attribute":
            name = self.draw(st.sampled_from(ALIASES_OF[name]))
            if self.draw(st.booleans()):
                self.emit(name)  # a bare attribute name needs no prefix
                return
        prefix = self.word(self.draw(st.sampled_from(PREFIXES[ident.kind])))
        if BARE_KEY.fullmatch(name) and self.draw(st.booleans()):
            self.emit(prefix, ".", name)
        else:
            self.emit(prefix, ".", self.quoted(name, self.draw(st.sampled_from(["`", '"']))))

    def comparison(self, node: Comparison) -> None:
        self.identifier(node.left)
        self.emit(self.space())
        op, value = node.op, node.value
        if op in ORDERING_OPS:
            spellings = {"=": ["=", "=="], "!=": ["!=", "<>"]}.get(op, [op])
            assert not isinstance(value, tuple)
            assert value is not None
            self.emit(self.draw(st.sampled_from(spellings)), self.space(), self.literal(value))
        elif op in ("IS NULL", "IS NOT NULL"):
            self.emit(" ".join(self.word(w) for w in op.split()))
        else:
            self.emit(" ".join(self.word(w) for w in op.split()), self.space())
            if isinstance(value, tuple):
                trailing = "," if self.draw(st.booleans()) else ""
                self.emit("(", ", ".join(self.literal(v) for v in value), trailing, ")")
            else:
                assert isinstance(value, str)
                self.emit(self.literal(value))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exprs, st.data())
def test_round_trip(tree: Expr, data: st.DataObject) -> None:
    renderer = Renderer(data.draw)
    renderer.expr(tree)
    parsed = parse_filter(renderer.out)
    assert parsed is not None
    assert strip(parsed) == tree
    # repr also tells 1 from 1.0, which == does not.
    assert repr(strip(parsed)) == repr(tree)
    assert [ident.position for ident in identifiers(parsed)] == renderer.positions


@settings(deadline=None)
@given(
    st.lists(st.tuples(comparisons(), st.sampled_from(["", " ASC", " desc"])), max_size=4),
    st.data(),
)
def test_order_by_round_trip(items: list[tuple[Comparison, str]], data: st.DataObject) -> None:
    items = [(c, d) for c, d in items if c.left.kind != "dataset"]
    clauses = []
    for comparison, direction in items:
        renderer = Renderer(data.draw)
        renderer.identifier(comparison.left)
        clauses.append(renderer.out + direction)
    joined = data.draw(st.booleans())
    parsed = parse_keys(", ".join(clauses) if joined else clauses)
    assert parsed == [OrderKey(c.left, d == " desc") for c, d in items]


FRAGMENTS = [
    "metrics.a", "params.`k y`", 'tags."t"', "status", "start_time", "datasets.name", "metric_.x",
    "metrics.", "AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "ASC", "DESC", "(", ")",
    ",", "=", "==", "!=", "<>", "<", "<=", ">", ">=", "!", "'s'", '"s"', "'", '"', "`", "\\", "1",
    "-2.5e3", "1e", ".", "-", "inf", " ", " ", " ",
]  # fmt: skip
grammar_soup = st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join)


def syntax_error_or_none(
    parse_once: Callable[[str], object], text: str
) -> SearchSyntaxError | None:
    try:
        parse_once(text)
    except SearchSyntaxError as error:
        return error
    return None


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), grammar_soup))
def test_arbitrary_text_parses_or_raises_syntax_error(text: str) -> None:
    # Any other exception escapes syntax_error_or_none and fails the test.
    for parse_once in (parse_filter, parse_order_by):
        error = syntax_error_or_none(parse_once, text)
        if error is not None:
            assert 0 <= error.position <= len(text)
            assert error.text == text
