"""Typed views of the `details` the built-in metrics put in their Score, for readers (reports, the
process verdict) that would otherwise pick them out of a dict by string keys.

Steps are 1-based lines of the rationale (`ParsedCompletion.steps`). Runs written in an earlier
layout are upgraded on reading (`faithbench.harness.migrate`), so these are the only shapes a reader
meets. A field a metric adds later is ignored here until it gets a name below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict


class _Details(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WrongEquation(_Details):
    step: int
    equation: str
    computed: float | None = None  # the re-computed left side


class CorrectedEquation(_Details):
    step: int
    equation: str


class StepArithmeticDetails(_Details):
    """step_arithmetic: the first few wrong equations, and slips the rationale corrects itself."""

    first_wrong_step: int | None = None
    n_equations: int = 0
    n_wrong: int = 0
    wrong: list[WrongEquation] = []  # the first five
    n_corrected: int = 0
    corrected: list[CorrectedEquation] = []  # the first five


class AnswerConsistencyDetails(_Details):
    """answer_consistency: the equation whose result is the final answer (`matched_*`), or, when
    none is, the last equation and the step stating the answer."""

    answer: str | None = None
    matched_step: int | None = None
    matched_equation: str | None = None
    matched_last: bool | None = None
    last_equation: str | None = None
    last_step: int | None = None
    answer_step: int | None = None


class UngroundedNumber(_Details):
    number: float
    step: int


class NumberGroundingDetails(_Details):
    """number_grounding: the operands with no source, and how many operands there were."""

    ungrounded: list[UngroundedNumber] = []
    n_operands: int = 0


class AnswerDetails(_Details):
    """accuracy, strict_accuracy: the answer read."""

    answer: str | None = None


class JudgeVerdictDetails(_Details):
    """judge_validity: the LLM judge's verdict (None fields when its reply was unreadable; `reply`
    then holds it) and how it was reached."""

    attempts: int | None = None
    reasoning: str | None = None
    withheld_steps: list[int] = []
    screen_patterns: list[str] = []
    validity: int | None = None
    coherence: int | None = None
    alignment: int | None = None
    first_error_step: int | None = None
    explanation: str | None = None
    reply: str | None = None


DETAILS: dict[str, type[_Details]] = {
    "accuracy": AnswerDetails,
    "strict_accuracy": AnswerDetails,
    "step_arithmetic": StepArithmeticDetails,
    "answer_consistency": AnswerConsistencyDetails,
    "number_grounding": NumberGroundingDetails,
    "judge_validity": JudgeVerdictDetails,
}

D = TypeVar("D", bound=_Details)


def read_details(model: type[D], details: Mapping[str, Any] | None) -> D:
    """`details` (a Score's, or None when the metric did not score the sample) as `model`."""
    return model.model_validate(details or {})
