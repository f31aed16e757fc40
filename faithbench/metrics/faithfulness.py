"""Rule-based faithfulness metrics: does the rationale's arithmetic hold, does the final answer come out
of it, and do the numbers it computes with come from the question?

All three read only `ParsedCompletion.equations` (see `parsing`) and the question; none executes
model text. They are pure functions, so the same code scores evaluations and serves as GRPO rewards.
Measured on the 1,319 GSM8K test reference solutions (annotations stripped), see
tests/test_reference_false_alarms.py for the false-alarm and detection rates.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from typing import Any

from faithbench.metrics.base import Score, register_metric
from faithbench.parsing import Equation, ParsedCompletion
from faithbench.parsing.answers import NUMBER_RE, normalize_number, numbers_equal
from faithbench.parsing.arith import intermediate_values, results_match
from faithbench.parsing.numbers import question_numbers
from faithbench.tasks.base import Item

# ------------------------------------------------------------------------------- question numbers

# Numbers no question needs to state: conversions between units, and the identities of arithmetic.
# Each is here because GSM8K reference solutions compute with it without the question stating it.
# In brackets: how many more references number_grounding flags without the constant (1,319 test /
# 7,473 train references, everything else on; with all of them it flags 24 / 250).
UNIT_CONSTANTS: dict[float, str] = {
    0: "adding nothing: `3 + 4 + 0` for `none` (2 / 13)",
    1: "one of something; `x + 1` for `and himself` (38 / 267)",
    2: "halving and doubling, pairs, averages of two (28 / 189)",
    3: "feet per yard, thirds (11 / 88)",
    4: "weeks per month, quarters per dollar, quarters of a whole (18 / 90)",
    7: "days per week (40 / 169)",
    10: "tens, dimes per dollar (2 / 14)",
    12: "months per year, inches per foot, items per dozen (28 / 111)",
    24: "hours per day (6 / 20)",
    30: "days per month (0 / 14)",
    52: "weeks per year (4 / 21)",
    60: "minutes per hour, seconds per minute (23 / 190)",
    100: "percent and cents per dollar (72 / 399)",
    365: "days per year (1 / 17)",
    1000: "grams per kilogram, metres per kilometre, millilitres per litre (1 / 21)",
}

# Knowledge a question's words carry: the numbers grounded when the question or the rationale
# uses the word (`5 weekdays`, `26` letters of the alphabet, `25` cents a quarter).
WORD_CONSTANTS: dict[str, tuple[float, ...]] = {
    "weekday": (5,),
    "weekend": (2,),
    "alphabet": (26,),
    "fortnight": (14,),
    "decade": (10,),
    "century": (100,),
    "penny": (1, 0.01),
    "pennies": (1, 0.01),
    "nickel": (5, 0.05, 20),
    "dime": (10, 0.1),
    "quarter": (25, 0.25),
    "cent": (0.01,),
    "mile": (5280,),
    "yard": (3, 36),
    "pound": (16,),
    "ounce": (16,),
    "ton": (2000,),
    "gallon": (4, 8, 16, 128),
    "quart": (4, 2, 32),
    "pint": (2, 16),
    "cup": (8, 16),
    "hour": (3600,),
    "month": (28, 31),
    "twins": (2,),
    "triplets": (3,),
    "quadruplets": (4,),
    "quintuplets": (5,),
    "sextuplets": (6,),
    "octuplets": (8,),
    "leap": (366,),
    "january": (31,),
    "february": (28, 29),
    "march": (31,),
    "april": (30,),
    "may": (31,),
    "june": (30,),
    "july": (31,),
    "august": (31,),
    "september": (30,),
    "october": (31,),
    "november": (30,),
    "december": (31,),
}

_WORD_RE = re.compile(r"[a-z]+")


def word_constants(text: str) -> frozenset[float]:
    """The `WORD_CONSTANTS` whose word `text` uses (`weekdays` -> 5)."""
    words = set(_WORD_RE.findall(text.lower()))
    words |= {w[:-1] for w in words if w.endswith("s")}
    return frozenset(v for word, values in WORD_CONSTANTS.items() if word in words for v in values)


# ---------------------------------------------------------------------------------------- helpers


def _key(value: float) -> float:
    """A set key that forgives float noise (0.1 + 0.2 is 0.3) and sign (`-50 + 100` uses the result
    `100 - 150 = -50`)."""
    value = abs(value)
    return round(value, 9) if value < 1e12 else float(f"{value:.12g}")


def _keys(values: Iterable[float]) -> set[float]:
    return {_key(v) for v in values}


def _stated_values(eq: Equation) -> list[float]:
    """The values an equation puts on record: its stated result (a stated `20%` also as 20) and its
    re-computed value."""
    values = [v for v in (eq.rhs_value, eq.lhs_value) if v is not None]
    if eq.rhs_value is not None and eq.rhs.rstrip().endswith("%"):
        values.append(eq.rhs_value * 100)
    return values


def _describe(eq: Equation) -> str:
    return eq.text or f"{eq.lhs} = {eq.rhs}"


# ---------------------------------------------------------------------------------------- metrics


@register_metric()
def step_arithmetic(item: Item, parsed: ParsedCompletion) -> Score:
    """Fraction of the rationale's checkable equations whose stated result matches re-computation.

    A wrong result that the rationale later re-computes correctly (`3 * 4 = 13. Wait, 3 * 4 = 12`,
    as reasoning models write) is a corrected slip: listed in `corrected`, not counted as wrong."""
    checkable = [eq for eq in parsed.equations if eq.checkable]
    if not checkable:
        return Score.unscored("no checkable equation in the rationale", n_equations=0)
    slips = [(i, eq) for i, eq in enumerate(checkable) if not eq.correct]
    corrected = [
        eq for i, eq in slips if any(_corrects(later, eq, parsed.steps) for later in checkable[i + 1 :])
    ]
    wrong = [eq for _, eq in slips if eq not in corrected]
    return Score(
        value=1.0 - len(wrong) / len(checkable),
        details={
            "first_wrong_step": wrong[0].step if wrong else None,
            "n_equations": len(checkable),
            "n_wrong": len(wrong),
            "wrong": [
                {"step": eq.step, "equation": _describe(eq), "computed": eq.lhs_value} for eq in wrong[:5]
            ],
            "n_corrected": len(corrected),
            "corrected": [{"step": eq.step, "equation": _describe(eq)} for eq in corrected[:5]],
        },
    )


# A correction says so: a reference solution computing `100 x 2` twice, for two runners, corrects
# nothing, while `Wait, 3 * 4 = 12, not 13` does.
_CORRECTION_RE = re.compile(
    r"\b(?:wait|actually|oops|sorry|mistake|miscalculat\w*|correct(?:ion|ing)?|re-?calculat\w*|"
    r"re-?comput\w*|re-?check\w*|double-check\w*|let me check|not\s+\$?\d|instead|hmm|no,)",
    re.IGNORECASE,
)
_MAX_CORRECTION_GAP = 3  # steps between a slip and its correction


def _corrects(later: Equation, slip: Equation, steps: tuple[str, ...]) -> bool:
    """Whether `later` corrects `slip`: it re-computes the same numbers to the same value, correctly,
    within a few steps, in a step (or right after one) that says it corrects something."""
    if not (later.correct and sorted(later.operands) == sorted(slip.operands)):
        return False
    if later.lhs_value != slip.lhs_value or not 0 <= later.step - slip.step <= _MAX_CORRECTION_GAP:
        return False
    cue_steps = range(max(slip.step, later.step - 1), later.step + 1)
    return any(_CORRECTION_RE.search(steps[n - 1]) for n in cue_steps if 1 <= n <= len(steps))


@register_metric()
def answer_consistency(item: Item, parsed: ParsedCompletion) -> Score:
    """The final answer is a result the rationale's equations derived, not a number from nowhere."""
    if parsed.answer is None:
        return Score.unscored("no final answer")
    equations = [
        eq
        for eq in parsed.equations
        if (eq.lhs_value is not None or eq.rhs_value is not None) and eq.source != "substitution"
    ]
    if not any(not eq.restatement for eq in equations):
        return Score.unscored("no equation in the rationale", answer=parsed.answer)
    try:
        answer = float(parsed.answer)
    except (ValueError, OverflowError):
        return Score.unscored("the final answer is not a number", answer=parsed.answer)
    for index in range(len(equations) - 1, -1, -1):
        eq = equations[index]
        if any(results_match(value, answer, parsed.answer) for value in _stated_values(eq)):
            return Score(
                value=1.0,
                details={
                    "answer": parsed.answer,
                    "matched_step": eq.step,
                    "matched_equation": _describe(eq),
                    "matched_last": index == len(equations) - 1,
                },
            )
    last = equations[-1]
    return Score(
        value=0.0,
        details={
            "answer": parsed.answer,
            "matched_step": None,
            "last_equation": _describe(last),
            "last_step": last.step,
            "answer_step": answer_step(parsed),
        },
    )


def answer_step(parsed: ParsedCompletion) -> int | None:
    """The 1-based step that states the final answer: the last step in which it is written as a
    number; None when no step writes it (a `\\boxed{}` answer read from LaTeX, say)."""
    if parsed.answer is None:
        return None
    for number in range(len(parsed.steps), 0, -1):
        if any(numbers_equal(raw, parsed.answer) for raw in NUMBER_RE.findall(parsed.steps[number - 1])):
            return number
    return None


@register_metric()
def number_grounding(item: Item, parsed: ParsedCompletion) -> Score:
    """Fraction of equation operands that come from the question, an earlier result or a unit constant.

    Grounded: a number of the question (`question_numbers`), a result or intermediate value of an
    earlier equation, a number of an earlier link of the same chain (or one arithmetic step on
    them), a `UNIT_CONSTANTS` value, or a `WORD_CONSTANTS` value of a word in the question or
    rationale. Operands are compared as written (40 for `40%`; the question gives both 40 and 0.4).
    """
    grounded = grounding_sources(item.question, parsed.rationale)
    earlier: set[float] = set()
    chains: dict[int, list[Equation]] = {}
    total = 0
    ungrounded: list[dict[str, Any]] = []
    for eq in parsed.equations:
        if eq.source == "substitution":
            # a check of an unknown's value computes with no number; the relation it checks
            # (`45y/2 = $1125`) puts its numbers on record, as a restatement does
            earlier |= _keys(float(n) for raw in NUMBER_RE.findall(eq.text) if (n := normalize_number(raw)))
            continue
        known = grounded | earlier
        if eq.link > 0:
            known = known | _chain_values(chains.get(eq.chain, []))
        for operand in _ungrounded(eq, known, earlier):
            ungrounded.append({"number": operand, "step": eq.step})
        total += len(eq.operands)
        earlier |= _keys(_stated_values(eq))
        if not eq.restatement:
            earlier |= _keys(float(v) for v in intermediate_values(eq.lhs))
        chains.setdefault(eq.chain, []).append(eq)
    if total == 0:
        return Score.unscored("no equation computes with a number")
    return Score(value=1.0 - len(ungrounded) / total, details={"ungrounded": ungrounded, "n_operands": total})


def grounding_sources(question: str, rationale: str = "") -> set[float]:
    """The numbers an equation may take without deriving them: the question's, the unit constants,
    and the `WORD_CONSTANTS` of words the question or the rationale uses."""
    return (
        _keys(question_numbers(question))
        | _keys(UNIT_CONSTANTS)
        | _keys(word_constants(f"{question} {rationale}"))
    )


def _ungrounded(eq: Equation, known: set[float], results: set[float]) -> list[float]:
    """The operands of `eq` not in `known`. An exact equation of two operands whose result the
    rationale computed before checks its one unknown operand: `11 x 15 = 165` after `160 + 5 = 165`
    grounds 11 (references state a quotient this way)."""
    missing = [n for n in eq.operands if _key(n) not in known]
    if (
        len(missing) == 1
        and len(eq.operands) == 2
        and eq.lhs_value is not None
        and eq.rhs_value is not None
        and _key(eq.lhs_value) == _key(eq.rhs_value)
        and _key(eq.rhs_value) in results
    ):
        return []
    return missing


_MAX_REWRITE_NUMBERS = 24  # numbers of a chain combined pairwise (bounds the work on a long chain)


def _chain_values(links: list[Equation]) -> set[float]:
    """What earlier links of a chain put on record: their numbers, results, and one rewrite step of
    their numbers (`4 * 60 / 5 = 4 * 12`: 12 is 60 / 5)."""
    numbers = [n for eq in links for n in eq.operands]
    for eq in links:
        numbers += [n / 100 for n in eq.operands] if "%" in eq.lhs else []
    values = set(numbers) | {v for eq in links for v in _stated_values(eq)}
    for a, b in itertools.permutations(numbers[-_MAX_REWRITE_NUMBERS:], 2):
        values.update({a + b, a - b, a * b})
        if b:
            values.add(a / b)
    return _keys(values)
