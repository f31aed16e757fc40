"""What a comparison of runs produces (written by `faithbench compare --json`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from faithbench.specs import AUDIT_METRICS

PROCESS_ERROR = "process_error"  # the per-sample process verdict, compared like a binary metric
ROW_LABELS = {PROCESS_ERROR: "process_error (first flagged step)"}  # how tables name a row
# rows where a higher mean is worse: the process verdict and the reward-hacking audit metrics
LOWER_IS_BETTER = frozenset({PROCESS_ERROR, *AUDIT_METRICS})


def row_label(metric: str) -> str:
    """The name a table shows for `metric`'s row."""
    return ROW_LABELS.get(metric, metric)


class RunRef(BaseModel):
    label: str  # short unique name used in tables (the run directory's name unless two clash)
    path: str
    model: str
    task: str
    n_samples: int


class Comparison(BaseModel):
    """B against A on one metric, over the items both runs scored."""

    a: str  # run label
    b: str
    metric: str
    test: Literal["mcnemar-exact", "sign-flip-permutation"]
    n: int = Field(description="items paired by id with a score on both sides")
    mean_a: float | None
    mean_b: float | None
    delta: float | None = Field(description="mean(B) - mean(A)")
    ci_low: float | None = Field(description="95% paired-bootstrap CI of delta")
    ci_high: float | None
    p_value: float
    p_adjusted: float = Field(description="adjusted across all comparisons of the call")
    significant: bool = Field(description="p_adjusted < alpha")
    mcnemar_b: int | None = Field(
        None, description="binary metrics: items A got right and B wrong (process_error: B flagged, A not)"
    )
    mcnemar_c: int | None = Field(
        None, description="binary metrics: items B got right and A wrong (process_error: A flagged, B not)"
    )
    correlation: float | None = Field(description="Pearson correlation of per-item scores (None if constant)")
    mde: float | None = Field(description="minimum detectable |delta| at 80% power for this n and spread")
    n_resamples: int
    higher_is_better: bool = Field(True, description="False where a higher mean is worse (process_error)")
    first_step_a: float | None = Field(
        None, description="process_error: A's mean first flagged step (1-based line) over its flagged items"
    )
    first_step_b: float | None = Field(None, description="process_error: the same for B")

    @property
    def improvement(self) -> float | None:
        """delta signed so that positive is better: delta, or -delta where lower is better."""
        if self.delta is None:
            return None
        return self.delta if self.higher_is_better else -self.delta


class PairingNote(BaseModel):
    """Ids present in one run of a pair and not the other: reported, then dropped."""

    a: str
    b: str
    only_in_a: list[str]
    only_in_b: list[str]


class ComparisonReport(BaseModel):
    runs: list[RunRef]
    alpha: float
    correction: Literal["holm", "bh"]
    comparisons: list[Comparison]
    pairing: list[PairingNote]
