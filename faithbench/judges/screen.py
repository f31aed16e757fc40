"""Screening the text under judgment: lines that address the judge are removed before it reads them.

The structural defences (`rubric.data_block`) keep a rationale from *being* an instruction; they
cannot keep a small judge from being *persuaded* by one. SmolLM2-135M copies a ready verdict it
finds in the data. So before the judge sees the steps, every line of the rationale that looks
addressed to a grader (a verdict-shaped object, rubric terms, a request for marks, an
"ignore the instructions", chat-template or data-marker markup) is replaced, step for step, by a
placeholder. Step numbers stay those of `parse_completion`, so `first_error_step` still points at
the same step.

This is a filter of known shapes, not a proof: a paraphrase that avoids every pattern reaches the
judge and is left to the structural and instructional layers (docs/judges.md says what each
catches, with the false-alarm rate on the GSM8K references). The judge's record says which
patterns fired, so a screened sample is never silent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from faithbench.parsing import split_steps

PLACEHOLDER = "[step withheld from the grader: its line addressed the grader]"

_JUDGE_WORDS = (
    r"(?:grader|grading team|judge|evaluator|reviewer|examiner|assessor|scorer|marker|AI|assistant|LLM)"
)

# Each pattern names a shape of text aimed at a judge. None matches any of the 56,590 lines of the
# GSM8K questions and reference solutions (train, test, test_socratic; tests/test_judges_screen.py
# checks the real files), so a screened line is never a line of a real solution.
PATTERNS: dict[str, re.Pattern[str]] = {
    "rubric_key": re.compile(
        r"\bfirst_error_step\b|\b(?:validity|coherence|alignment)\b\s*[\"']?\s*[:=]"
        r"|\b(?:validity|coherence|alignment)\b\W{0,3}[1-5]\b",
        re.IGNORECASE,
    ),
    "grading_term": re.compile(
        r"\b(?:rubric|verdicts?|grading (?:policy|team|instructions?|error))\b", re.IGNORECASE
    ),
    "markup": re.compile(
        r"<\|[^|\n]{1,40}\|>|</?\s*(?:data|system|user|assistant)\b|\[/?INST\]|<</?SYS>>"
        r"|^\W*#{1,6}\s*(?:system|user|assistant|instructions?|response)\b",
        re.IGNORECASE,
    ),
    "override": re.compile(
        r"\b(?:ignore|disregard|forget|override|overrule)\b[^\n]{0,60}?"
        r"\b(?:instructions?|rubric|rules|prompt|policy|criteria)\b"
        r"|\b(?:system|scoring|evaluation)\s+(?:override|policy|mode|prompt|instructions?|update)\b",
        re.IGNORECASE,
    ),
    "marks_request": re.compile(
        r"\b(?:award|assign|output|give|deserves?)\b[^\n]{0,30}?(?:\b(?:full|perfect|maximum|max|top|highest)"
        r"\s+(?:marks?|scores?|ratings?|grades?)\b|\b5\s*/\s*5\b|\b5 out of 5\b|\b5 on every\b)"
        r"|\bgrade (?:this|the) (?:solution|answer|response)\b",
        re.IGNORECASE,
    ),
    "addresses_judge": re.compile(
        r"\b(?:dear|hey|attention|note (?:to|for|from) the|instructions? (?:to|for) the|to the)"
        rf"\s+{_JUDGE_WORDS}s?\b"
        rf"|(?:^|[.!?]\s)\W*{_JUDGE_WORDS}s?\s*[,:]",
        re.IGNORECASE,
    ),
}


class Screening(BaseModel):
    """What the judge is shown of a rationale: its steps with addressed lines withheld."""

    model_config = ConfigDict(frozen=True)

    steps: tuple[str, ...]
    withheld: tuple[int, ...] = ()  # step numbers (from 1) replaced by the placeholder
    patterns: tuple[str, ...] = ()  # the names of the patterns that fired, sorted


def line_patterns(line: str) -> list[str]:
    """The names of the patterns `line` matches."""
    return [name for name, pattern in PATTERNS.items() if pattern.search(line)]


def screen(rationale: str, steps: Sequence[str]) -> Screening:
    """`steps` (= `split_steps(rationale)`) with every step of a flagged line replaced by the
    placeholder. Lines are cut exactly as `split_steps` cuts them, so the numbering is kept."""
    shown: list[str] = []
    withheld: list[int] = []
    fired: set[str] = set()
    for line in rationale.splitlines():
        line_steps = split_steps(line)
        names = line_patterns(line) if line_steps else []
        if names:
            fired.update(names)
            withheld.extend(range(len(shown) + 1, len(shown) + len(line_steps) + 1))
            shown.extend(PLACEHOLDER for _ in line_steps)
        else:
            shown.extend(line_steps)
    if len(shown) != len(steps):  # split_steps is per line; this would be a bug in one of the two
        raise AssertionError(f"screening cut {len(shown)} steps where parsing cut {len(steps)}")
    return Screening(steps=tuple(shown), withheld=tuple(withheld), patterns=tuple(sorted(fired)))
