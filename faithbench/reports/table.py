"""Tables: the one aligned plain-text and one Markdown table helper every renderer of this package
uses (comparison, gate, leaderboard, judge-check, validity), and the terminal tables of run
summaries and comparisons."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faithbench.compare.schema import Comparison, ComparisonReport
    from faithbench.harness.schema import Summary

Row = Sequence[str]


def text_table(rows: Sequence[Row], right: Collection[int] = (), rule: bool = True) -> str:
    """Rows (the first is the header) as aligned plain text, two spaces between columns; columns
    `right` right-aligned, the others left; `rule` puts a line of dashes under the header."""
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.rjust(w) if c in right else cell.ljust(w)
            for c, (cell, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in rows
    ]
    if rule:
        lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_row(cells: Row) -> str:
    """One Markdown table row; a `|` inside a cell is escaped."""
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def markdown_table(rows: Sequence[Row], align: str = "") -> str:
    """Rows (the first is the header) as a Markdown table. `align` has one letter per column,
    l(eft), r(ight) or c(entre); columns it does not reach are left-aligned."""
    marks = {"l": "---", "r": "--:", "c": ":-:"}
    n = len(rows[0])
    rule = "|" + "|".join(marks[a] for a in align.ljust(n, "l")[:n]) + "|"
    return "\n".join([markdown_row(rows[0]), rule, *(markdown_row(r) for r in rows[1:])])


def summary_table(summary: Summary) -> str:
    """One row per metric: mean, 95% CI, scored n and unscored count."""
    rows = [("metric", "mean", "95% CI", "n", "unscored")]
    for name, m in summary.metrics.items():
        if m.mean is None or m.ci_low is None or m.ci_high is None:
            rows.append((name, "-", "-", "0", str(m.n_unscored)))
        else:
            rows.append(
                (name, f"{m.mean:.3f}", f"[{m.ci_low:.3f}, {m.ci_high:.3f}]", str(m.n), str(m.n_unscored))
            )
    header = f"{summary.task} | {summary.model} | {summary.n_samples} samples"
    return "\n".join([header, text_table(rows)])


def comparison_table(report: ComparisonReport) -> str:
    """One row per (pair, metric): delta B - A with its CI, raw and adjusted p, and the test used."""
    from faithbench.compare.schema import row_label

    rows = [("A", "B", "metric", "n", "delta", "95% CI", "p", "p_adj", "sig", "test")]
    for c in report.comparisons:
        if c.delta is None or c.ci_low is None or c.ci_high is None:
            rows.append((c.a, c.b, row_label(c.metric), str(c.n), "-", "-", "-", "-", "", c.test))
            continue
        rows.append(
            (
                c.a, c.b, row_label(c.metric), str(c.n), f"{c.delta:+.3f}",
                f"[{c.ci_low:+.3f}, {c.ci_high:+.3f}]", f"{c.p_value:.3g}", f"{c.p_adjusted:.3g}",
                "*" if c.significant else "", c.test,
            )
        )  # fmt: skip
    notes = [note for c in report.comparisons if (note := process_note(c))]
    notes += [
        f"{n.a} vs {n.b}: dropped {len(n.only_in_a)} id(s) only in {n.a}, {len(n.only_in_b)} only in {n.b}"
        for n in report.pairing
    ]
    header = (
        f"{report.correction} correction across {len(report.comparisons)} comparisons, alpha {report.alpha}"
    )
    return "\n".join([header, text_table(rows), *notes])


def process_note(c: Comparison) -> str:
    """For a process_error row: both runs' share of flagged samples and mean first flagged step."""
    if c.higher_is_better or c.mean_a is None:  # not process_error, or no paired scores
        return ""

    def side(label: str, mean: float | None, step: float | None) -> str:
        share = "-" if mean is None else f"{mean:.3f}"
        return f"{label} {share} flagged, mean first flagged step {'-' if step is None else f'{step:.2f}'}"

    return (
        f"{c.metric} (lower is better) over {c.n} items: {side(c.a, c.mean_a, c.first_step_a)}; "
        f"{side(c.b, c.mean_b, c.first_step_b)}"
    )
