"""GRPO rewards are the metrics: same values on real GSM8K references, and the known GRPO traps."""

from __future__ import annotations

import statistics

import pytest
from conftest import ChatJudge

from faithbench.errors import FaithbenchError
from faithbench.harness.backends.base import Completion
from faithbench.harness.scoring import DEFAULT_METRICS, score_one
from faithbench.metrics import METRICS
from faithbench.parsing import parse_completion
from faithbench.tasks.base import Item
from faithbench.trainers.data import reference_completion
from faithbench.trainers.rewards import metric_rewards

QUESTION = "Tom has 3 boxes with 4 apples each. He eats 2 apples. How many apples are left?"
GOOD = "Tom has 3 * 4 = 12 apples.\nAfter eating 2 he has 12 - 2 = 10 apples.\n#### 10"
WRONG_STEP = "Tom has 3 * 4 = 13 apples.\nAfter eating 2 he has 13 - 2 = 12 apples.\n#### 12"


def call(reward, completions, target="10", ids=None, log=None):
    n = len(completions)
    return reward([None] * n, completions, ids, question=[QUESTION] * n, target=[target] * n, log_metric=log)


def test_rewards_equal_the_metrics_on_gsm8k_references(test_rows: list[dict[str, str]]) -> None:
    rewards, weights = metric_rewards(dict.fromkeys(DEFAULT_METRICS, 1.0))
    rows = test_rows[:60]
    texts = [reference_completion(r["answer"]) for r in rows]
    questions = [r["question"] for r in rows]
    targets = [r["answer"].split("####")[-1].strip().replace(",", "") for r in rows]
    for reward in rewards:
        got = reward([None] * len(rows), texts, question=questions, target=targets)
        for text, question, target, value in zip(texts, questions, targets, got, strict=True):
            item = Item(id="x", question=question, target=target)
            score = score_one(METRICS.get(reward.__name__), item, parse_completion(Completion(text=text)))
            assert value == (0.0 if score.value is None else score.value)
    assert weights == [1.0] * len(DEFAULT_METRICS)
    assert [r.__name__ for r in rewards] == list(DEFAULT_METRICS)
    # References are right and well formed: the answer rewards are all 1 on them.
    accuracy = rewards[0]([None] * len(rows), texts, question=questions, target=targets)
    assert accuracy == [1.0] * len(rows)


def test_multi_line_reasoning_gets_the_format_reward() -> None:
    """The popular GSM8K GRPO notebook's format regex lacks DOTALL and never matches reasoning that
    spans lines; ours reads the answer line wherever it is."""
    (fmt,), _ = metric_rewards({"format_compliance": 1.0})
    think = "<think>\nFirst the boxes:\n3 * 4 = 12\nthen the apples eaten:\n12 - 2 = 10\n</think>\n#### 10"
    chat = [[{"role": "assistant", "content": GOOD}]]
    assert call(fmt, [GOOD, think]) == [1.0, 1.0]
    assert call(fmt, chat) == [1.0]
    assert call(fmt, ["Tom has 10 apples.\nThe answer is 10."]) == [0.0]


def test_unscored_is_zero_and_logged() -> None:
    (arith,), _ = metric_rewards({"step_arithmetic": 1.0})
    logged: dict[str, float] = {}
    no_equations = "Tom ate some apples, so he has ten left.\n#### 10"
    assert call(arith, [no_equations, GOOD, WRONG_STEP], log=logged.__setitem__) == [0.0, 1.0, 0.0]
    assert logged["unscored/step_arithmetic"] == pytest.approx(1 / 3)


def test_tied_groups_and_partial_credit() -> None:
    """A group of identical completions has zero reward spread (no advantage: TRL logs it as
    frac_reward_zero_std); the faithfulness metrics' partial credit separates differing ones even
    when every answer is wrong."""
    rewards, weights = metric_rewards({"accuracy": 1.0, "step_arithmetic": 1.0, "number_grounding": 1.0})

    def totals(group: list[str]) -> list[float]:
        per_metric = [call(r, group, target="999") for r in rewards]
        return [
            sum(w * v for w, v in zip(weights, col, strict=True)) for col in zip(*per_metric, strict=True)
        ]

    assert statistics.pstdev(totals([GOOD] * 4)) == 0.0
    half_right = "Tom has 3 * 4 = 12 apples.\nHe has 12 - 2 = 11 apples.\n#### 11"
    ungrounded = "Tom has 5 * 7 = 35 apples.\n#### 35"
    spread = totals([GOOD, WRONG_STEP, half_right, ungrounded])
    assert statistics.pstdev(spread) > 0.1
    assert spread[0] > spread[2] > spread[1]


def test_truncated_completions() -> None:
    (fmt,), _ = metric_rewards({"format_compliance": 1.0}, max_completion_length=8, truncated_reward=0.0)
    logged: dict[str, float] = {}
    ids = [[1] * 8, [1] * 5]  # the first used every allowed token: cut off
    assert call(fmt, [GOOD, GOOD], ids=ids, log=logged.__setitem__) == [0.0, 1.0]
    assert logged["truncated"] == 0.5
    (scored,), _ = metric_rewards({"format_compliance": 1.0}, max_completion_length=8)
    assert call(scored, [GOOD, GOOD], ids=ids) == [1.0, 1.0]  # no fixed reward: scored as eval would


def test_unknown_metric_is_a_clear_error() -> None:
    with pytest.raises(FaithbenchError, match="step_arithmetic"):
        metric_rewards({"step_arithmetc": 1.0})


def test_judge_ratings_are_rewards_sharing_one_verdict(chat_judge: ChatJudge) -> None:
    """Against a real local chat-API judge: the rewards are the judge metric's scaled ratings, the
    three share one verdict per completion, an unreadable verdict is 0 and logged, and a reward that
    names a judge rating without a judge is refused."""
    from faithbench.judges.judge import JudgeConfig, load_judge

    rewards, weights = metric_rewards(
        {"accuracy": 1.0, "judge_validity": 0.5, "judge_coherence": 0.25},
        judge=load_judge(JudgeConfig(spec=chat_judge.spec)),
    )
    assert [r.__name__ for r in rewards] == ["accuracy", "judge_validity", "judge_coherence"]
    assert weights == [1.0, 0.5, 0.25]
    chat_judge.low.add(QUESTION)
    logged: dict[str, float] = {}
    validity = call(rewards[1], [GOOD, WRONG_STEP], log=logged.__setitem__)
    coherence = call(rewards[2], [GOOD, WRONG_STEP])
    assert validity == [0.25, 0.25] and coherence == [0.75, 0.75]  # (2 - 1) / 4 and (4 - 1) / 4
    assert chat_judge.requests == 2 and logged["unscored/judge_validity"] == 0.0
    chat_judge.unreadable.add(QUESTION)
    assert call(rewards[1], ["Tom has 12 apples.\n#### 12"], log=logged.__setitem__) == [0.0]
    assert logged["unscored/judge_validity"] == 1.0
    with pytest.raises(FaithbenchError, match=r"\['judge_validity'\] need a judge"):
        metric_rewards({"judge_validity": 1.0})
