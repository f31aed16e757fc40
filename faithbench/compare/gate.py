"""CI gate: fail when a candidate is significantly worse than its baseline on a gated metric (the
verdict as Markdown: `faithbench.reports.gate.verdict_markdown`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from faithbench.compare.compare import compare_runs
from faithbench.compare.schema import Comparison, ComparisonReport


@dataclass(frozen=True)
class GateVerdict:
    report: ComparisonReport
    failed: list[Comparison]
    margin: float

    @property
    def passed(self) -> bool:
        return not self.failed

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1


def is_regression(row: Comparison, margin: float) -> bool:
    """Worse by more than `margin` in the point estimate AND significant after adjustment.

    Both are required: a large but noisy drop is not proof, and a significant drop within the agreed
    margin is tolerated by design. "Worse" follows the row's direction: a rise of process_error (the
    share of samples with a flagged step) is a regression.
    """
    return row.improvement is not None and row.improvement < -margin and row.significant


def gate(
    baseline: str | os.PathLike[str],
    candidate: str | os.PathLike[str],
    metrics: Sequence[str] = ("accuracy",),
    alpha: float = 0.05,
    margin: float = 0.0,
    correction: str = "holm",
) -> GateVerdict:
    report = compare_runs([baseline, candidate], metrics=metrics, correction=correction, alpha=alpha)
    return GateVerdict(report, [r for r in report.comparisons if is_regression(r, margin)], margin)
