"""GRPO rewards built from registered metrics: one function, two uses.

`metric_rewards({"step_arithmetic": 1.0, "accuracy": 0.0, ...})` returns one TRL reward function per
metric and the weights. Each reward parses the completion with `parse_completion` and scores it with
`harness.scoring.score_one`, the very code `faithbench eval` scores samples with, so a reward can never
drift from the metric it is named after.

Rules, each for a reason:

- **Unscored is 0.** A metric is unscored when there is nothing to score (`step_arithmetic` of a
  completion without an equation). For training, writing no equations must not beat writing a wrong
  one, so it earns nothing; the share of unscored completions is logged as `unscored/<metric>`.
- **One reward per metric, logged separately.** TRL logs `rewards/<metric>/mean` for each function,
  so reward hacking (format rising while accuracy falls) shows in the logs. A weight of 0 keeps a
  metric in the logs without training on it (e.g. `accuracy` as a monitor).
- **Truncation is known.** A completion that used all `max_completion_length` tokens was cut off;
  it is scored as `Completion(finish_reason="length")`, exactly as eval scores a cut-off sample, or,
  with `truncated_reward` set, gets that fixed reward instead (e.g. 0, so that rambling past the limit
  earns no partial credit). The share is logged as `truncated`.
- **The judge is a reward too.** `judge_validity`, `judge_coherence` and `judge_alignment` name the
  rubric judge's ratings (faithbench.judges), given a judge in the recipe. They are graded by
  `RubricJudge.judge`, the code `eval --judge` scores samples with, and scaled the same way; the
  three share one verdict per completion, and an unreadable or failed verdict is 0, logged as
  `unscored/<name>`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from faithbench.errors import FaithbenchError
from faithbench.harness.backends.base import Completion
from faithbench.harness.scoring import resolve_metrics, score_one
from faithbench.metrics import Metric
from faithbench.parsing import ParsedCompletion, parse_completion
from faithbench.tasks.base import Item

if TYPE_CHECKING:
    from faithbench.judges.judge import JudgeOutcome, RubricJudge

# What TRL hands a reward function for one completion: plain text, or chat messages.
CompletionLike = str | Sequence[Mapping[str, Any]]


def completion_text(completion: CompletionLike) -> str:
    """The generated text of a TRL completion: a string, or the content of its assistant messages."""
    if isinstance(completion, str):
        return completion
    return "".join(
        str(m.get("content") or "") for m in completion if m.get("role", "assistant") == "assistant"
    )


@lru_cache(maxsize=4096)
def _parse(text: str, truncated: bool) -> ParsedCompletion:
    # Every reward function of a step sees the same completions: parse each one once.
    return parse_completion(Completion(text=text, finish_reason="length" if truncated else "stop"))


@dataclass
class MetricReward:
    """A TRL reward function that scores completions with one registered metric.

    TRL calls it with the batch's `prompts` and `completions` and every other dataset column as a
    keyword list; it needs `question` and `target` columns (see trainers.data.grpo_dataset).
    """

    metric: Metric
    max_completion_length: int | None = None
    truncated_reward: float | None = None
    __name__: str = field(init=False)  # TRL names the reward (and its log keys) after this

    def __post_init__(self) -> None:
        self.__name__ = self.metric.name

    def __call__(
        self,
        prompts: Sequence[Any],
        completions: Sequence[CompletionLike],
        completion_ids: Sequence[Sequence[int]] | None = None,
        *,
        question: Sequence[str],
        target: Sequence[str],
        log_metric: Callable[[str, float], None] | None = None,
        **_: Any,
    ) -> list[float]:
        rewards: list[float] = []
        n_unscored = n_truncated = 0
        for i, completion in enumerate(completions):
            truncated = self._truncated(completion_ids[i] if completion_ids is not None else None)
            n_truncated += truncated
            if truncated and self.truncated_reward is not None:
                rewards.append(self.truncated_reward)
                continue
            item = Item(id=f"reward-{i}", question=question[i], target=target[i])
            score = score_one(self.metric, item, _parse(completion_text(completion), truncated))
            n_unscored += score.value is None
            rewards.append(0.0 if score.value is None else score.value)
        if log_metric is not None and completions:
            log_metric(f"unscored/{self.metric.name}", n_unscored / len(completions))
            log_metric("truncated", n_truncated / len(completions))
        return rewards

    def _truncated(self, ids: Sequence[int] | None) -> bool:
        return (
            ids is not None
            and self.max_completion_length is not None
            and len(ids) >= self.max_completion_length
        )


class JudgeVerdicts:
    """One judge verdict per (question, target, completion), shared by the judge rewards of a step."""

    def __init__(self, judge: RubricJudge) -> None:
        self.judge = judge
        self._seen: dict[tuple[str, str, str], JudgeOutcome] = {}

    def outcomes(self, cases: Sequence[tuple[str, str, str]]) -> list[JudgeOutcome]:
        if not any(c in self._seen for c in cases):  # a new step: forget the last one's verdicts
            self._seen.clear()
        missing = list(dict.fromkeys(c for c in cases if c not in self._seen))
        if missing:
            asked = [
                (Item(id=f"reward-{i}", question=q, target=t), _parse(text, False))
                for i, (q, t, text) in enumerate(missing)
            ]
            self._seen.update(zip(missing, self.judge.judge_many(asked), strict=True))
        return [self._seen[c] for c in cases]


@dataclass
class JudgeReward:
    """A TRL reward function: one of the judge's ratings, scaled to [0, 1] as the judge metric is."""

    name: str  # judge_validity | judge_coherence | judge_alignment
    verdicts: JudgeVerdicts
    __name__: str = field(init=False)

    def __post_init__(self) -> None:
        self.__name__ = self.name

    def __call__(
        self,
        prompts: Sequence[Any],
        completions: Sequence[CompletionLike],
        completion_ids: Sequence[Sequence[int]] | None = None,
        *,
        question: Sequence[str],
        target: Sequence[str],
        log_metric: Callable[[str, float], None] | None = None,
        **_: Any,
    ) -> list[float]:
        cases = [(question[i], target[i], completion_text(c)) for i, c in enumerate(completions)]
        rating = self.name.removeprefix("judge_")
        verdicts = [o.verdict for o in self.verdicts.outcomes(cases)]
        if log_metric is not None and completions:
            log_metric(f"unscored/{self.name}", sum(v is None for v in verdicts) / len(completions))
        return [0.0 if v is None else v.scaled(rating) for v in verdicts]


def metric_rewards(
    weights: Mapping[str, float],
    *,
    max_completion_length: int | None = None,
    truncated_reward: float | None = None,
    judge: RubricJudge | None = None,
) -> tuple[list[MetricReward | JudgeReward], list[float]]:
    """TRL reward functions for the named metrics (and judge ratings, given `judge`), and their
    weights (for `GRPOConfig.reward_weights`). Unknown metric names are a FaithbenchError that lists
    the registered ones."""
    from faithbench.judges.judge import JUDGE_METRICS

    if not weights:
        raise ValueError("at least one reward metric is needed")
    judged = [name for name in weights if name in JUDGE_METRICS]
    if judged and judge is None:
        raise FaithbenchError(f"rewards {judged} need a judge (the recipe's `judge:`)")
    metrics = (
        resolve_metrics([name for name in weights if name not in JUDGE_METRICS])
        if len(judged) < len(weights)
        else []
    )
    funcs: list[MetricReward | JudgeReward] = [
        MetricReward(m, max_completion_length, truncated_reward) for m in metrics
    ]
    if judge is not None and judged:
        verdicts = JudgeVerdicts(judge)
        funcs += [JudgeReward(name, verdicts) for name in judged]
    return funcs, [float(weights[f.__name__]) for f in funcs]
