"""Rank registered runs on one metric and group those the data cannot tell apart.

Order: stored mean on the metric, highest first (ties: more scored samples, then earlier
registration). Means and 95% CIs are the ones in the summary stored at registration.

Groups: the top run leads group 1; every other run is tested once against that leader, and those
not significantly different (p >= alpha) join group 1. The best run left over leads group 2 and is
tested against the runs still left over, and so on. Each run's p-value is the one against its own
group's leader, unadjusted: a group is a screening aid ("this run is not shown to be worse than the
leader"), not a family-wise claim; for confirmatory claims use `faithbench compare` (Holm/BH).
With unadjusted tests each run is held to level alpha, so a group-1 run is one that is not even
pointwise distinguishable from the leader.

The test:
* paired, when both run directories still exist, still hold the registered runs and have the same
  task and data hash: `faithbench.compare.compare_runs` on the items both scored (exact McNemar for
  binary metrics, sign-flip permutation otherwise), its raw `p_value`;
* otherwise unpaired, from the stored summaries: for binary metrics the pooled two-proportion z-test
  on (mean, n); for other metrics a Welch-type z-test on the means with standard errors taken from
  the CI half-widths, (ci_high - ci_low) / (2 * 1.96). Unpaired tests ignore that the runs answered
  the same items, so they are less powerful: more runs look tied with the leader.

The board as text, Markdown, JSON or HTML: `faithbench.reports.leaderboard.format_leaderboard`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from faithbench.errors import FaithbenchError
from faithbench.harness.schema import MetricSummary
from faithbench.harness.store import RunDir
from faithbench.leaderboard.db import RegisteredRun, list_runs
from faithbench.leaderboard.schema import Leaderboard, LeaderboardEntry
from faithbench.stats import unpaired_p


@dataclass(frozen=True)
class _Candidate:
    run: RegisteredRun
    label: str
    score: MetricSummary


@dataclass(frozen=True)
class _Test:
    p_value: float
    paired: bool
    test: str
    note: str | None = None


def build_leaderboard(
    db: str | os.PathLike[str] | None = None,
    task: str | None = None,
    metric: str = "accuracy",
    alpha: float = 0.05,
) -> Leaderboard:
    """Rank the registered runs (of `task`, or all) by `metric`; see the module docstring."""
    if not 0 < alpha < 1:
        raise FaithbenchError(f"alpha must be between 0 and 1, not {alpha}")
    runs = list_runs(db, task)
    notes: list[str] = []
    if not runs:
        notes.append("no runs registered" + (f" for task {task!r}" if task else ""))
    labels = _unique_labels(runs)
    candidates: list[_Candidate] = []
    for run, label in zip(runs, labels, strict=True):
        score = run.summary.metrics.get(metric)
        if score is None:
            notes.append(
                f"{label} left out: no {metric!r} in its summary (add it with `faithbench score "
                f"{run.path} --metrics {metric}`, then `faithbench register` it again)"
            )
        elif score.mean is None:
            notes.append(f"{label} left out: every sample is unscored on {metric!r}")
        else:
            candidates.append(_Candidate(run, label, score))
    if len({c.run.task for c in candidates}) > 1:
        notes.append("the board mixes tasks; runs of different tasks are compared unpaired")
    candidates.sort(key=lambda c: (-(c.score.mean or 0.0), -c.score.n, c.run.registered_at, c.label))

    results: dict[int, tuple[int, _Test | None]] = {}  # run id -> group, test against its leader
    left = candidates
    group = 0
    while left:
        group += 1
        leader, rest = left[0], left[1:]
        results[leader.run.id] = (group, None)
        left = []
        for cand in rest:
            tested = _test(leader, cand, metric)
            if tested.note:
                notes.append(tested.note)
            if tested.p_value < alpha:
                left.append(cand)
            else:
                results[cand.run.id] = (group, tested)

    entries = []
    for rank, cand in enumerate(candidates, start=1):
        group, outcome = results[cand.run.id]
        entries.append(
            LeaderboardEntry(
                rank=rank,
                label=cand.label,
                model=cand.run.model,
                task=cand.run.task,
                path=cand.run.path,
                registered_at=cand.run.registered_at,
                n=cand.score.n,
                mean=cand.score.mean,
                ci_low=cand.score.ci_low,
                ci_high=cand.score.ci_high,
                group=group,
                p_vs_group_leader=outcome.p_value if outcome else None,
                paired=outcome.paired if outcome else None,
                test=outcome.test if outcome else None,
            )
        )
    return Leaderboard(task=task, metric=metric, alpha=alpha, entries=entries, notes=notes)


def _test(leader: _Candidate, cand: _Candidate, metric: str) -> _Test:
    why = _unpairable(leader.run, cand.run)
    if why is None:
        from faithbench.compare import compare_runs

        try:
            report = compare_runs([leader.run.path, cand.run.path], metrics=[metric])
        except FaithbenchError as exc:
            why = f"the paired test failed ({exc})"
        else:
            comparison = report.comparisons[0]
            if comparison.n > 0:
                return _Test(comparison.p_value, True, comparison.test)
            why = f"no item has a {metric!r} score in both runs"
    p_value, test = unpaired_p(leader.score, cand.score, _binary(metric, leader.score, cand.score))
    note = f"{cand.label} vs {leader.label}: {why}; unpaired {test} test on the stored summaries"
    return _Test(p_value, False, test, note if why else None)


def _unpairable(a: RegisteredRun, b: RegisteredRun) -> str | None:
    """Why the two runs cannot be compared item by item ("" = expected, no note), or None."""
    if a.task != b.task:
        return ""  # a mixed-task board: said once in the notes
    if a.data_sha256 != b.data_sha256:
        return "different data"
    for run in (a, b):
        rundir = RunDir(run.path)
        if not rundir.exists() or not rundir.samples_path.is_file():
            return f"run directory {run.path} is gone"
        try:
            info = rundir.read_info()
        except FaithbenchError:
            return f"{run.path}/run.json is unreadable"
        if (info.task, info.model_identity, info.data.sha256) != (
            run.task,
            run.model_identity,
            run.data_sha256,
        ):
            return f"{run.path} now holds a different run than the one registered (register it again)"
    return None


def _binary(metric: str, *scores: MetricSummary) -> bool:
    from faithbench.specs import spec_of

    if (spec := spec_of(metric)) is not None:
        return spec.binary
    return all(s.ci_method == "wilson" for s in scores)


def _unique_labels(runs: Sequence[RegisteredRun]) -> list[str]:
    """Registered labels, made unique by the parent folder (then the whole path) where they clash."""
    labels = [r.label for r in runs]
    for widen in (lambda r: f"{Path(r.path).parent.name}/{r.label}", lambda r: r.path):
        clash = {x for x in labels if labels.count(x) > 1}
        labels = [widen(r) if x in clash else x for r, x in zip(runs, labels, strict=True)]
    return labels
