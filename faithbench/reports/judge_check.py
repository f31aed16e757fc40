"""`faithbench judge-check`'s report (`faithbench.judges.check`) as a terminal table: the judge next
to the rule metrics on the same planted-error cases."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faithbench.judges.planted import ERROR_KINDS
from faithbench.judges.rubric import RATINGS
from faithbench.reports.table import text_table

if TYPE_CHECKING:
    from faithbench.judges.check import JudgeCheckReport


def check_table(report: JudgeCheckReport) -> str:
    """The report as a terminal table: the judge next to the rule metrics on the same cases."""
    judge = report.judge
    header = (
        f"judge-check | {judge.spec} | prompt {judge.prompt_version}, gold {'on' if judge.gold else 'off'}, "
        f"temperature {judge.temperature:g} | {report.n_cases} cases from {report.n_references} GSM8K "
        f"references, {report.n_unscored} unscored by the judge"
    )
    rows: list[tuple[str, ...]] = [("measure", "judge", "rules")]
    for kind in (*ERROR_KINDS, "all"):
        rows.append(
            (f"detection: {kind}", report.detection[kind].show(6), report.rule_detection[kind].show(6))
        )
    rows.append(("false alarms (clean)", report.false_alarms.show(6), report.rule_false_alarms.show(6)))
    rows.append(("first-error-step accuracy", report.step_accuracy.show(6), "-"))
    f1 = report.processbench_f1
    rows.append(("ProcessBench F1", "-" if f1 is None else f"{f1:.3f}", "-"))
    kappa = report.kappa_vs_rules
    rows.append(("Cohen's kappa judge vs rules", "-" if kappa is None else f"{kappa:+.3f}", ""))
    ratings: list[tuple[str, ...]] = [("kind", *RATINGS)]
    for kind, means in report.mean_ratings.items():
        ratings.append((kind, *("-" if v is None else f"{v:.2f}" for v in means.values())))
    reasons = sorted({r.reason for r in report.cases if r.reason is not None})
    notes = [f"unscored: {reason}" for reason in reasons[:3]]
    if len(reasons) > 3:
        notes.append(f"... and {len(reasons) - 3} more reasons (see --json)")
    return "\n".join(
        [header, text_table(rows), "", "mean judge ratings (1-5) by case kind", text_table(ratings), *notes]
    )
