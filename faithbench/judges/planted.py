"""The planted-error suite of `faithbench judge-check`: GSM8K reference solutions (calculator
annotations `<<...>>` removed) and copies of them with one error planted.

    clean              the reference as it is
    wrong_result       one equation's stated result changed (`16 - 3 - 4 = 9` -> `= 12`)
    ungrounded_number  one operand from the question replaced by a number the question does not
                       give, the step's result recomputed, so only the number is wrong
    wrong_answer       the final `#### N` changed to a number the rationale never states

A reference takes part only when all three errors can be planted in it and its own arithmetic holds
(`step_arithmetic` finds two references with a typo), so the suite is balanced: four cases each.
Each change is checked by re-parsing: same steps, the planted step is the only one changed.
`error_step` numbers steps from 1, as the judge sees them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator
from typing import Literal

from pydantic import BaseModel

from faithbench.harness.backends.base import Completion
from faithbench.metrics.faithfulness import number_grounding, step_arithmetic
from faithbench.parsing import Equation, ParsedCompletion, parse_completion
from faithbench.parsing.answers import extract_strict, normalize_number
from faithbench.tasks.base import Item

Kind = Literal["clean", "wrong_result", "ungrounded_number", "wrong_answer"]
KINDS: tuple[Kind, ...] = ("clean", "wrong_result", "ungrounded_number", "wrong_answer")
ERROR_KINDS: tuple[Kind, ...] = KINDS[1:]

_ANNOTATION_RE = re.compile(r"<<[^>]*>>")
_NUMBER_RE = re.compile(r"\d[\d,]*(?:\.\d+)?")
_FINAL_RE = re.compile(r"####\s*(\S+)\s*$")


class PlantedCase(BaseModel):
    id: str  # `<item id>/<kind>`
    kind: Kind
    item: Item
    rationale: str
    error_step: int | None  # the step with the planted error, numbered from 1; None when clean
    change: str | None  # what was changed, for reading the report


def reference_rationale(item: Item) -> str:
    """A reference solution as a model would write it: the calculator annotations removed."""
    if item.reference is None:
        raise ValueError(f"{item.id}: no reference solution")
    return _ANNOTATION_RE.sub("", item.reference)


def planted_suite(items: Iterable[Item], n_references: int, seed: int = 0) -> list[PlantedCase]:
    """Four cases for each of the first `n_references` references that take all three errors."""
    cases: list[PlantedCase] = []
    used = 0
    for item in items:
        if used == n_references:
            break
        planted = plant_all(item, random.Random(f"{seed}/{item.id}"))
        if planted is not None:
            cases += planted
            used += 1
    return cases


def plant_all(item: Item, rng: random.Random) -> list[PlantedCase] | None:
    """The clean case and the three planted ones for `item`, or None when one cannot be built."""
    text = reference_rationale(item)
    parsed = _parse(text)
    arithmetic = step_arithmetic(item, parsed).value
    if arithmetic is not None and arithmetic < 1:
        return None  # the reference has an arithmetic typo: it is no clean case
    built: list[PlantedCase] = [
        PlantedCase(
            id=f"{item.id}/clean", kind="clean", item=item, rationale=text, error_step=None, change=None
        )
    ]
    for kind, plant in (
        ("wrong_result", _wrong_result),
        ("ungrounded_number", _ungrounded_number),
        ("wrong_answer", _wrong_answer),
    ):
        found = plant(item, text, parsed, rng)
        if found is None:
            return None
        changed, step, change = found
        built.append(
            PlantedCase(
                id=f"{item.id}/{kind}",
                kind=kind,
                item=item,
                rationale=changed,
                error_step=step,
                change=change,
            )
        )
    return built


_Planted = tuple[str, int, str]  # (changed rationale, 1-based step number, description)


def _wrong_result(item: Item, text: str, parsed: ParsedCompletion, rng: random.Random) -> _Planted | None:
    candidates = [eq for eq in _text_equations(parsed) if eq.correct]
    rng.shuffle(candidates)
    for eq in candidates:
        span = _rhs_number(text, parsed, eq)
        if span is None:
            continue
        start, end = span
        new = _shift(text[start:end], rng.randint(1, 9))
        changed = text[:start] + new + text[end:]
        if _only_step_changed(parsed, changed, eq.step) and _has_wrong_equation(changed, eq.step):
            return changed, eq.step, f"step {eq.step}: result {text[start:end]} -> {new}"
    return None


def _ungrounded_number(
    item: Item, text: str, parsed: ParsedCompletion, rng: random.Random
) -> _Planted | None:
    already = {u["step"] for u in number_grounding(item, parsed).details.get("ungrounded", [])}
    candidates = [eq for eq in _text_equations(parsed) if eq.correct and eq.step not in already]
    rng.shuffle(candidates)
    for eq in candidates:
        at = _equation_at(text, parsed, eq)
        if at is None:
            continue
        lhs_end = at + eq.rhs_at
        for match in _NUMBER_RE.finditer(text, at, lhs_end):
            for by in range(1, 11):
                new = _shift(match.group(0), by)
                changed = _recompute(text[: match.start()] + new + text[match.end() :], eq)
                if changed is None:
                    continue
                flagged = number_grounding(item, _parse(changed)).details.get("ungrounded", [])
                at_step = any(u["step"] == eq.step for u in flagged)  # the new number itself, not a later one
                if at_step and _only_step_changed(parsed, changed, eq.step):
                    return changed, eq.step, f"step {eq.step}: operand {match.group(0)} -> {new}"
    return None


def _wrong_answer(item: Item, text: str, parsed: ParsedCompletion, rng: random.Random) -> _Planted | None:
    match = _FINAL_RE.search(text)
    if match is None or not parsed.steps:
        return None
    stated = {normalize_number(m) for m in _NUMBER_RE.findall(text)}
    for by in rng.sample(range(1, 10), 9):
        new = _shift(match.group(1), by)
        if normalize_number(new) in stated:
            continue
        changed = text[: match.start(1)] + new + text[match.end(1) :]
        last = len(parsed.steps)
        if extract_strict(changed) == normalize_number(new) and _only_step_changed(parsed, changed, last):
            return changed, last, f"final answer {match.group(1)} -> {new}"
    return None


# ---------------------------------------------------------------------------------------- helpers


def _parse(text: str) -> ParsedCompletion:
    return parse_completion(Completion(text=text))


def _text_equations(parsed: ParsedCompletion) -> list[Equation]:
    return [eq for eq in parsed.equations if eq.source == "text" and not eq.restatement and eq.checkable]


def _step_offsets(text: str, steps: tuple[str, ...]) -> Iterator[int]:
    """Where each step starts in `text` (steps are stripped lines and sentences, in order)."""
    position = 0
    for step in steps:
        position = text.find(step, position)
        yield position
        position += len(step)


def _equation_at(text: str, parsed: ParsedCompletion, eq: Equation) -> int | None:
    offset = list(_step_offsets(text, parsed.steps))[eq.step - 1]
    found = text.find(eq.text, offset) if offset >= 0 else -1
    return found if found >= 0 else None


def _rhs_number(text: str, parsed: ParsedCompletion, eq: Equation) -> tuple[int, int] | None:
    """The span of the stated result's number in `text`."""
    at = _equation_at(text, parsed, eq)
    if at is None:
        return None
    match = _NUMBER_RE.search(text, at + eq.rhs_at, at + len(eq.text))
    return (match.start(), match.end()) if match else None


def _shift(number: str, by: int) -> str:
    """`number` plus `by`, written with as many decimals (and no thousands commas)."""
    decimals = len(number.split(".")[1]) if "." in number else 0
    return f"{float(number.replace(',', '')) + by:.{decimals}f}"


def _recompute(text: str, eq: Equation) -> str | None:
    """`text` with the stated result of the equation in `eq`'s step and place made true again
    (after one of its operands changed); None if the new result is no short decimal."""
    parsed = _parse(text)
    same = [
        e for e in _text_equations(parsed) if e.step == eq.step and e.chain == eq.chain and e.link == eq.link
    ]
    if not same or same[0].lhs_value is None:
        return None
    value = same[0].lhs_value
    written = f"{value:.2f}".rstrip("0").rstrip(".")
    if abs(float(written) - value) > 1e-9 or value < 0:
        return None
    span = _rhs_number(text, parsed, same[0])
    if span is None:
        return None
    changed = text[: span[0]] + written + text[span[1] :]
    return changed if _has_wrong_equation(changed, eq.step) is False else None


def _has_wrong_equation(text: str, step: int) -> bool:
    return any(eq.correct is False for eq in _parse(text).equations if eq.step == step)


def _only_step_changed(parsed: ParsedCompletion, changed: str, step: int) -> bool:
    """Whether `changed` splits into the same steps as `parsed`, all equal but step `step`."""
    steps = _parse(changed).steps
    if len(steps) != len(parsed.steps):
        return False
    return [i for i, (a, b) in enumerate(zip(parsed.steps, steps, strict=True), start=1) if a != b] == [step]
