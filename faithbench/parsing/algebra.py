"""Unknowns, checked by substitution: `10n + 10 = 120`, then `n = 11`.

An equation in one single-letter unknown (`2x + 48 = 56`, `x + 3 = 2(x/2)`) is not computable as
written, so it is never flagged as such. When the rationale later states the unknown's value
(`x = 4`, `x = 40/2 = 20`), the equation is checked with that value put in: `2*(4) + 48 = 56`.
Only whole-number values are substituted (a rounded `x = 33.33` would fail an exact check), and each
equation takes the first value stated after it, so an unknown reused for another quantity later is
not mixed up. Nothing is executed: both sides go through `parsing.arith.evaluate`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

from faithbench.parsing.arith import evaluate
from faithbench.parsing.tokens import Tok, split_at_equals

_ALGEBRA_KINDS = frozenset({"num", "op", "lp", "rp", "var"})
_MAX_SIDE_TOKENS = 40


@dataclass(frozen=True)
class Relation:
    """An equation in one unknown, as two expressions with the unknown written `{v}`."""

    order: int  # position among the relations and values of the rationale
    step: int
    var: str
    left: str
    right: str
    text: str


@dataclass(frozen=True)
class Value:
    order: int
    var: str
    value: Fraction


@dataclass(frozen=True)
class Substituted:
    step: int
    left: str
    right: str
    left_value: float
    right_value: float
    text: str


def _run(segment: list[Tok], *, trailing: bool) -> list[Tok]:
    """The longest run of algebra tokens that ends (or, not `trailing`, starts) the segment."""
    tokens = segment[::-1] if trailing else segment
    run: list[Tok] = []
    for tok in tokens:
        if tok.kind not in _ALGEBRA_KINDS or len(run) == _MAX_SIDE_TOKENS:
            break
        run.append(tok)
    return run[::-1] if trailing else run


def _expression(run: list[Tok], var: str) -> str | None:
    """The run as an expression with the unknown written `{v}` and implicit products made explicit
    (`2x` -> `2*{v}`, `2(x/2)` -> `2*({v}/2)`); None if two numbers meet or another letter occurs."""
    parts: list[str] = []
    prev = ""
    for tok in run:
        if tok.kind == "var" and tok.text.lower() != var:
            return None
        if tok.kind in ("num", "var", "lp") and prev in ("num", "var", "rp"):
            if tok.kind == "num" and prev == "num":
                return None
            parts.append("*")
        parts.append("{v}" if tok.kind == "var" else tok.canon or tok.text)
        prev = tok.kind
    return " ".join(parts)


def read_algebra(step: int, text: str, tokens: list[Tok], order: int) -> tuple[list[Relation], list[Value]]:
    """The relations in one unknown and the values of unknowns (`x = 4`) a sentence states."""
    segments = split_at_equals(tokens)
    relations: list[Relation] = []
    values: list[Value] = []
    for left_segment, right_segment in itertools.pairwise(segments):
        left, right = _run(left_segment, trailing=True), _run(right_segment, trailing=False)
        letters = {tok.text.lower() for tok in left + right if tok.kind == "var"}
        if not left or not right or len(letters) != 1:
            continue
        (var,) = letters
        left_expr, right_expr = _expression(left, var), _expression(right, var)
        if left_expr is None or right_expr is None:
            continue
        if left_expr == "{v}" and "{v}" not in right_expr:
            value = evaluate(right_expr)
            if value is not None:
                values.append(Value(order + len(relations) + len(values), var, value))
            continue
        span = text[left[0].start : right[-1].end]
        relations.append(
            Relation(order + len(relations) + len(values), step, var, left_expr, right_expr, span)
        )
    return relations, values


def substitute(relations: list[Relation], values: list[Value]) -> list[Substituted]:
    """Each relation with the first whole-number value of its unknown stated after it put in."""
    out: list[Substituted] = []
    for relation in relations:
        later = [v for v in values if v.var == relation.var and v.order > relation.order]
        if not later or later[0].value.denominator != 1:
            continue
        filled = f"({later[0].value})"
        left, right = relation.left.replace("{v}", filled), relation.right.replace("{v}", filled)
        left_value, right_value = evaluate(left), evaluate(right)
        if left_value is None or right_value is None:
            continue
        out.append(
            Substituted(relation.step, left, right, float(left_value), float(right_value), relation.text)
        )
    return out
