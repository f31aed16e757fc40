"""The metric-validity report's sections (`benchmarks/metric_validity.py`, `faithbench judge-check
--suite mr-gsm8k`) as Markdown: the writing-style study (`faithbench.validity.measure`), the rule
metrics against MR-GSM8K's human first-error labels (`faithbench.validity.mrgsm8k`), and an LLM
judge next to them (`faithbench.validity.mrgsm8k_judge`)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from faithbench.reports.table import markdown_table
from faithbench.validity.measure import MEASURED_METRICS, PLANTS
from faithbench.validity.mrgsm8k import load_suite, measure_rules

if TYPE_CHECKING:
    from faithbench.validity.measure import ValidityResult
    from faithbench.validity.mrgsm8k import Exclusion, RuleResult, Verdicts
    from faithbench.validity.mrgsm8k_judge import JudgeSuiteReport


# ---------------------------------------------------------------------------------- writing styles


def validity_markdown(result: ValidityResult) -> str:
    """Markdown tables: per metric (scored, false alarms, agreement with plain), then the equations
    found and the planted-error detection."""
    out = [f"GSM8K test references: {result.n}", ""]
    for metric in MEASURED_METRICS:
        out += [
            f"**{metric}**",
            "",
            "| style | scored | false alarms | verdict = plain |",
            "|---|---:|---:|---:|",
        ]
        for name, s in result.styles.items():
            out.append(
                f"| {name} | {s.scored_rate(metric):.2%} | {s.false_alarm_rate(metric):.2%}"
                f" ({s.flagged[metric]}) | {s.agreement(metric):.2%} |"
            )
        out.append("")
    out += [
        "**equations found and planted errors caught** (over items whose clean verdict passed)",
        "",
        "| style | no equation | result -> step_arithmetic | answer -> answer_consistency"
        " | question number -> number_grounding |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, s in result.styles.items():
        cells = [f"{s.detection(p):.2%} of {len(s.planted.get(p, []))}" for p in PLANTS]
        out.append(f"| {name} | {s.no_equation_rate():.2%} | {' | '.join(cells)} |")
    return "\n".join(out)


# ----------------------------------------------------------------------------------------- MR-GSM8K


def excluded_note(excluded: Sequence[Exclusion]) -> str:
    if not excluded:
        return "none excluded"
    reasons = Counter(e.reason for e in excluded)
    return f"{len(excluded)} excluded: " + "; ".join(
        f"{reason} ({n})" if n > 1 else reason for reason, n in reasons.items()
    )


def _f1(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def verdict_rows(v: Verdicts) -> list[tuple[str, str]]:
    return [
        ("wrong solutions flagged", v.flagged.show()),
        ("first flagged step = human label", v.exact.show()),
        ("first flagged step before the label", v.before.show()),
        ("first flagged step after the label", v.after.show()),
        ("flagged without naming a step", v.flagged_without_step.show()),
        ("references flagged (false alarms)", v.reference_false_alarms.show()),
        ("ProcessBench F1", _f1(v.processbench_f1)),
    ]


def rules_markdown(result: RuleResult) -> str:
    """The rule metrics' figures as a Markdown section."""
    n = len(result.cases)
    distinct = len({c.gsm8k_id for c in result.cases})
    rows: list[tuple[str, ...]] = [("measure", "rule metrics")]
    verdicts = verdict_rows(result.verdicts)
    rows += verdicts[:1]
    rows += [(f"flagged by {m}", r.show()) for m, r in result.per_metric.items()]
    rows += verdicts[1:6]
    rows += [(f"references flagged by {m}", r.show()) for m, r in result.reference_per_metric.items()]
    rows += verdicts[6:]
    split = sum(c.n_parsed_steps != c.n_steps for c in result.cases)
    notes = [
        f"{result.n_rows} rows of `{Path(result.path).name}`, {n} measured, "
        f"{excluded_note(result.excluded)}. "
        f"References: the GSM8K test solution of each row's `gsm8k_id` ({distinct} distinct), "
        "annotations removed, scored once per row.",
        "Flagged: any of " + ", ".join(result.metrics) + " below 1; the first flagged step is the "
        "sample's `first_error_step`. ProcessBench F1: harmonic mean of (first flagged step = label) "
        "and (reference not flagged).",
    ]
    if split:
        notes.append(f"The parser's steps are not the solution's steps in {split} solutions.")
    return "\n".join(
        ["### MR-GSM8K: rule metrics against human first-error labels", "", markdown_table(rows), "", *notes]
    )


def mr_gsm8k_section(
    data_dir: str | os.PathLike[str] | None = None, path: str | os.PathLike[str] | None = None
) -> str:
    """The rule metrics' MR-GSM8K section of the metric-validity report, as Markdown. `data_dir`
    is the GSM8K folder (as `--data-dir`); `path` the MR-GSM8K file (else `default_path`)."""
    return rules_markdown(measure_rules(load_suite(path, data_dir)))


def judge_markdown(report: JudgeSuiteReport) -> str:
    """The judge next to the rule metrics on the same MR-GSM8K solutions and references."""
    judge = report.judge
    rows: list[tuple[str, ...]] = [("measure", "judge", "rule metrics")]
    for (name, by_judge), (_, by_rules) in zip(
        verdict_rows(report.judge_verdicts), verdict_rows(report.rule_verdicts), strict=True
    ):
        rows.append((name, by_judge, by_rules))
    reasons = sorted(
        {r for c in report.cases for r in (c.judge_reason, c.reference_judge_reason) if r is not None}
    )
    notes = [
        f"judge {judge.spec}, prompt {judge.prompt_version}, gold {'on' if judge.gold else 'off'}, "
        f"temperature {judge.temperature:g}. {report.n_rows} rows of `{Path(report.path).name}`, "
        f"{len(report.cases)} wrong solutions and their GSM8K references measured, "
        f"{excluded_note(report.excluded)}; {report.n_unscored} of {2 * len(report.cases)} cases "
        "unscored by the judge (left out of its figures; the rules' figures count every case).",
        *(f"unscored: {reason}" for reason in reasons[:3]),
    ]
    if len(reasons) > 3:
        notes.append(f"... and {len(reasons) - 3} more reasons (see --json)")
    return "\n".join(
        [
            "### MR-GSM8K: judge and rule metrics against human first-error labels",
            "",
            markdown_table(rows),
            "",
            *notes,
        ]
    )
