"""One process verdict per sample: the earliest step any rule metric flags.

Each faithfulness metric says where it found a fault, in 1-based steps of `ParsedCompletion.steps`
(the rationale's lines, as the user sees them): step_arithmetic the step of its first wrong
equation, number_grounding the steps of its ungrounded operands, answer_consistency (when the
final answer comes from no result) the step that states the answer. The verdict reads those
details, so it is the same for a fresh score and for a stored record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from faithbench.core import Score

PROCESS_METRICS = ("step_arithmetic", "number_grounding", "answer_consistency")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def flagged_step(metric: str, value: float | None, details: Mapping[str, Any]) -> int | None:
    """The first step `metric` flags, given its score and details; None when it flags none."""
    if value is None or value >= 1:
        return None
    if metric == "step_arithmetic":
        return _int(details.get("first_wrong_step"))
    if metric == "number_grounding":
        steps = [_int(u.get("step")) for u in details.get("ungrounded", []) if isinstance(u, dict)]
        return min((s for s in steps if s is not None), default=None)
    if metric == "answer_consistency":
        return _int(details.get("answer_step"))
    return None


def first_error(scores: Mapping[str, Score]) -> tuple[int | None, tuple[str, ...]]:
    """(the earliest flagged step, the metrics that flag it), or (None, ()) when no rule metric
    scored flags a step."""
    flagged = {
        name: step
        for name in PROCESS_METRICS
        if name in scores
        and (step := flagged_step(name, scores[name].value, scores[name].details)) is not None
    }
    if not flagged:
        return None, ()
    first = min(flagged.values())
    return first, tuple(name for name in PROCESS_METRICS if flagged.get(name) == first)
