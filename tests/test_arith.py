"""The bounded arithmetic evaluator: exact on what models write, `None` (never an exception, never a
hang) on everything else."""

from __future__ import annotations

import math
import time
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faithbench.parsing.arith import (
    MAX_MAGNITUDE,
    evaluate,
    intermediate_values,
    is_expression,
    results_match,
    stated_decimals,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("16 - 3 - 4", 9),
        ("9 * 2", 18),
        ("150 x 100", 15000),
        ("150 X 100", 15000),
        ("6 × 7", 42),
        ("6 · 7", 42),
        ("6 ⋅ 7", 42),
        ("3 ÷ 4", Fraction(3, 4)),
        ("10 − 4", 6),
        ("$1,000 / 4", 250),
        ("$ 2.50 * 4", 10),
        ("40%", Fraction(2, 5)),
        ("40% * 20", 8),
        ("(20/100)*25", 5),
        ("0.1 + 0.2", Fraction(3, 10)),
        (".5 * 4", 2),
        ("2^10", 1024),
        ("2**3", 8),
        ("2^-2", Fraction(1, 4)),
        ("-2^2", -4),
        ("(-2)^2", 4),
        ("--3", 3),
        ("2 * -3", -6),
        ("(1 + 2) * 3", 9),
        ("1 + 2 * 3", 7),
        ("8 / 4 / 2", 1),
        ("2 ^ 3 ^ 2", 512),  # right-associative
        ("2(3 + 4)", 14),
        ("(1+1)(2+2)", 8),
        ("33.333...", Fraction(33333, 1000)),
        ("  7  ", 7),
        ("100%", 1),
    ],
)
def test_evaluates_what_models_write(expr: str, value: int | Fraction) -> None:
    assert evaluate(expr) == value


@pytest.mark.parametrize(
    "expr",
    [
        "",
        "   ",
        "1/0",
        "5 / (3 - 3)",
        "0^-1",
        "2^0.5",
        "2^11",  # |exponent| > 10
        "9**9**9**9",
        "10^10^10",
        "1e5",
        "3 +",
        "(1",
        "1)",
        "()",
        "2x",
        "2 3",
        "abc",
        "12345678901234567890123",  # too many digits
        "1000000000000000 * 10",  # past the magnitude bound
        "99999999999 * 99999999999",
        "1,00",
        "(" * 100 + "1" + ")" * 100,  # nested too deeply
        "-" * 100 + "1",
        "1+" * 300 + "1",  # too many tokens
        "1" * 10_000,
        "x" * 10_000,
        "2 = 2",
        "import os",
        "__import__('os').system('true')",
    ],
)
def test_not_computable_is_none(expr: str) -> None:
    assert evaluate(expr) is None


def test_non_strings_are_none() -> None:
    assert evaluate(None) is None  # type: ignore[arg-type]
    assert evaluate(5) is None  # type: ignore[arg-type]
    assert not is_expression(None)  # type: ignore[arg-type]


def test_is_expression_is_syntax_only() -> None:
    assert is_expression("1/0")
    assert is_expression("1/(5-5)")
    assert is_expression("2^20")  # well formed, though its exponent is out of bounds
    assert not is_expression("3 +")
    assert not is_expression("2 3")
    assert not is_expression("2x")


def test_intermediate_values() -> None:
    assert intermediate_values("(3 + 4) * 2") == (Fraction(7), Fraction(14))
    assert intermediate_values("4 * 60 / 5") == (Fraction(240), Fraction(48))
    assert intermediate_values("5") == (Fraction(5),)
    assert intermediate_values("1/0") == ()


@pytest.mark.parametrize(
    ("computed", "stated", "text", "match"),
    [
        (100 / 3, 33.33, "33.33", True),
        (100 / 3, 33, "33", True),
        (100 / 3, 33.3, "33.3", True),
        (100 / 3, 34, "34", False),
        (100 / 3, 32, "32", False),
        (17 / 3, 5, "5", False),  # a floor is not a rounding
        (18, 19, "19", False),
        (18, 18, "$18", True),
        (18, 18, "18.00", True),
        (1 / 3, 0, "0", False),  # 0 never stands for a non-zero result
        (0.0, 0, "0", True),
        (200 / 3, 66.66, "66.66...", True),  # cut short, marked
        (200 / 3, 66.66, "66.66", False),
        (0.5, 0.5, "50%", True),  # 10 * 5% = 50%
        (20, 0.2, "20%", True),  # 20/100 * 100 = 20%
        (0.33333, 0.33, "33%", True),
        (0.3, 0.3, "30%", True),
        (0.1 + 0.2, 0.3, "0.3", True),  # float noise
        (1e14 + 0.01, 1e14, "100000000000000", True),
        (18, 18.4, "18.4", False),
        (2.5, 3, "3", False),  # rounding that moves a result by 20% is a wrong result
        (2.5, 2, "2", False),
        (62.5, 63, "63", True),  # the same half, 1% of a larger value
        (0.625, 1, "1", False),  # 50000 / 80000 = 1
        (7, 7, "4 + 3", True),  # an expression: exact only
        (7, 8, "4 + 4", False),
        (math.nan, 1, "1", False),
        (1, math.inf, "1", False),
    ],
)
def test_results_match(computed: float, stated: float, text: str, match: bool) -> None:
    assert results_match(computed, stated, text) is match


def test_stated_decimals() -> None:
    assert stated_decimals("33.33") == (2, False, False)
    assert stated_decimals("$1,200") == (0, False, False)
    assert stated_decimals("50%") == (0, True, False)
    assert stated_decimals("33.333...%") == (3, True, True)
    assert stated_decimals("4 + 3") is None
    assert stated_decimals("abc") is None


# ------------------------------------------------------------------------------ property tests

ARITH_ALPHABET = "0123456789+-*/^()%., $xX×÷·−"


def _quick(expr: str) -> Fraction | None:
    start = time.perf_counter()
    value = evaluate(expr)
    assert time.perf_counter() - start < 0.5
    assert value is None or isinstance(value, Fraction)
    return value


@FAST
@given(st.text(max_size=800))
def test_never_raises_on_any_text(expr: str) -> None:
    _quick(expr)
    is_expression(expr)
    intermediate_values(expr)


@FAST
@given(st.text(alphabet=ARITH_ALPHABET, max_size=600))
def test_never_raises_on_arithmetic_soup(expr: str) -> None:
    value = _quick(expr)
    if value is not None:
        assert abs(value) <= MAX_MAGNITUDE


@FAST
@given(
    st.sampled_from(["(", "-", "9**", "2^", "((1+", "1/", "99999999999*"]),
    st.integers(min_value=1, max_value=3000),
)
def test_hostile_repetition_returns_quickly(unit: str, times: int) -> None:
    closing = ")" * (unit.count("(") * times)
    value = _quick(unit * times + "1" + closing)
    if times > 200:  # past the token and depth bounds
        assert value is None


@FAST
@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True), st.text(max_size=30))
def test_results_match_never_raises(computed: float, stated: float, text: str) -> None:
    assert results_match(computed, stated, text) in (True, False)


# Expression trees with their exact value computed independently, bounds applied as documented.

Tree = tuple[str, Fraction | None]
_BOUND_DIGITS = 60


def _bounded(value: Fraction | None) -> Fraction | None:
    if value is None or abs(value) > MAX_MAGNITUDE or len(str(value.denominator)) > _BOUND_DIGITS:
        return None
    return value


def _combine(op: str, left: Tree, right: Tree) -> Tree:
    (ltext, lvalue), (rtext, rvalue) = left, right
    text = f"({ltext}) {op} ({rtext})"
    if lvalue is None or rvalue is None:
        return text, None
    if op == "+":
        return text, _bounded(lvalue + rvalue)
    if op == "-":
        return text, _bounded(lvalue - rvalue)
    if op == "*":
        return text, _bounded(lvalue * rvalue)
    return text, _bounded(lvalue / rvalue) if rvalue != 0 else None


_leaves = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(lambda n: (str(n), Fraction(n))),
    st.tuples(st.integers(0, 9999), st.integers(0, 99)).map(
        lambda t: (f"{t[0]}.{t[1]:02d}", Fraction(f"{t[0]}.{t[1]:02d}"))
    ),
    st.integers(min_value=1, max_value=99).map(lambda n: (f"{n}%", Fraction(n, 100))),
)
_trees = st.recursive(
    _leaves,
    lambda children: st.builds(_combine, st.sampled_from("+-*/"), children, children),
    max_leaves=12,
)


@FAST
@given(_trees)
def test_agrees_with_exact_fractions(tree: Tree) -> None:
    text, expected = tree
    assert evaluate(text) == expected


@FAST
@given(_trees, st.integers(min_value=-10, max_value=10))
def test_small_integer_powers(tree: Tree, exponent: int) -> None:
    text, base = tree
    expected = None
    if base is not None and not (base == 0 and exponent < 0):
        expected = _bounded(base**exponent)
    assert evaluate(f"({text}) ^ ({exponent})") == expected
