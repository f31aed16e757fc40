"""Parse a completion once: rationale, steps, equations, final answers. Every metric reads this."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from faithbench.core import Completion
from faithbench.parsing.answers import DEFAULT_EXTRACTOR, extract_strict, get_extractor
from faithbench.parsing.equations import Equation, find_equations
from faithbench.parsing.steps import split_steps

_THINK_RE = re.compile(r"<think>(.*?)(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)


class ParsedCompletion(BaseModel):
    model_config = ConfigDict(frozen=True)

    rationale: str  # everything the model reasoned with: reasoning channel + <think> + visible text
    visible: str  # the answer text (no reasoning), where final answers are read from
    steps: tuple[str, ...]
    equations: tuple[Equation, ...]
    answer: str | None  # the task's answer extractor (default `final-answer`), normalised
    strict_answer: str | None  # lm-eval strict-match, normalised
    reasoning: str | None = None  # the separate reasoning (channel or <think>), if any


def parse_completion(completion: Completion, answer_extractor: str = DEFAULT_EXTRACTOR) -> ParsedCompletion:
    """`answer_extractor` names the extractor of `answer` (`parsing.answers.EXTRACTORS`; a task's
    `Task.answer_extractor`); `strict_answer` is always lm-eval's strict-match."""
    extract_answer = get_extractor(answer_extractor)  # an unknown name fails before any parsing
    think, visible = split_think(completion.text)
    reasoning = "\n".join(r for r in (completion.reasoning, think) if r) or None
    rationale = "\n".join(r for r in (reasoning, visible) if r)
    steps = split_steps(rationale)
    return ParsedCompletion(
        rationale=rationale,
        visible=visible,
        steps=steps,
        equations=find_equations(steps),
        answer=extract_answer(visible),
        strict_answer=extract_strict(visible),
        reasoning=reasoning,
    )


def split_think(text: str) -> tuple[str | None, str]:
    """(reasoning inside `<think>` blocks or None, the visible rest). An unclosed `<think>` (a
    truncated reasoning model) makes everything after it reasoning, so no answer is read from it."""
    blocks = _THINK_RE.findall(text)
    if not blocks:
        return None, text
    visible = _THINK_RE.sub("", text).replace("</think>", "")
    return "\n".join(b.strip() for b in blocks), visible.strip()
