"""A small, bounded, exact arithmetic evaluator for re-computing the equations models write.

Model text is never handed to `eval`/`exec`/`compile`/`ast.literal_eval`: `evaluate` runs a hand-written
tokenizer and a recursive-descent parser over `fractions.Fraction`, so `0.1 + 0.2 = 0.3` is exact.

Grammar (precedence low to high)::

    expr    := term (("+" | "-") term)*
    term    := unary (("*" | "/") unary | <implicit "*" before "(">)*
    unary   := ("-" | "+") unary | power
    power   := postfix ("^" unary)?          # right-associative; -2^2 = -(2^2)
    postfix := primary "%"*                  # 40% = 40/100
    primary := number | "(" expr ")"

Operators: `+`, `-` (also `−`, `–`), `*` (also `x`, `X`, `×`, `·`, `⋅`), `/` (also `÷`), `^` and `**`
(small integer exponents only). Numbers: `12`, `3.5`, `.5`, `1,000` (thousands commas), an optional
`$` prefix, an ignored `...` suffix (`33.333...`). `[` and `]` are not brackets here.

Hard bounds (anything past them is "not computable", i.e. `None`): input length, token count, nesting
depth, digits per number, |exponent| and the magnitude of every intermediate result. Division by zero
and syntax errors are `None` too. `evaluate` never raises and its work is bounded by these limits.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

MAX_CHARS = 500  # longer input is not an equation a model wrote by hand
MAX_TOKENS = 200
MAX_DEPTH = 40  # nesting of parentheses and unary signs
MAX_DIGITS = 20  # digits in one number literal
MAX_EXPONENT = 10  # |n| in a ** n
MAX_MAGNITUDE = Fraction(10**15)  # |any intermediate result|
MAX_DENOMINATOR_DIGITS = 60  # keeps exact arithmetic cheap under long chains of divisions

_TOKEN_RE = re.compile(
    r"\s*(?:"
    r"(?P<num>\$?\s?(?:(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d*)?|\.\d+)(?:\.\.\.|…)?)"
    r"|(?P<op>\*\*|[-+*/^%()xX×·⋅÷−–])"
    r")"
)
_OP_CANON = {
    "x": "*",
    "X": "*",
    "×": "*",
    "·": "*",
    "⋅": "*",
    "÷": "/",
    "−": "-",
    "–": "-",
    "**": "^",
}


class _Fail(Exception):
    """Internal: the expression is not computable (syntax, bounds, division by zero)."""


def _tokenize(expr: str) -> list[tuple[str, Fraction | str]]:
    if len(expr) > MAX_CHARS:
        raise _Fail("too long")
    tokens: list[tuple[str, Fraction | str]] = []
    pos, end = 0, len(expr.rstrip())
    while pos < end:
        match = _TOKEN_RE.match(expr, pos)
        if match is None or match.end() == pos:
            raise _Fail(f"unexpected character at {pos}")
        pos = match.end()
        num = match.group("num")
        if num is not None:
            digits = num.replace("$", "").replace(",", "").replace("…", "").replace("...", "").strip()
            if sum(c.isdigit() for c in digits) > MAX_DIGITS:
                raise _Fail("number too long")
            value = Fraction(digits.rstrip(".") or "0")
            if abs(value) > MAX_MAGNITUDE:
                raise _Fail("number too large")
            tokens.append(("num", value))
        else:
            op = match.group("op")
            tokens.append(("op", _OP_CANON.get(op, op)))
        if len(tokens) > MAX_TOKENS:
            raise _Fail("too many tokens")
    return tokens


def _check(value: Fraction) -> Fraction:
    if abs(value) > MAX_MAGNITUDE or len(str(value.denominator)) > MAX_DENOMINATOR_DIGITS:
        raise _Fail("intermediate result out of bounds")
    return value


class _Parser:
    """Recursive descent that evaluates as it parses; `values` collects every intermediate result."""

    def __init__(self, tokens: list[tuple[str, Fraction | str]], syntax_only: bool = False) -> None:
        self.tokens = tokens
        self.syntax_only = syntax_only  # check the grammar only: every operation yields 1
        self.pos = 0
        self.depth = 0
        self.values: list[Fraction] = []

    def _peek(self) -> str | None:
        if self.pos < len(self.tokens):
            kind, value = self.tokens[self.pos]
            return value if kind == "op" and isinstance(value, str) else "num"
        return None

    def _record(self, value: Fraction) -> Fraction:
        self.values.append(_check(value))
        return value

    def _apply(self, op: str, lhs: Fraction, rhs: Fraction) -> Fraction:
        if self.syntax_only:
            return Fraction(1)
        if op == "+":
            return self._record(lhs + rhs)
        if op == "-":
            return self._record(lhs - rhs)
        if op == "*":
            return self._record(lhs * rhs)
        if op == "/":
            if rhs == 0:
                raise _Fail("division by zero")
            return self._record(lhs / rhs)
        # "^": a small integer exponent only
        if rhs.denominator != 1 or abs(rhs) > MAX_EXPONENT:
            raise _Fail("exponent not a small integer")
        if lhs == 0 and rhs < 0:
            raise _Fail("division by zero")
        return self._record(lhs ** int(rhs))

    def parse(self) -> Fraction:
        if not self.tokens:
            raise _Fail("empty")
        value = self._expr()
        if self.pos != len(self.tokens):
            raise _Fail("trailing tokens")
        return value

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Fail("nested too deeply")

    def _expr(self) -> Fraction:
        value = self._term()
        while self._peek() in ("+", "-"):
            op = self._peek()
            self.pos += 1
            rhs = self._term()
            value = self._apply(str(op), value, rhs)
        return value

    def _term(self) -> Fraction:
        value = self._unary()
        while True:
            op = self._peek()
            if op in ("*", "/"):
                self.pos += 1
                rhs = self._unary()
            elif op == "(":  # implicit multiplication: 2(3+4), (1+1)(2+2)
                rhs = self._unary()
                op = "*"
            else:
                return value
            value = self._apply(op, value, rhs)

    def _unary(self) -> Fraction:
        op = self._peek()
        if op in ("-", "+"):
            self._enter()
            self.pos += 1
            value = self._unary()
            self.depth -= 1
            return -value if op == "-" else value
        return self._power()

    def _power(self) -> Fraction:
        base = self._postfix()
        if self._peek() != "^":
            return base
        self._enter()
        self.pos += 1
        exponent = self._unary()
        self.depth -= 1
        return self._apply("^", base, exponent)

    def _postfix(self) -> Fraction:
        value = self._primary()
        while self._peek() == "%":
            self.pos += 1
            value = self._apply("/", value, Fraction(100))
        return value

    def _primary(self) -> Fraction:
        if self.pos >= len(self.tokens):
            raise _Fail("unexpected end")
        kind, token = self.tokens[self.pos]
        if kind == "num" and isinstance(token, Fraction):
            self.pos += 1
            return token
        if token == "(":
            self._enter()
            self.pos += 1
            value = self._expr()
            if self._peek() != ")":
                raise _Fail("unbalanced parenthesis")
            self.pos += 1
            self.depth -= 1
            return value
        raise _Fail(f"unexpected token {token!r}")


def _run(expr: object) -> _Parser | None:
    if not isinstance(expr, str):
        return None
    try:
        parser = _Parser(_tokenize(expr))
        value = _check(parser.parse())
        if not parser.values or parser.values[-1] is not value:
            parser.values.append(value)  # a bare number or a negation: no operator recorded it
        return parser
    except (_Fail, ValueError, ZeroDivisionError, OverflowError, RecursionError, MemoryError):
        return None


def evaluate(expr: str) -> Fraction | None:
    """The exact value of `expr`, or None when it is not computable (see the module docstring)."""
    parser = _run(expr)
    return parser.values[-1] if parser is not None else None


def intermediate_values(expr: str) -> tuple[Fraction, ...]:
    """Every intermediate result of `expr` (each operator application, the final value last); () if
    not computable. `(3 + 4) * 2` gives (7, 14)."""
    parser = _run(expr)
    return tuple(parser.values) if parser is not None else ()


def is_expression(expr: str) -> bool:
    """Whether `expr` is a well-formed expression within the syntactic bounds, whether or not its
    value is computable (`1/0` is an expression, `3 +` is not)."""
    if not isinstance(expr, str):
        return False
    try:
        tokens = _tokenize(expr)
    except (_Fail, ValueError):
        return False
    parser = _Parser(tokens, syntax_only=True)
    try:
        parser.parse()
    except (_Fail, ValueError, ZeroDivisionError, OverflowError, RecursionError):
        return False
    return True


_STATED_RE = re.compile(
    r"^\s*[-−]?\s*\$?\s*(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)?(?:\.(\d+))?(\.\.\.|…)?\s*(%?)\s*$"
)


def stated_decimals(stated_text: str) -> tuple[int, bool, bool] | None:
    """(decimals written, is a percent, is marked cut short with `...`) when `stated_text` is one
    plain number (`33.33`, `$1,200`, `50%`, `33.333...%`), else None."""
    match = _STATED_RE.match(stated_text)
    if match is None or not any(c.isdigit() for c in stated_text):
        return None
    return len(match.group(1) or ""), bool(match.group(3)), bool(match.group(2))


MAX_ROUNDING_SHIFT = 0.1  # relative change that rounding may make to a result


def results_match(computed: float, stated: float, stated_text: str) -> bool:
    """Whether a stated result `stated` (written as `stated_text`) is the re-computed value `computed`.

    Equal up to a tiny relative tolerance (float noise) always matches. Otherwise, when `stated_text`
    is a single number with d decimals, it matches if it is `computed` rounded to d decimals
    (`100/3 = 33.33` and `100/3 = 33` match; `9*2 = 19`, `100/3 = 34` and `17/3 = 5` do not), as long
    as rounding moves the value by at most `MAX_ROUNDING_SHIFT` of it (`5/8 = 1` does not match); a
    number marked cut short with `...` may be truncated (`200/3 = 66.66...`). A stated 0 never
    stands for a non-zero result (`1/3 = 0` does not match). A stated percent (`50%`, value 0.5)
    matches either the fraction (`10 * 5% = 50%`) or the number of percent (`20/100 * 100 = 20%`).
    """
    try:
        if not (math.isfinite(computed) and math.isfinite(stated)):
            return False
        if _close(computed, stated):
            return True
        written = stated_decimals(stated_text)
        if written is None:
            return False
        decimals, percent, cut_short = written
        pairs = [(computed, stated)]
        if percent:
            pairs = [(computed * 100, stated * 100), (computed, stated * 100)]
        # rounded to the written decimals: within half a unit of the last place; marked cut short
        # with `...`: within a whole unit. Rounding that moves the value by more than a tenth is not
        # rounding but a wrong result (`50000 / 80000 = 1`).
        tolerance = (1.0 if cut_short else 0.5) * 10.0 ** (-decimals) * (1 + 1e-9)
        return any(
            _close(c, s) or (s != 0 and abs(c - s) <= min(tolerance, MAX_ROUNDING_SHIFT * abs(c)))
            for c, s in pairs
        )
    except (TypeError, ValueError, OverflowError):
        return False


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
