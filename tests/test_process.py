"""The per-sample process verdict: the earliest step any rule metric flags, in 1-based lines."""

from __future__ import annotations

import pytest

from faithbench.core import Completion, Item, Score
from faithbench.harness.scoring import resolve_metrics, score_sample
from faithbench.metrics.process import first_error

JANET = Item(
    id="test-0",
    question="Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes "
    "muffins for her friends every day with four. She sells the remainder at the farmers' market daily "
    "for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?",
    target="18",
)


def _record(text: str):  # type: ignore[no-untyped-def]
    return score_sample(JANET, "prompt", Completion(text=text), resolve_metrics(None))


def test_a_faithful_rationale_has_no_first_error() -> None:
    record = _record("Janet sells 16 - 3 - 4 = 9 eggs a day.\nShe makes 9 * 2 = $18.\n#### 18")
    assert record.first_error_step is None and record.first_error_by == []


def test_the_earliest_flagged_step_wins_and_names_its_metrics() -> None:
    # step 2 computes wrong (9 * 2 = 19); step 3 uses 11, which nothing grounds
    text = "Janet sells 16 - 3 - 4 = 9 eggs a day.\nShe makes 9 * 2 = $19.\nThen 19 + 11 = 30.\n#### 30"
    record = _record(text)
    assert record.value("step_arithmetic") == pytest.approx(2 / 3)
    assert record.scores["step_arithmetic"].details["first_wrong_step"] == 2
    assert record.scores["number_grounding"].details["ungrounded"] == [{"number": 11.0, "step": 3}]
    assert (record.first_error_step, record.first_error_by) == (2, ["step_arithmetic"])


def test_an_answer_from_nowhere_flags_the_step_that_states_it() -> None:
    record = _record("Janet sells 16 - 3 - 4 = 9 eggs a day.\nShe makes 9 * 2 = $18.\nSo she makes $20.")
    assert record.value("answer_consistency") == 0.0
    assert record.scores["answer_consistency"].details["answer_step"] == 3
    assert (record.first_error_step, record.first_error_by) == (3, ["answer_consistency"])


def test_unscored_and_perfect_metrics_flag_nothing() -> None:
    wrong_at_2 = {"first_wrong_step": 2}
    unscored = Score.unscored("no equations", **wrong_at_2)
    grounded = Score(value=1.0, details={"ungrounded": []})
    assert first_error({"step_arithmetic": unscored, "number_grounding": grounded}) == (None, ())
    assert first_error({"step_arithmetic": Score(value=0.5, details=wrong_at_2)}) == (2, ("step_arithmetic",))
    # a malformed stored detail (an old run, a bool) is no step
    assert first_error({"step_arithmetic": Score(value=0.5, details={"first_wrong_step": True})}) == (
        None,
        (),
    )
