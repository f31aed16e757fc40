"""What a pipeline run records in OUT/pipeline.json, and what its report is drawn from."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from faithbench.compare.schema import Comparison, ComparisonReport
from faithbench.leaderboard.schema import Leaderboard

PIPELINE_FORMAT = 1


class StageRecord(BaseModel):
    name: str  # data, sft, grpo, eval/base, eval/sft, eval/grpo
    status: Literal["ran", "skipped"]  # skipped: its output was complete already
    seconds: float
    path: str
    note: str = ""  # sizes: traces kept, steps, items


class GateResult(BaseModel):
    """Is the final model significantly better than the base on every `improve` metric and
    significantly worse (beyond `margin`) on none of the compared metrics?"""

    baseline: str
    candidate: str
    improve: list[str]
    improved: list[str]
    margin: float
    regressions: list[Comparison]
    passed: bool


class StageAudit(BaseModel):
    """What the text of one evaluated stage looks like, beside what the rule rewards say of it."""

    label: str
    n: int
    means: dict[str, float | None]  # metric -> mean over scored samples
    unscored: dict[str, float]  # metric -> share of samples it could not score (no equation, ...)
    words: float  # mean words in a completion
    truncated: float  # share cut at max_new_tokens
    judge: dict[str, float | None] = {}  # judge_* means, when the stage was judged


class RewardTrend(BaseModel):
    """A GRPO reward's mean over the first and the last third of the logged steps."""

    metric: str
    weight: float
    first: float | None
    last: float | None


class Audit(BaseModel):
    stages: list[StageAudit]
    trends: list[RewardTrend]
    flags: list[str]  # what looks like reward hacking, in words; empty: nothing found


class PipelineResult(BaseModel):
    format_version: int = PIPELINE_FORMAT
    recipe: str
    out: str
    description: str
    stages: list[StageRecord]
    runs: dict[str, str]  # stage label -> its eval run directory, in pipeline order
    models: dict[str, str]  # stage label -> the model spec evaluated
    comparison: ComparisonReport
    leaderboards: list[Leaderboard]
    gate: GateResult
    audit: Audit
