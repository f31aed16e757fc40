"""Plain-text tables for the terminal."""

from __future__ import annotations

from collections.abc import Sequence

from faithbench.compare.schema import Comparison, ComparisonReport, row_label
from faithbench.harness.schema import Summary


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
    return "\n".join([header, _align(rows)])


def comparison_table(report: ComparisonReport) -> str:
    """One row per (pair, metric): delta B - A with its CI, raw and adjusted p, and the test used."""
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
    return "\n".join([header, _align(rows), *notes])


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


def _align(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
