"""A structured reading of a GSM8K reference solution, and errors planted into it.

A reference such as

    Natalia sold 48/2 = <<48/2=24>>24 clips in May.
    #### 72

is read into `Line`s of text and `Computation`s. A computation is taken from a calculator annotation
`<<expr=result>>` together with the text that writes it: the written left side (`48/2`), found by
matching the annotation's operands in the text right before the `=`, the written `=` (with a `$`
when the reference writes `= $<<...>>`) and the result written after the annotation. A computation
whose written left side cannot be found reliably (`He has <<3*4=12>>12`, or operands that differ
from the annotation's) keeps `lhs=None`, and its whole line is then rendered unchanged in every style
(see `styles`). Nothing here reads the metrics' output; the planted errors are made in this form and
then rendered, so the same error appears in every style.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from dataclasses import dataclass, replace

from faithbench.metrics.faithfulness import grounding_sources
from faithbench.parsing.numbers import question_numbers

_DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"
_ANNOTATION_RE = re.compile(r"<<([^>]*)>>")
_EQUALS_RE = re.compile(r"\s*=\s*\$?\s*$")  # `= `, `=$`, ` = $` right before an annotation
_RESULT_RE = re.compile(rf"-?(?:{_DIGITS})%?")
_TOKEN_RE = re.compile(
    rf"(\s*)(\$?(?:{_DIGITS})%?|[+\-–−*/×÷()](?![A-Za-z])|x(?=\s*[\d$(])|/?[A-Za-z][A-Za-z'’]*(?:-[A-Za-z]+)*)"
)
_MAX_UNIT_WORDS = 5
_EXPR_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?|\.\d+")
_FINAL_RE = re.compile(r"^####\s*(.+?)\s*$")
OPERATORS = {
    "+": "+",
    "-": "-",
    "–": "-",
    "−": "-",
    "*": "*",
    "x": "*",
    "×": "*",
    "/": "/",
    "÷": "/",
    "(": "(",
    ")": ")",
}


@dataclass(frozen=True)
class Num:
    """A number as written: `text` the digits (`80,000`, `1.5`, `-30`), with its `$` and `%`."""

    text: str
    dollar: bool = False
    percent: bool = False

    @property
    def value(self) -> float:
        return float(self.text.replace(",", ""))

    @property
    def plain(self) -> str:
        return f"{'$' if self.dollar else ''}{self.text}{'%' if self.percent else ''}"

    @classmethod
    def read(cls, written: str) -> Num:
        return cls(text=written.lstrip("$").rstrip("%"), dollar="$" in written, percent="%" in written)


@dataclass(frozen=True)
class Op:
    """An operator or parenthesis as written (`x`, `*`, `/`, `(`); `kind` is `+ - * / ( )`."""

    symbol: str

    @property
    def kind(self) -> str:
        return OPERATORS[self.symbol]


@dataclass(frozen=True)
class Piece:
    """A token of a written left side, the whitespace written before it and the unit written after
    a number or `)` (`" coach per team"`, `"/hour"`, with its leading space)."""

    token: Num | Op
    space: str = ""
    unit: str = ""


@dataclass(frozen=True)
class Computation:
    """One annotated computation. `lhs` is the written left side (None: not located), `equals` the
    text between it and the result as written (`" = $"`), `result` the result written after the
    annotation (None: none written); `expression` and `value` are the annotation's."""

    index: int  # 0-based, over the reference
    expression: str
    value: str
    lhs: tuple[Piece, ...] | None
    equals: str
    result: Num | None

    @property
    def located(self) -> bool:
        return self.lhs is not None and self.result is not None

    @property
    def operands(self) -> tuple[Num, ...]:
        return tuple(p.token for p in self.lhs or () if isinstance(p.token, Num))

    @property
    def lhs_plain(self) -> str:
        return "".join(
            p.space + (p.token.plain if isinstance(p.token, Num) else p.token.symbol) + p.unit
            for p in self.lhs or ()
        )

    @property
    def plain(self) -> str:
        """As the reference writes it, annotation removed: `48/2 = 24`, `9 * 2 = $18`."""
        result = self.result
        return self.lhs_plain + self.equals + (result.text + "%" * result.percent if result else "")


@dataclass(frozen=True)
class Line:
    """A line of the reference: text and computations in the order written."""

    parts: tuple[str | Computation, ...]

    @property
    def computations(self) -> tuple[Computation, ...]:
        return tuple(p for p in self.parts if isinstance(p, Computation))

    @property
    def located(self) -> bool:
        """Every computation on the line was located (styles render only such lines their way)."""
        return all(c.located for c in self.computations)

    @property
    def plain(self) -> str:
        return "".join(p if isinstance(p, str) else p.plain for p in self.parts)


@dataclass(frozen=True)
class Reference:
    """A reference solution: its lines (without the final one) and the final answer of `#### N`."""

    lines: tuple[Line, ...]
    answer: str

    @property
    def computations(self) -> tuple[Computation, ...]:
        return tuple(c for line in self.lines for c in line.computations)

    @property
    def plain(self) -> str:
        """The reference with its annotations removed (what tests/test_reference_false_alarms reads)."""
        return "\n".join([*(line.plain for line in self.lines), f"#### {self.answer}"])


# ------------------------------------------------------------------------------------------ reading


def read_reference(solution: str) -> Reference:
    """Read a GSM8K reference solution (`answer` field, annotations and `#### N` included)."""
    lines = solution.split("\n")
    answer = ""
    if lines and (final := _FINAL_RE.match(lines[-1])):
        answer = final.group(1)
        lines = lines[:-1]
    out: list[Line] = []
    index = 0
    for text in lines:
        line, index = _read_line(text, index)
        out.append(line)
    return Reference(lines=tuple(out), answer=answer)


def _read_line(text: str, index: int) -> tuple[Line, int]:
    parts: list[str | Computation] = []
    pos = 0
    for match in _ANNOTATION_RE.finditer(text):
        expression, _, value = match.group(1).rpartition("=")
        before = text[pos : match.start()]
        result_match = _RESULT_RE.match(text, match.end())
        result = Num.read(result_match.group(0)) if result_match else None
        lhs: tuple[Piece, ...] | None = None
        equals = ""
        if (eq := _EQUALS_RE.search(before)) and result is not None:
            lhs, start = _locate_lhs(before[: eq.start()], expression)
            if lhs is not None:
                equals = eq.group(0)
                result = replace(result, dollar="$" in equals)
                before = before[:start]
        parts.append(before)
        parts.append(Computation(index, expression, value, lhs, equals, result))
        index += 1
        pos = result_match.end() if result_match else match.end()
    parts.append(text[pos:])
    return Line(tuple(p for p in parts if p != "")), index


def _locate_lhs(text: str, expression: str) -> tuple[tuple[Piece, ...] | None, int]:
    """The written left side that ends `text` and computes with the annotation's operands, and where
    it starts; (None, len(text)) when there is none. Words after a number are its unit."""
    run: list[tuple[int, str, str]] = []  # (start, space, written): the tokens that end `text`
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            run, pos = [], pos + 1
            continue
        run.append((match.start(2), match.group(1), match.group(2)))
        pos = match.end()
    wanted = [float(n) for n in _EXPR_NUMBER_RE.findall(expression)]
    for first in range(len(run)):
        pieces = _pieces(run[first:])
        if pieces and _well_formed(pieces) and _same_numbers([p.token for p in pieces], wanted):
            pieces[0] = replace(pieces[0], space="")
            return tuple(pieces), run[first][0]
    return None, len(text)


def _pieces(run: list[tuple[int, str, str]]) -> list[Piece] | None:
    """The tokens as pieces, words folded into the unit of the number or `)` before them; None when
    a word follows anything else or a unit runs too long."""
    pieces: list[Piece] = []
    for _, space, written in run:
        if written in OPERATORS:
            pieces.append(Piece(Op(written), space))
        elif written[0] in "$.0123456789":
            pieces.append(Piece(Num.read(written), space))
        else:
            last = pieces[-1] if pieces else None
            if last is None or (isinstance(last.token, Op) and last.token.symbol != ")"):
                return None
            unit = last.unit + ("" if written.startswith("/") and not space else space) + written
            if len(unit.split()) > _MAX_UNIT_WORDS:
                return None
            pieces[-1] = replace(last, unit=unit)
    return pieces


def _well_formed(pieces: list[Piece]) -> bool:
    tokens = [p.token for p in pieces]
    if not (isinstance(tokens[0], Num) or tokens[0].kind in "(-"):
        return False
    if not (isinstance(tokens[-1], Num) or tokens[-1].symbol == ")"):
        return False
    if any(isinstance(a, Num) and isinstance(b, Num) for a, b in itertools.pairwise(tokens)):
        return False
    depth = 0
    for t in tokens:
        if isinstance(t, Op):
            depth += {"(": 1, ")": -1}.get(t.symbol, 0)
            if depth < 0:
                return False
    return depth == 0


def _same_numbers(tokens: list[Num | Op], wanted: list[float]) -> bool:
    """The written operands are the annotation's, in any order (`1/4*20` for `20*1/4`); a written
    `30%` may be the annotation's `30/100`, `30*.01` or `.3`."""
    numbers = [t for t in tokens if isinstance(t, Num)]
    if not numbers or sum(n.percent for n in numbers) > 3:
        return False
    options = [
        [[n.value], [n.value, 100.0], [n.value, 0.01], [n.value / 100]] if n.percent else [[n.value]]
        for n in numbers
    ]
    target = sorted(wanted)
    for choice in itertools.product(*options):
        values = sorted(v for option in choice for v in option)
        if _close(values, target):
            return True
    return False


def _close(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= 1e-9 * max(1.0, abs(y)) for x, y in zip(a, b, strict=True))


# ------------------------------------------------------------------------------------------ planting


def bump(text: str, by: float = 1) -> str:
    """`text` (a number as written) plus `by`, written the same way (decimals, thousands commas)."""
    value = float(text.replace(",", "")) + by
    decimals = len(text.split(".")[1]) if "." in text else 0
    return f"{value:,.{decimals}f}" if "," in text else f"{value:.{decimals}f}"


def plant_result(reference: Reference) -> Reference | None:
    """The first located computation's stated result plus 1 (where it is stated, not later uses)."""
    target = next((c for c in reference.computations if c.located), None)
    if target is None or target.result is None:
        return None
    return _replace_computation(
        reference, replace(target, result=replace(target.result, text=bump(target.result.text)))
    )


def plant_answer(reference: Reference) -> Reference | None:
    """The final answer plus 1."""
    try:
        return replace(reference, answer=bump(reference.answer))
    except ValueError:
        return None


def plant_question_number(reference: Reference, question: str) -> Reference | None:
    """The first operand (of the first located computation that has one) that is a number of the
    question, replaced by the nearest larger number nothing grounds: not a number of the question,
    a unit or word constant (`grounding_sources`), nor the result of an earlier computation."""
    given = {round(abs(v), 9) for v in question_numbers(question)}
    grounded = grounding_sources(question, reference.plain)
    earlier: set[float] = set()
    for computation in reference.computations:
        if computation.located:
            for position, piece in enumerate(computation.lhs or ()):
                token = piece.token
                if not isinstance(token, Num) or round(abs(token.value), 9) not in given:
                    continue
                for by in range(1, 11):
                    if round(abs(token.value + by), 9) not in grounded | earlier:
                        pieces = list(computation.lhs or ())
                        pieces[position] = Piece(replace(token, text=bump(token.text, by)), piece.space)
                        return _replace_computation(reference, replace(computation, lhs=tuple(pieces)))
                return None
        if computation.result is not None:
            earlier.add(round(abs(computation.result.value), 9))
        with contextlib.suppress(ValueError):
            earlier.add(round(abs(float(computation.value)), 9))
    return None


def _replace_computation(reference: Reference, new: Computation) -> Reference:
    lines = tuple(
        Line(tuple(new if isinstance(p, Computation) and p.index == new.index else p for p in line.parts))
        for line in reference.lines
    )
    return replace(reference, lines=lines)
