"""CI gate: fail when a candidate is significantly worse than its baseline on a gated metric."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from faithbench.compare.compare import compare_runs
from faithbench.compare.schema import Comparison, ComparisonReport, row_label
from faithbench.reports.table import markdown_table


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


def verdict_markdown(verdict: GateVerdict) -> str:
    report = verdict.report
    base, cand = report.runs[0].label, report.runs[1].label
    headline = "✅ **gate passed**" if verdict.passed else "❌ **gate failed**"
    rows: list[tuple[str, ...]] = [
        ("metric", "baseline", "candidate", "delta [95% CI]", "p (adj.)", "verdict")
    ]
    for row in report.comparisons:
        if row.delta is None:
            rows.append((row_label(row.metric), "-", "-", "-", "-", "no paired scores"))
            continue
        state = (
            "regression"
            if row in verdict.failed
            else ("better" if row.significant and (row.improvement or 0) > 0 else "ok")
        )
        rows.append(
            (
                row_label(row.metric), f"{row.mean_a:.3f}", f"{row.mean_b:.3f}",
                f"{row.delta:+.3f} [{row.ci_low:+.3f}, {row.ci_high:+.3f}]", f"{row.p_adjusted:.3g}", state,
            )
        )  # fmt: skip
    lines = [
        f"{headline}: candidate `{cand}` against baseline `{base}` "
        f"(alpha {report.alpha}, margin {verdict.margin}, {report.correction} correction)",
        "",
        markdown_table(rows),
    ]
    lines.append("")
    lines.append(
        f"n = {report.comparisons[0].n} paired items" if report.comparisons else "no metrics compared"
    )
    return "\n".join(lines)
