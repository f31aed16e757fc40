"""Read run files of every format faithbench has written, as today's models.

Format 1 (no `format_version` in run.json) kept each score in three parallel dicts, `scores`
(metric -> value), `reasons` (metric -> why unscored) and `details` (metric -> facts, plus `judge`: the
judge's verdict). Runs written before the line-numbered parser (main up to fd93e12) also lack
`first_error_step` and count steps from 0, by sentence. A format-1 line becomes a format-2 record:
one Score per metric, the judge's verdict in `judge_validity`'s details, steps counted from 1, and the
process verdict read from those details. `faithbench score` renumbers an old run's steps by lines.

Lines are upgraded one at a time by their shape, so a run resumed across the change (old lines, then
new ones) reads whole; the runner rewrites such a file in the new format before appending to it.
"""

from __future__ import annotations

from typing import Any

from faithbench.specs import JUDGE_METRICS

LEGACY_JUDGE_KEY = "judge"  # format 1: details["judge"] held the verdict
JUDGE_DETAILS_METRIC = JUDGE_METRICS[0]  # format 2: the verdict sits in judge_validity's details
_NO_REASON = "unscored (the run file gave no reason)"
# format 1 before fd93e12's successor: the detail fields that held a 0-based step index
_STEP_FIELDS = ("first_wrong_step", "matched_step", "answer_step", "last_step")
_STEP_LISTS = ("wrong", "ungrounded", "corrected")


def is_legacy_sample(data: Any) -> bool:
    """Whether a parsed samples.jsonl line is in format 1."""
    if not isinstance(data, dict):
        return False
    scores = data.get("scores")
    if "reasons" in data or "details" in data:
        return True
    return isinstance(scores, dict) and any(not isinstance(v, dict) for v in scores.values())


def upgrade_sample(data: dict[str, Any]) -> dict[str, Any]:
    """A format-1 sample line as a format-2 one (a new dict; `data` is not changed)."""
    out = dict(data)
    values = out.get("scores") or {}
    reasons = out.pop("reasons", None) or {}
    details = dict(out.pop("details", None) or {})
    verdict = details.pop(LEGACY_JUDGE_KEY, None)
    if "first_error_step" not in out:
        details = {name: _count_from_one(facts) for name, facts in details.items()}
    scores: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        reason = reasons.get(name) or (None if value is not None else _NO_REASON)
        facts = details.get(name) if isinstance(details.get(name), dict) else {}
        scores[name] = {"value": value, "reason": reason, "details": facts}
    if isinstance(verdict, dict) and JUDGE_DETAILS_METRIC in scores:
        scores[JUDGE_DETAILS_METRIC]["details"] = verdict
    out["scores"] = scores
    out.pop("first_error_step", None)  # read afresh from the upgraded details (SampleRecord.with_scores)
    out.pop("first_error_by", None)
    return out


def _count_from_one(facts: Any) -> Any:
    if not isinstance(facts, dict):
        return facts
    out = dict(facts)
    for key in _STEP_FIELDS:
        if key in out:
            out[key] = _plus_one(out[key])
    for key in _STEP_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [
                {**entry, "step": _plus_one(entry.get("step"))} if isinstance(entry, dict) else entry
                for entry in out[key]
            ]
    return out


def _plus_one(value: Any) -> Any:
    return value + 1 if isinstance(value, int) and not isinstance(value, bool) else value
