"""Parse a completion once: rationale, steps, equations, final answers. Every metric reads this."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from faithbench.core import Completion
from faithbench.parsing.answers import DEFAULT_EXTRACTOR, extract_strict, get_extractor
from faithbench.parsing.equations import Equation, find_equations
from faithbench.parsing.steps import split_steps

_THINK_RE = re.compile(r"<think>(.*?)(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)


# The parsing budget, checked before any parsing (docs/hardening.md): what is over it is not parsed, so
# that one completion costs at most about a second whatever it holds. No GSM8K solution comes near:
# the longest reasoning traces are a few thousand characters in a few hundred lines.
MAX_TEXT_CHARS = 1_000_000  # completion + reasoning: past this nothing is read, not even the answer
MAX_ANSWER_CHARS = 200_000  # the end of the visible text the final answers are read from
MAX_RATIONALE_CHARS = 100_000  # the rationale cut into steps and read for equations
MAX_STEPS = 1_000  # its non-empty lines
MAX_EQUALS = 1_000  # its `=` signs


class ParsedCompletion(BaseModel):
    model_config = ConfigDict(frozen=True)

    rationale: str  # everything the model reasoned with: reasoning channel + <think> + visible text
    visible: str  # the answer text (no reasoning), where final answers are read from
    steps: tuple[str, ...]
    equations: tuple[Equation, ...]
    answer: str | None  # the task's answer extractor (default `final-answer`), normalised
    strict_answer: str | None  # lm-eval strict-match, normalised
    reasoning: str | None = None  # the separate reasoning (channel or <think>), if any
    # Why the rationale was not read (over the parsing budget): its steps and equations are empty and
    # only the answer metrics are scored. None: parsed in full.
    unparsed: str | None = None


def parse_completion(completion: Completion, answer_extractor: str = DEFAULT_EXTRACTOR) -> ParsedCompletion:
    """`answer_extractor` names the extractor of `answer` (`parsing.answers.EXTRACTORS`; a task's
    `Task.answer_extractor`); `strict_answer` is always lm-eval's strict-match.

    The budget (MAX_*) is checked before each stage of parsing: a text over it is left unread, with
    the reason in `unparsed`, rather than read slowly."""
    extract_answer = get_extractor(answer_extractor)  # an unknown name fails before any parsing
    size = len(completion.text) + len(completion.reasoning or "")
    if size > MAX_TEXT_CHARS:
        reason = f"completion has {size:,} characters, over the {MAX_TEXT_CHARS:,} read"
        text = completion.text
        return ParsedCompletion(
            rationale="\n".join(r for r in (completion.reasoning, text) if r),
            visible=text,
            steps=(),
            equations=(),
            answer=None,
            strict_answer=None,
            reasoning=completion.reasoning,
            unparsed=reason,
        )
    think, visible = split_think(completion.text)
    reasoning = "\n".join(r for r in (completion.reasoning, think) if r) or None
    rationale = "\n".join(r for r in (reasoning, visible) if r)
    tail = answer_text(visible)
    answer, strict = extract_answer(tail), extract_strict(tail)
    steps: tuple[str, ...] = ()
    equations: tuple[Equation, ...] = ()
    unparsed = over_budget(rationale)
    if unparsed is None:
        steps = split_steps(rationale)
        if len(steps) > MAX_STEPS:
            unparsed = f"rationale has {len(steps):,} lines, over the {MAX_STEPS:,} parsed"
            steps = ()
        else:
            equations = find_equations(steps)
    return ParsedCompletion(
        rationale=rationale,
        visible=visible,
        steps=steps,
        equations=equations,
        answer=answer,
        strict_answer=strict,
        reasoning=reasoning,
        unparsed=unparsed,
    )


def answer_text(visible: str) -> str:
    """Where final answers are read: the visible text, or its last MAX_ANSWER_CHARS characters from
    a line or word boundary (a final answer ends a solution; no number is cut in two)."""
    if len(visible) <= MAX_ANSWER_CHARS:
        return visible
    tail = visible[-MAX_ANSWER_CHARS:]
    cut = next((i for i, c in enumerate(tail[:1000]) if c.isspace()), None)
    return tail[cut + 1 :] if cut is not None else ""


def over_budget(rationale: str) -> str | None:
    """Why `rationale` is not parsed (its size), or None; the line count is checked once split."""
    if len(rationale) > MAX_RATIONALE_CHARS:
        return f"rationale has {len(rationale):,} characters, over the {MAX_RATIONALE_CHARS:,} parsed"
    if (equals := rationale.count("=")) > MAX_EQUALS:
        return f"rationale has {equals:,} '=' signs, over the {MAX_EQUALS:,} parsed"
    return None


def split_think(text: str) -> tuple[str | None, str]:
    """(reasoning inside `<think>` blocks or None, the visible rest). An unclosed `<think>` (a
    truncated reasoning model) makes everything after it reasoning, so no answer is read from it."""
    blocks = _THINK_RE.findall(text)
    if not blocks:
        return None, text
    visible = _THINK_RE.sub("", text).replace("</think>", "")
    return "\n".join(b.strip() for b in blocks), visible.strip()
