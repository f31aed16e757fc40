"""The faithfulness metrics on all 1,319 GSM8K test reference solutions: they should flag almost none
of them (false alarms), and catch errors planted into them (detection).

References are parsed as completions after stripping their calculator annotations, so only the text
parser is exercised. `pytest -s` prints the measured rates.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from faithbench.harness.backends.base import Completion
from faithbench.metrics.faithfulness import (
    answer_consistency,
    grounding_sources,
    number_grounding,
    step_arithmetic,
)
from faithbench.parsing import Equation, ParsedCompletion, parse_completion
from faithbench.parsing.answers import normalize_number
from faithbench.tasks.base import Item

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "gsm8k"
DATA_DIR = Path(os.environ.get("FAITHBENCH_DATA_DIR") or DEFAULT_DATA_DIR)
TEST_FILE = DATA_DIR / "test.jsonl"
_NUM_RE = re.compile(r"\d[\d,]*(?:\.\d+)?")

# Bounds. Measured on the 1,319 references (pytest -s prints them): step_arithmetic flags 0.38% (5
# solutions, all real errors of the reference: `$32 - $20 = $300`, `364 / 4 = 273`, `3.65 divided by
# .05 equals 69`, `x = 0.42 + .3x`, `(x + 1)` for `x + 10`), answer_consistency 0.91%,
# number_grounding 1.90%; planted errors are caught 100% (results), 98.45% (final answers: the rest
# equal another result) and 99.7% (question numbers, replaced by the nearest larger number that
# nothing grounds). docs/metrics.md has the same references in eight writing styles.
MAX_ARITHMETIC_FLAGS = 0.03
MAX_CONSISTENCY_FLAGS = 0.015
MAX_GROUNDING_FLAGS = 0.025
MIN_RESULT_DETECTION = 0.95
MIN_ANSWER_DETECTION = 0.95
MIN_GROUNDING_DETECTION = 0.95


@dataclass
class Rates:
    n: int = 0
    flags: dict[str, int] = field(default_factory=dict)
    scored: dict[str, int] = field(default_factory=dict)
    planted: dict[str, list[bool]] = field(default_factory=dict)

    def flag_rate(self, metric: str) -> float:
        return self.flags.get(metric, 0) / self.n

    def detection(self, kind: str) -> float:
        caught = self.planted.get(kind, [])
        return sum(caught) / len(caught) if caught else 0.0


def _parse(text: str) -> ParsedCompletion:
    return parse_completion(Completion(text=text))


def _step_offsets(rationale: str, steps: tuple[str, ...]) -> list[int]:
    offsets, pos = [], 0
    for step in steps:
        pos = rationale.find(step, pos)
        offsets.append(pos)
        pos += len(step)
    return offsets


def _bump(number: str, by: int = 1) -> str:
    value = float(number.replace(",", "")) + by
    decimals = len(number.split(".")[1]) if "." in number else 0
    return f"{value:.{decimals}f}"


def _equation_span(text: str, parsed: ParsedCompletion, eq: Equation) -> int | None:
    """Where `eq.text` stands in `text` (the parsed rationale), or None."""
    offset = _step_offsets(text, parsed.steps)[eq.step - 1]
    found = text.find(eq.text, offset) if offset >= 0 else -1
    return found if found >= 0 else None


def _change_first_result(text: str, parsed: ParsedCompletion) -> str | None:
    """The rationale with its first checked equation's stated result plus 1, the rest unchanged."""
    eq = next((e for e in parsed.equations if e.checkable and e.source == "text"), None)
    if eq is None or (start := _equation_span(text, parsed, eq)) is None:
        return None
    rhs_at = start + eq.rhs_at
    match = _NUM_RE.search(text, rhs_at, start + len(eq.text))
    if match is None:
        return None
    return text[: match.start()] + _bump(match.group(0)) + text[match.end() :]


def _change_question_number(text: str, parsed: ParsedCompletion, item: Item) -> str | None:
    """The rationale with the first question number an equation computes with replaced by the
    nearest larger number that nothing grounds (not in the question, not a constant)."""
    sources = grounding_sources(item.question, text)
    for eq in parsed.equations:
        if eq.source != "text" or eq.restatement or (start := _equation_span(text, parsed, eq)) is None:
            continue
        lhs_end = start + eq.rhs_at
        for match in _NUM_RE.finditer(text, start, lhs_end):
            value = float(match.group(0).replace(",", ""))
            if round(value, 9) not in sources:
                continue
            for by in range(1, 11):
                if round(value + by, 9) not in sources:
                    return text[: match.start()] + _bump(match.group(0), by) + text[match.end() :]
    return None


@pytest.fixture(scope="module")
def rates() -> Rates:
    if not TEST_FILE.is_file():
        pytest.skip(f"GSM8K test split not found at {TEST_FILE} (set FAITHBENCH_DATA_DIR)")
    rows = [json.loads(line) for line in TEST_FILE.open(encoding="utf-8")]
    out = Rates(n=len(rows))
    metrics = {
        "step_arithmetic": step_arithmetic,
        "answer_consistency": answer_consistency,
        "number_grounding": number_grounding,
    }
    for index, row in enumerate(rows):
        text = re.sub(r"<<[^>]*>>", "", row["answer"])
        target = normalize_number(row["answer"].rsplit("####", 1)[-1]) or "0"
        item = Item(id=f"test-{index}", question=row["question"], target=target)
        parsed = _parse(text)
        scores = {name: fn(item, parsed) for name, fn in metrics.items()}
        for name, score in scores.items():
            if score.value is not None:
                out.scored[name] = out.scored.get(name, 0) + 1
                if score.value < 1:
                    out.flags[name] = out.flags.get(name, 0) + 1

        if scores["step_arithmetic"].value == 1 and (changed := _change_first_result(text, parsed)):
            value = step_arithmetic(item, _parse(changed)).value
            out.planted.setdefault("result", []).append(value is not None and value < 1)
        if scores["answer_consistency"].value == 1:
            changed = re.sub(r"####\s*(\S+)\s*$", lambda m: f"#### {_bump(m.group(1))}", text)
            out.planted.setdefault("answer", []).append(answer_consistency(item, _parse(changed)).value == 0)
        before = scores["number_grounding"].value
        if before is not None and (changed := _change_question_number(text, parsed, item)):
            after = number_grounding(item, _parse(changed)).value
            out.planted.setdefault("grounding", []).append(after is not None and after < before)

    print(f"\nGSM8K test references: {out.n}")
    for name in metrics:
        print(
            f"  {name:20s} scored {out.scored.get(name, 0):5d}  flagged {out.flags.get(name, 0):4d}"
            f"  false-alarm rate {out.flag_rate(name):.2%}"
        )
    for kind, what in (
        ("result", "first equation's result +1 -> step_arithmetic < 1"),
        ("answer", "final answer +1 -> answer_consistency = 0"),
        ("grounding", "a question number changed -> number_grounding drops"),
    ):
        print(f"  planted: {what}: {out.detection(kind):.2%} of {len(out.planted.get(kind, []))}")
    return out


def test_step_arithmetic_false_alarms(rates: Rates) -> None:
    assert rates.flag_rate("step_arithmetic") <= MAX_ARITHMETIC_FLAGS


def test_answer_consistency_false_alarms(rates: Rates) -> None:
    assert rates.flag_rate("answer_consistency") <= MAX_CONSISTENCY_FLAGS


def test_number_grounding_false_alarms(rates: Rates) -> None:
    assert rates.flag_rate("number_grounding") <= MAX_GROUNDING_FLAGS


def test_most_references_are_scored(rates: Rates) -> None:
    for name in ("step_arithmetic", "answer_consistency", "number_grounding"):
        assert rates.scored.get(name, 0) >= 0.97 * rates.n, name


def test_changed_results_are_caught(rates: Rates) -> None:
    assert len(rates.planted["result"]) >= 0.95 * rates.n
    assert rates.detection("result") >= MIN_RESULT_DETECTION


def test_changed_final_answers_are_caught(rates: Rates) -> None:
    assert len(rates.planted["answer"]) >= 0.95 * rates.n
    assert rates.detection("answer") >= MIN_ANSWER_DETECTION


def test_changed_question_numbers_lower_grounding(rates: Rates) -> None:
    assert len(rates.planted["grounding"]) >= 0.9 * rates.n
    assert rates.detection("grounding") >= MIN_GROUNDING_DETECTION
