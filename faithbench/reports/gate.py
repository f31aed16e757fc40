"""The CI gate's verdict (`faithbench gate`, `faithbench.compare.gate`) as Markdown for a pull request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faithbench.compare.schema import row_label
from faithbench.reports.table import markdown_table

if TYPE_CHECKING:
    from faithbench.compare.gate import GateVerdict


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
