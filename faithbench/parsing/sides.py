"""The two sides of an `=` read from a sentence's tokens (`parsing.tokens`), by the rules below.
`parsing.equations` builds `Equation`s from them."""

from __future__ import annotations

import itertools

from faithbench.parsing.arith import evaluate, is_expression, results_match
from faithbench.parsing.tokens import Tok

# ----------------------------------------------------------------------------------------- equations
#
# Each step is tokenized into numbers, operators, parentheses, `=`, words and other punctuation, then
# split at `=` into segments. The left side of an `=` is the longest expression that ends the segment
# before it; the right side is the whole next segment when that is an expression (a chain
# `a = b = c`, each `=` a link), else its leading number. Reading rules, each from text models and
# GSM8K references write:
# * unit words after a number are dropped (`60 meters * 3 sprints`), as is `/unit` (`$20/hour`); so
#   are a couple of words between an operator and a number (`25 classmates + his 1 teacher`) and a
#   hyphenated unit (`65-minute concert - 15-minute encore`: the hyphens are no minus signs); words
#   that start a clause (`and`, `so`, `is`...) are never units;
# * `x`, `times`, and `of` between two numbers mean times (`150 x 100`, `40% of 20`); `plus`, `minus`,
#   `divided by`, `multiplied by` are read too; `40%` is 0.4;
# * a glued fraction is one number (`1 1/2 / 1/2` is 3), a mixed number too (`3 1/2`), and so is
#   `10 000` (thousands by spaces);
# * `* 100%` multiplies by 100 where the equation only holds so: `9 / 21 * 100% = 42.857` expresses
#   a share as a percentage (`.5 * 100% = 50%` holds as written);
# * single letters used as variables (`2x + 4x`, `3r + 5w`) make a side uncomputable rather than
#   being dropped as units, and a left side that an operator, a variable or `)` continues leftwards
#   (`X*6 + 9 = 87`, `1/2 (68) + 10`) is not read at all: a computable tail of it would be a false alarm;
# * `2(40 + 9)`, `(1/2) 278` and `1/2 (68)` are products, `= 4 (15 minutes)` is not (a remark); a parenthesis
#   of words after a number is a unit: `93 (average) * 5 (tests)`;
# * a chain link `a = b + c = d` that only holds as `a = b` is read as a running total (`$3/2 =
#   $1.50 + $3.00 = $4.50`);
# * a link whose left side has no operator is a restatement: none is checked, but one that changes
#   the value (`900 minutes = 15 hours`) and an algebra result (`x = 40`, `3x = 48`) are recorded
#   (`restatement=True`, `lhs_value` None, no operands) because the rationale states their value;
# * a computation whose right side cannot be read (`27 - 9 = (6 * x) - (3 * x)`, `16 + 3 = a
#   dozen`) is recorded with `rhs_value` None: not checkable, but its numbers and value count.

_MAX_LHS_TOKENS = 48  # tokens looked back from an `=` for its left side
_MAX_UNIT_WORDS = 6  # words dropped as a unit after one number (`of the original number of books`)
_MAX_PRE_WORDS = 2  # words dropped between an operator and a number (`+ his 1 teacher`)
_CLAUSE_WORDS = frozenset(
    {"is", "are", "was", "were", "be", "been", "and", "or", "but", "so", "then", "than", "which"}
    | {"that", "because", "since", "if", "when", "while", "equals", "gives", "makes", "means"}
    | {"leaves", "to", "by", "we", "he", "she", "they", "it", "you", "i", "this", "there", "has"}
    | {"have", "had", "gets", "got", "will", "would", "can"}
)
_MARKUP = frozenset({"*", "**", "^", "`", "_", "#", "$", "\\", "•"})


def has_words(span: list[Tok], open_at: int) -> bool:
    """Whether the parenthesis opening at `open_at` holds words (or is not closed in `span`)."""
    depth = 0
    for tok in span[open_at:]:
        depth += (tok.kind == "lp") - (tok.kind == "rp")
        if tok.kind in ("word", "per", "var"):
            return True
        if depth == 0:
            return False
    return True


def clean(span: list[Tok]) -> str | None:
    """The arithmetic expression a token span writes, with units dropped; None if it is not one."""
    parts: list[str] = []
    prev = ""  # kind of the last token kept
    words, mode = 0, ""  # the run of dropped words: "unit" after a number, "pre" after an operator
    for index, tok in enumerate(span):
        if tok.kind in ("word", "per"):
            if tok.kind == "word" and tok.text.lower() in _CLAUSE_WORDS:
                return None
            if not words:
                if prev in ("num", "rp"):
                    mode = "unit"
                elif prev == "op" and tok.kind == "word":
                    mode = "pre"
                else:
                    return None
            words += 1
            if words > (_MAX_UNIT_WORDS if mode == "unit" else _MAX_PRE_WORDS):
                return None
            continue
        if tok.kind not in ("num", "op", "lp", "rp"):
            return None
        if words and (
            (mode == "unit" and tok.kind not in ("op", "rp")) or (mode == "pre" and tok.kind != "num")
        ):
            return None  # `3 apples 4` is no product; `+ his 1` needs the number
        if tok.kind in ("num", "lp") and prev in ("num", "rp"):
            if (tok.kind == "num" and prev == "num") or (
                tok.kind == "lp" and not tok.glued and "/" not in parts[-1] and has_words(span, index)
            ):
                return None  # `= 4 (15 minutes)` is a remark, not 4 * 15; `1/2 (68)`, `3 (16)` are products
            parts.append("*")  # 2(40 + 9), (1/2) 278
        words = 0
        parts.append(tok.canon or tok.text)
        prev = tok.kind
    if not parts or (words and mode == "pre"):
        return None
    expr = " ".join(parts).replace("( ", "(").replace(" )", ")")
    return expr if is_expression(expr) else None


def has_operator(span: list[Tok]) -> bool:
    """Whether the span computes something: a binary operator, or a bare fraction (`84/12`; but
    `1/2 a cup = 4 ounces` converts units, it computes nothing)."""
    if any(tok.kind == "op" for tok in span[1:]):
        return True
    for index, (prev, tok) in enumerate(itertools.pairwise(span), start=1):
        paren = prev.kind in ("num", "rp") and tok.kind == "lp" and (tok.glued or not has_words(span, index))
        if paren or (prev.kind == "rp" and tok.kind == "num"):
            return True  # an implicit product: 2(60), 3 (16), (1/2) 278
    return any("/" in tok.canon for tok in span if tok.kind == "num") and all(
        tok.kind not in ("word", "per") for tok in span
    )


def trim(segment: list[Tok], *, leading: bool, trailing: bool, punctuation: bool = False) -> list[Tok]:
    lo, hi = 0, len(segment)
    while leading and lo < hi and segment[lo].text in _MARKUP and segment[lo].kind in ("op", "punct"):
        lo += 1
    while trailing and lo < hi:
        tok = segment[hi - 1]
        if tok.kind in ("op", "punct") and (tok.text in _MARKUP or (punctuation and tok.text in ".,;:!?")):
            hi -= 1
        else:
            break
    return segment[lo:hi]


def read_lhs(segment: list[Tok], first: bool) -> tuple[list[Tok], str] | None:
    """The longest expression that ends `segment` (the left side of an `=`); None when there is
    none, or when the text goes on leftwards with an operator, a variable, `)` or a number
    (`1/2 (68) + 10`)."""
    segment = trim(segment, leading=False, trailing=True)
    n = len(segment)
    for i in range(max(0, n - _MAX_LHS_TOKENS), n):
        tok = segment[i]
        glued_minus = (
            tok.kind == "op"
            and tok.canon == "-"
            and i + 1 < n
            and segment[i + 1].kind in ("num", "lp")
            and segment[i + 1].glued
            and (i == 0 or segment[i - 1].kind not in ("num", "rp", "var"))
        )
        if tok.kind not in ("num", "lp") and not glued_minus:
            continue
        span = segment[i:]
        expr = clean(span)
        if expr is None:
            continue
        before = segment[i - 1] if i else None
        bullet = first and i == 1 and before is not None and before.text in ("*", "-", "•", "+")
        bold = before is not None and before.text in ("**", "`", "_", "__") and tok.glued  # **9 × 60
        if before is not None and before.kind in ("op", "var", "rp", "num") and not (bullet or bold):
            return None
        if (
            before is not None
            and before.text == ":"
            and tok.glued
            and before.glued
            and i >= 2
            and segment[i - 2].kind == "num"
            and len(tok.text) == 2
        ):
            return None  # a clock time: `6:00 + 18 hours` is no sum of 00 and 18
        return span, expr
    return None


Side = tuple[list[Tok], str]


def read_rhs(segment: list[Tok]) -> tuple[Side | None, Side | None]:
    """The right side of an `=`: (the whole segment if it is an expression, its leading number)."""
    segment = trim(segment, leading=True, trailing=True, punctuation=True)
    if not segment:
        return None, None
    whole_expr = clean(segment) if segment[0].kind in ("num", "lp", "op") else None
    whole = (segment, whole_expr) if whole_expr is not None else None
    start = 1 if segment[0].kind == "op" and segment[0].canon == "-" and len(segment) > 1 else 0
    if segment[start].kind != "num" or (start and not segment[start].glued):
        return whole, None
    if whole is None and start + 1 < len(segment) and segment[start + 1].kind == "op":
        return None, None  # `= 16 + x - 16`: the number begins an expression that cannot be read
    span = segment[: start + 1]
    expr = clean(span)
    return whole, ((span, expr) if expr is not None else None)


def value_of(expr: str) -> float | None:
    value = evaluate(expr)
    return float(value) if value is not None else None


def holds(lhs: float | None, rhs: Side) -> bool:
    value = value_of(rhs[1])
    return lhs is not None and value is not None and results_match(lhs, value, rhs[1])
