"""What a comparison of runs produces (written by `faithbench compare --json`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


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
    mcnemar_b: int | None = Field(None, description="binary metrics: items A got right and B wrong")
    mcnemar_c: int | None = Field(None, description="binary metrics: items B got right and A wrong")
    correlation: float | None = Field(description="Pearson correlation of per-item scores (None if constant)")
    mde: float | None = Field(description="minimum detectable |delta| at 80% power for this n and spread")
    n_resamples: int


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
