"""Compare runs pairwise on the items they share: every metric, every pair, one family of tests."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from faithbench import stats
from faithbench.compare.schema import (
    LOWER_IS_BETTER,
    PROCESS_ERROR,
    Comparison,
    ComparisonReport,
    PairingNote,
    RunRef,
)
from faithbench.errors import FaithbenchError
from faithbench.harness.schema import RunInfo, SampleRecord, Summary
from faithbench.harness.store import RunDir
from faithbench.metrics.process import PROCESS_METRICS
from faithbench.specs import is_binary

N_RESAMPLES = stats.N_RESAMPLES


def process_error(record: SampleRecord) -> float | None:
    """1 when a rule metric flags a step of the sample (`first_error_step` is set), 0 when at least
    one of them scored it and none flags a step, None when none scored it."""
    if all(record.value(name) is None for name in PROCESS_METRICS):
        return None
    return 0.0 if record.first_error_step is None else 1.0


@dataclass(frozen=True)
class LoadedRun:
    """A run directory read once: what `compare_loaded` tests and the HTML report shows."""

    ref: RunRef
    info: RunInfo
    samples: dict[str, SampleRecord]
    summary: Summary | None = None  # summary.json; None when it is missing or unreadable

    @classmethod
    def load(cls, path: str | os.PathLike[str], label: str) -> LoadedRun:
        run = RunDir(path)
        info = run.read_info()
        samples = {r.id: r for r in run.read_samples()}
        try:
            summary: Summary | None = run.read_summary()
        except FaithbenchError:
            summary = None
        ref = RunRef(
            label=label, path=str(run.path), model=info.model, task=info.task, n_samples=len(samples)
        )
        return cls(ref=ref, info=info, samples=samples, summary=summary)


def load_runs(paths: Sequence[str | os.PathLike[str]]) -> list[LoadedRun]:
    if len(paths) < 2:
        raise FaithbenchError("compare needs at least two runs")
    names = [Path(p).resolve().name for p in paths]
    labels = names if len(set(names)) == len(names) else [str(Path(p)) for p in paths]
    if len(set(labels)) != len(labels):
        raise FaithbenchError("the same run is given twice")
    runs = [LoadedRun.load(p, label) for p, label in zip(paths, labels, strict=True)]
    first = runs[0]
    for run in runs[1:]:
        if run.info.task != first.info.task:
            raise FaithbenchError(
                f"cannot compare runs of different tasks: {first.ref.label} is {first.info.task!r}, "
                f"{run.ref.label} is {run.info.task!r}"
            )
        if run.info.data.sha256 != first.info.data.sha256:
            raise FaithbenchError(
                f"cannot compare runs on different data: {first.ref.label} and {run.ref.label} have "
                f"data hashes {first.info.data.sha256[:12]} and {run.info.data.sha256[:12]}"
            )
    return runs


def compare_runs(
    paths: Sequence[str | os.PathLike[str]],
    metrics: Sequence[str] | None = None,
    correction: str = "holm",
    alpha: float = 0.05,
) -> ComparisonReport:
    """Every pair (A before B in `paths`) on every metric; delta is B - A."""
    _check_correction(correction)
    return compare_loaded(load_runs(paths), metrics, correction, alpha)


def _check_correction(correction: str) -> None:
    if correction not in ("holm", "bh"):
        raise FaithbenchError(f"unknown correction {correction!r}; use 'holm' or 'bh'")


def compare_loaded(
    runs: Sequence[LoadedRun],
    metrics: Sequence[str] | None = None,
    correction: str = "holm",
    alpha: float = 0.05,
) -> ComparisonReport:
    """`compare_runs` on runs already read by `load_runs` (which checks they share task and data):
    the caller keeps them, for the HTML report say, instead of reading the directories again."""
    _check_correction(correction)
    names = list(metrics) if metrics else _common_metrics(runs)
    if not metrics and all(_has_process_metric(r) for r in runs):
        names.append(PROCESS_ERROR)
    for name in names:
        if name == PROCESS_ERROR:
            missing = [r.ref.label for r in runs if not _has_process_metric(r)]
            if missing:
                raise FaithbenchError(
                    f"{PROCESS_ERROR} needs one of {', '.join(PROCESS_METRICS)}, which run(s) "
                    f"{', '.join(missing)} did not score"
                )
            continue
        missing = [r.ref.label for r in runs if name not in r.info.metrics]
        if missing:
            raise FaithbenchError(
                f"metric {name!r} is not in run(s) {', '.join(missing)}; "
                f"add it with `faithbench score RUN --metrics {name}`"
            )
    rows: list[Comparison] = []
    notes: list[PairingNote] = []
    for a, b in combinations(runs, 2):
        shared = [i for i in a.samples if i in b.samples]
        only_a = sorted(set(a.samples) - set(b.samples))
        only_b = sorted(set(b.samples) - set(a.samples))
        if only_a or only_b:
            notes.append(PairingNote(a=a.ref.label, b=b.ref.label, only_in_a=only_a, only_in_b=only_b))
        rows.extend(compare_pair(a, b, name, shared) for name in names)
    adjusted = stats.adjust([r.p_value for r in rows], correction)
    rows = [
        r.model_copy(update={"p_adjusted": p, "significant": p < alpha})
        for r, p in zip(rows, adjusted, strict=True)
    ]
    return ComparisonReport(
        runs=[r.ref for r in runs], alpha=alpha, correction=correction, comparisons=rows, pairing=notes
    )


def compare_pair(a: LoadedRun, b: LoadedRun, metric: str, ids: Sequence[str]) -> Comparison:
    """B against A on `metric` over `ids` where both have a score (p_adjusted left for the caller).
    `metric` may be PROCESS_ERROR: each sample's process verdict, a binary score."""
    process = metric == PROCESS_ERROR
    pairs = [(_score(a.samples[i], metric), _score(b.samples[i], metric)) for i in ids]
    kept_ids = [i for i, (x, y) in zip(ids, pairs, strict=True) if x is not None and y is not None]
    kept = [(x, y) for x, y in pairs if x is not None and y is not None]
    xa = np.array([x for x, _ in kept], dtype=float)
    xb = np.array([y for _, y in kept], dtype=float)
    binary = process or is_binary(metric)
    base: dict[str, object] = {
        "a": a.ref.label, "b": b.ref.label, "metric": metric, "n": len(kept), "n_resamples": N_RESAMPLES,
        "higher_is_better": metric not in LOWER_IS_BETTER,
    }  # fmt: skip
    if process:
        base["first_step_a"] = _mean_first_step(a, kept_ids)
        base["first_step_b"] = _mean_first_step(b, kept_ids)
    test = "mcnemar-exact" if binary else "sign-flip-permutation"
    if not kept:
        return Comparison(
            **base, test=test, mean_a=None, mean_b=None, delta=None, ci_low=None, ci_high=None,
            p_value=1.0, p_adjusted=1.0, significant=False, correlation=None, mde=None,
        )  # fmt: skip
    diffs = xb - xa
    low, high = stats.bootstrap_mean_interval(diffs, N_RESAMPLES)
    extra: dict[str, int] = {}
    if binary:
        good = 0 if metric in LOWER_IS_BETTER else 1  # b / c count items right on one side only
        b_count, c_count = int(np.sum((xa == good) & (xb != good))), int(np.sum((xa != good) & (xb == good)))
        p_value = stats.mcnemar_exact(b_count, c_count)
        extra = {"mcnemar_b": b_count, "mcnemar_c": c_count}
    else:
        p_value = stats.sign_flip_p(diffs, N_RESAMPLES)
    mde = stats.minimum_detectable_effect(diffs)
    return Comparison(
        **base, test=test, mean_a=float(xa.mean()), mean_b=float(xb.mean()), delta=float(diffs.mean()),
        ci_low=low, ci_high=high, p_value=p_value, p_adjusted=p_value, significant=False,
        correlation=stats.correlation(xa, xb), mde=None if np.isinf(mde) else mde, **extra,
    )  # fmt: skip


def _score(record: SampleRecord, metric: str) -> float | None:
    return process_error(record) if metric == PROCESS_ERROR else record.value(metric)


def _mean_first_step(run: LoadedRun, ids: Sequence[str]) -> float | None:
    """Mean first flagged step over those of `ids` where `run` flags one; None when it flags none."""
    steps = [s for i in ids if (s := run.samples[i].first_error_step) is not None]
    return float(np.mean(steps)) if steps else None


def _has_process_metric(run: LoadedRun) -> bool:
    return any(name in run.info.metrics for name in PROCESS_METRICS)


def _common_metrics(runs: Sequence[LoadedRun]) -> list[str]:
    first = runs[0].info.metrics
    return [m for m in first if all(m in r.info.metrics for r in runs[1:])]
