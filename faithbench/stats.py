"""The statistics of faithbench, in one place: every layer above imports them from here.

* per-run means: Wilson interval for 0/1 metrics, percentile bootstrap otherwise (`summarize`);
* two runs on the same items: exact McNemar for 0/1 metrics, sign-flip permutation test otherwise,
  a paired bootstrap CI of the mean difference, Holm / Benjamini-Hochberg adjustment across one
  family, the minimum detectable effect at 80% power (Miller 2024, "Adding Error Bars to Evals");
* two runs known only by their summaries: pooled two-proportion z-test or Welch-type z-test
  (`unpaired_p`, the leaderboard's fallback);
* agreement with labels: rates of hits, Cohen's kappa, ProcessBench's F1 (judge-check, validity).

All resampling goes through one seeded, chunked loop: the same scores always give the same numbers,
and memory stays bounded at `chunk` resamples at a time. This module imports nothing of faithbench.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from fractions import Fraction
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, Field, computed_field

Z95 = 1.959963984540054  # two-sided 5%: the 97.5% quantile of the standard normal
Z_80 = 0.8416212335729143  # 80% power
N_RESAMPLES = 10_000
CHUNK = 1_000


def _chunks(n_resamples: int, chunk: int) -> Iterator[tuple[int, int]]:
    """(start, size) of each block of at most `chunk` resamples."""
    for start in range(0, n_resamples, chunk):
        yield start, min(chunk, n_resamples - start)


# ------------------------------------------------------------------------------------ one run's mean


class MetricSummary(BaseModel):
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n: int = Field(description="scored samples")
    n_unscored: int
    ci_method: str


def wilson_interval(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion: good coverage at small n and near 0 or 1."""
    if n == 0:
        raise ValueError("no observations")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_mean_interval(
    values: ArrayLike, n_resamples: int = N_RESAMPLES, seed: int = 0, chunk: int = CHUNK
) -> tuple[float, float]:
    """95% percentile bootstrap CI of the mean, resampling with replacement; seeded, so the same
    values always give the same interval. For paired runs pass the per-item differences: resampling
    them resamples items (pairs)."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("no observations")
    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples)
    for start, size in _chunks(n_resamples, chunk):
        idx = rng.integers(0, data.size, size=(size, data.size))
        means[start : start + size] = data[idx].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return float(low), float(high)


def summarize(values: Sequence[float | None], binary: bool) -> MetricSummary:
    """Mean and 95% CI of the scored values (Wilson when `binary`, else bootstrap); None = unscored."""
    scored = [v for v in values if v is not None]
    n_unscored = len(values) - len(scored)
    if not scored:
        return MetricSummary(
            mean=None, ci_low=None, ci_high=None, n=0, n_unscored=n_unscored, ci_method="none"
        )
    mean = sum(scored) / len(scored)
    if binary:
        low, high = wilson_interval(sum(scored), len(scored))
        method = "wilson"
    else:
        low, high = bootstrap_mean_interval(scored)
        method = "bootstrap-percentile"
    return MetricSummary(
        mean=mean, ci_low=low, ci_high=high, n=len(scored), n_unscored=n_unscored, ci_method=method
    )


# --------------------------------------------------------------------------- two runs, paired by item


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: binomial test of b successes in b + c trials at p = 1/2.

    Computed in exact rational arithmetic: p = min(1, 2 * P(X <= min(b, c))), which is what the
    binomial test's "sum of outcomes no more likely than the observed" rule gives at p = 1/2.
    """
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = Fraction(sum(math.comb(n, i) for i in range(k + 1)), 2**n)
    return float(min(Fraction(1), 2 * tail))


def sign_flip_p(
    diffs: NDArray[np.float64], n_resamples: int = N_RESAMPLES, seed: int = 0, chunk: int = CHUNK
) -> float:
    """Two-sided paired permutation p-value: under H0 each difference's sign is a coin flip.

    p = share of sign assignments whose |mean| is at least the observed |mean|. Exact (all 2^n
    assignments) when 2^n <= n_resamples; otherwise Monte Carlo with the observed assignment counted,
    so p is never 0.
    """
    n = diffs.size
    observed = abs(diffs.mean())
    tolerance = 1e-12 * max(1.0, float(np.abs(diffs).max()))
    nonzero = diffs[diffs != 0]
    if nonzero.size == 0:
        return 1.0
    if 2**n <= n_resamples:
        signs = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
        stats = np.abs(signs @ diffs) / n
        return float(np.mean(stats >= observed - tolerance))
    rng = np.random.default_rng(seed)
    hits = 0
    for _, size in _chunks(n_resamples, chunk):
        signs = rng.integers(0, 2, size=(size, nonzero.size), dtype=np.int8) * 2 - 1
        stats = np.abs(signs @ nonzero) / n  # zero differences contribute nothing whatever their sign
        hits += int(np.sum(stats >= observed - tolerance))
    return (hits + 1) / (n_resamples + 1)


def adjust(p_values: Sequence[float], method: str) -> list[float]:
    """Adjusted p-values: "holm" (step-down, family-wise error) or "bh" (Benjamini-Hochberg, FDR)."""
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":
        adjusted = np.maximum.accumulate(np.minimum(1.0, ranked * (m - np.arange(m))))
    elif method == "bh":
        adjusted = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
        adjusted = np.minimum(1.0, adjusted)
    else:
        raise ValueError(f"unknown correction {method!r}; use 'holm' or 'bh'")
    out = np.empty(m)
    out[order] = adjusted
    return [float(x) for x in out]


def minimum_detectable_effect(
    diffs: NDArray[np.float64], power_z: float = Z_80, alpha_z: float = Z95
) -> float:
    """Smallest |mean difference| a paired test detects with 80% power at 5% (two-sided).

    MDE = (z_{1-alpha/2} + z_{power}) * SE, with SE = sd(diffs) / sqrt(n) (Miller 2024, eq. for paired
    differences). For 0/1 metrics sd(diffs)^2 is the discordance rate minus delta^2, so the MDE grows
    with how often the two runs disagree.
    """
    n = diffs.size
    if n < 2:
        return math.inf
    return float((alpha_z + power_z) * diffs.std(ddof=1) / math.sqrt(n))


def correlation(a: NDArray[np.float64], b: NDArray[np.float64]) -> float | None:
    """Pearson correlation of per-item scores; None when either side is constant."""
    if a.size < 2 or a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


# ------------------------------------------------------------------ two runs, from their summaries


class SummaryLike(Protocol):
    """What `unpaired_p` reads of a run's summary on one metric (a `MetricSummary` has it)."""

    @property
    def mean(self) -> float | None: ...
    @property
    def ci_low(self) -> float | None: ...
    @property
    def ci_high(self) -> float | None: ...
    @property
    def n(self) -> int: ...


def unpaired_p(a: SummaryLike, b: SummaryLike, binary: bool) -> tuple[float, str]:
    """Two-sided p-value that two runs' means differ, from their summaries alone, and the test's name.

    binary: pooled two-proportion z-test on (mean, n) (statsmodels' `proportions_ztest` default);
    otherwise: z = (mean_a - mean_b) / sqrt(se_a^2 + se_b^2), se = CI half-width / z_0.975.
    """
    if a.mean is None or b.mean is None:
        raise ValueError("both runs need a mean")
    diff = a.mean - b.mean
    if binary:
        pooled = (a.mean * a.n + b.mean * b.n) / (a.n + b.n)
        se = math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n))
        test = "two-proportion-z"
    else:
        se = math.hypot(_se(a), _se(b))
        test = "welch-z"
    if se == 0:
        return (1.0 if diff == 0 else 0.0), test
    return math.erfc(abs(diff) / se / math.sqrt(2)), test


def _se(m: SummaryLike) -> float:
    if m.ci_low is None or m.ci_high is None:
        return 0.0
    return (m.ci_high - m.ci_low) / (2 * Z95)


# ---------------------------------------------------------------------- agreement with labels


class Rate(BaseModel):
    """`hits` of `n` cases; `value` None when there are none."""

    hits: int
    n: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def value(self) -> float | None:
        return self.hits / self.n if self.n else None

    def show(self, width: int = 0) -> str:
        return "-" if self.value is None else f"{self.value:{width}.1%} ({self.hits}/{self.n})"


def rate(flags: Iterable[bool | None]) -> Rate:
    """The share of true flags (None counts as false)."""
    values = [bool(f) for f in flags]
    return Rate(hits=sum(values), n=len(values))


def cohen_kappa(a: Sequence[bool], b: Sequence[bool]) -> float | None:
    """Cohen's kappa of two raters' yes/no labels of the same cases: (p_o - p_e) / (1 - p_e), with
    p_o the observed agreement and p_e the agreement expected from each rater's own rates. None when
    undefined: no cases, or both raters always give one and the same label (p_e = 1)."""
    if len(a) != len(b):
        raise ValueError(f"kappa needs paired labels, got {len(a)} and {len(b)}")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    yes_a, yes_b = sum(a) / n, sum(b) / n
    expected = yes_a * yes_b + (1 - yes_a) * (1 - yes_b)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def harmonic_mean(x: float | None, y: float | None) -> float | None:
    """ProcessBench's F1: the harmonic mean of the accuracy on erroneous solutions (first error step
    exactly right) and on correct ones (no error reported); 0 when either is 0."""
    if x is None or y is None:
        return None
    return 0.0 if x + y == 0 else 2 * x * y / (x + y)
