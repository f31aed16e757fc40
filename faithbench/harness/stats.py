"""Confidence intervals for per-metric means."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from faithbench.harness.schema import MetricSummary

Z95 = 1.959963984540054


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
    values: Sequence[float], n_resamples: int = 10_000, seed: int = 0, chunk: int = 1_000
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean, vectorised in chunks to bound memory; seeded, so
    the same scores always give the same interval."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("no observations")
    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples)
    for start in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - start)
        idx = rng.integers(0, data.size, size=(size, data.size))
        means[start : start + size] = data[idx].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return float(low), float(high)


def summarize(values: Sequence[float | None], binary: bool) -> MetricSummary:
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
