"""Paired statistics for two runs scored on the same items.

* binary metrics: exact McNemar test, i.e. the two-sided binomial test on the discordant pairs;
* continuous metrics: sign-flip permutation test of the mean difference (exact when 2^n is small);
* every metric: a paired percentile bootstrap CI of the mean difference;
* Holm and Benjamini-Hochberg adjustment across all comparisons of one call;
* the minimum detectable effect at 80% power (Miller 2024, "Adding Error Bars to Evals", sec. 5).

All resampling is vectorised and seeded: the same scores always give the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

Z_975 = 1.959963984540054  # two-sided 5%
Z_80 = 0.8416212335729143  # 80% power


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


def bootstrap_ci(
    diffs: NDArray[np.float64], n_resamples: int = 10_000, seed: int = 0, chunk: int = 1_000
) -> tuple[float, float]:
    """95% percentile bootstrap CI of mean(diffs), resampling items (pairs) with replacement."""
    n = diffs.size
    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples)
    for start in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - start)
        idx = rng.integers(0, n, size=(size, n))
        means[start : start + size] = diffs[idx].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return float(low), float(high)


def sign_flip_p(
    diffs: NDArray[np.float64], n_resamples: int = 10_000, seed: int = 0, chunk: int = 1_000
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
    for start in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - start)
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
    diffs: NDArray[np.float64], power_z: float = Z_80, alpha_z: float = Z_975
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
