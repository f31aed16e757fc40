"""Everything written to a run directory, as pydantic models.

run.json       RunInfo        what was run: config, model, data hash, versions, status, format version
samples.jsonl  SampleRecord   one line per finished sample, appended as samples finish
summary.json   Summary        per metric: mean, 95% CI, n, n_unscored

`FORMAT_VERSION` is the layout these models write; `faithbench.harness.migrate` reads every earlier one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, Field

from faithbench.core import GenerationConfig, Score
from faithbench.harness.lineage import LineageStep
from faithbench.metrics.process import first_error
from faithbench.stats import MetricSummary
from faithbench.tasks.data import DataInfo

# 1: runs written before the version was recorded: each score in three parallel dicts (`scores`,
#    `reasons`, `details`), the judge's verdict under `details["judge"]`; before the line-numbered
#    parser also no `first_error_step` and steps counted from 0.
# 2: `scores` maps a metric to its Score (value, reason, details); steps counted from 1.
FORMAT_VERSION = 2


class SampleRecord(BaseModel):
    id: str
    question: str
    target: str
    prompt: str
    completion: str
    reasoning: str | None = None
    finish_reason: Literal["stop", "length", "unknown"] = "unknown"
    n_tokens: int | None = None
    answer: str | None  # flexible extraction, normalised
    strict_answer: str | None  # lm-eval strict-match, normalised
    correct: bool
    strict_correct: bool
    scores: dict[str, Score] = Field(
        default_factory=dict,
        description="metric -> its Score: value in [0, 1] (null if unscored), reason, details",
    )
    first_error_step: int | None = Field(
        None, description="the earliest step (1-based line) any rule metric flags; null: none flags one"
    )
    first_error_by: list[str] = Field(default_factory=list, description="the metrics that flag that step")

    def value(self, metric: str) -> float | None:
        """`metric`'s value; None when it is unscored or was not computed for this sample."""
        score = self.scores.get(metric)
        return score.value if score is not None else None

    def with_scores(self, scores: Mapping[str, Score]) -> SampleRecord:
        """This record with `scores` replacing those metrics' earlier scores, every other score kept,
        and the process verdict (`first_error_step`, `first_error_by`) read afresh. Every writer of
        scores (rule scoring, the judge, interventions) goes through here."""
        merged = {**self.scores, **scores}
        step, by = first_error(merged)
        return self.model_copy(
            update={"scores": merged, "first_error_step": step, "first_error_by": list(by)}
        )


class JudgeInfo(BaseModel):
    """The LLM judge of a run's `judge_*` metrics (faithbench.judges)."""

    spec: str  # the judge's model spec as given
    identity: str  # what exactly judged; keys the cache
    prompt_version: str
    gold: bool  # whether the judge saw the gold answer
    temperature: float
    seed: int
    max_new_tokens: int
    prefill: str | None  # the start of the verdict written for a local judge
    metrics: list[str]


class RunInfo(BaseModel):
    # The layout of the run directory's files (faithbench.harness.migrate); 1 where run.json has no
    # such field. Writers set FORMAT_VERSION (runner.new_run_info, runner.finish).
    format_version: int = 1
    faithbench_version: str
    created_at: str
    updated_at: str
    status: Literal["running", "finished"]
    task: str
    model: str  # the spec the user gave
    model_identity: str  # what exactly answered (weights/adapter fingerprint, dtype); keys the cache
    # Where local weights ran (cpu, cuda:0, mps); None for an API or recorded predictions. Not part of
    # the identity: the same weights in the same dtype answer alike on any device up to the kernels'
    # floating-point rounding, so the cache and a resumed run take answers made on another device.
    device: str | None = None
    generation: GenerationConfig
    num_fewshot: int
    limit: int | None
    seed: int
    batch_size: int
    metrics: list[str]
    data: DataInfo
    n_items: int
    versions: dict[str, str]
    git_hash: str | None
    judge: JudgeInfo | None = None  # set by `eval --judge` / `score --judge`
    # Base, adapters and merges behind local weights (faithbench.harness.lineage), base first; None
    # for an API or recorded predictions. Informational: not part of the identity.
    lineage: list[LineageStep] | None = None

    def same_experiment(self, other: RunInfo) -> list[str]:
        """Fields whose difference makes resuming `self` with `other`'s settings wrong."""
        keys = ("task", "model_identity", "generation", "num_fewshot", "metrics", "judge")
        diffs = [k for k in keys if getattr(self, k) != getattr(other, k)]
        if self.data.sha256 != other.data.sha256:
            diffs.append("data")
        return diffs


class Summary(BaseModel):
    task: str
    model: str
    n_samples: int
    metrics: dict[str, MetricSummary]
