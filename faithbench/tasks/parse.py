"""Parse a completion once: rationale, steps, equations, final answers. Every metric reads this.

Nothing here executes model text: equations are re-computed by `tasks.arith`, a bounded evaluator.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from faithbench.harness.backends.base import Completion
from faithbench.tasks.extract import extract_flexible, extract_strict, split_think


class Equation(BaseModel):
    """One `lhs = rhs` claim found in step `step` (0-based index into `ParsedCompletion.steps`)."""

    model_config = ConfigDict(frozen=True)

    step: int
    lhs: str
    rhs: str
    lhs_value: float | None  # re-computed; None when not computable
    rhs_value: float | None  # the stated result
    operands: tuple[float, ...]  # the numbers the lhs computes with
    source: str  # "text" or "annotation" (GSM8K's <<expr=result>>)

    @property
    def checkable(self) -> bool:
        return self.lhs_value is not None and self.rhs_value is not None

    @property
    def correct(self) -> bool | None:
        """Whether the stated result matches re-computation (rounding allowed); None if not checkable."""
        from faithbench.tasks.arith import results_match

        if self.lhs_value is None or self.rhs_value is None:
            return None
        return results_match(self.lhs_value, self.rhs_value, self.rhs)


class ParsedCompletion(BaseModel):
    model_config = ConfigDict(frozen=True)

    rationale: str  # everything the model reasoned with: reasoning channel + <think> + visible text
    visible: str  # the answer text (no reasoning), where final answers are read from
    steps: tuple[str, ...]
    equations: tuple[Equation, ...]
    answer: str | None  # flexible extraction, normalised
    strict_answer: str | None  # lm-eval strict-match, normalised
    reasoning: str | None = None  # the separate reasoning (channel or <think>), if any


def parse_completion(completion: Completion) -> ParsedCompletion:
    think, visible = split_think(completion.text)
    reasoning = "\n".join(r for r in (completion.reasoning, think) if r) or None
    rationale = "\n".join(r for r in (reasoning, visible) if r)
    steps = split_steps(rationale)
    return ParsedCompletion(
        rationale=rationale,
        visible=visible,
        steps=steps,
        equations=find_equations(steps),
        answer=extract_flexible(visible),
        strict_answer=extract_strict(visible),
        reasoning=reasoning,
    )


def split_steps(rationale: str) -> tuple[str, ...]:
    raise NotImplementedError  # owned by the parsing work in progress


def find_equations(steps: tuple[str, ...]) -> tuple[Equation, ...]:
    raise NotImplementedError  # owned by the parsing work in progress
