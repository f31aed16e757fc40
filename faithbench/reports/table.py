"""Plain-text tables for the terminal."""

from __future__ import annotations

from faithbench.harness.schema import Summary


def summary_table(summary: Summary) -> str:
    """One row per metric: mean, 95% CI, scored n and unscored count."""
    rows = [("metric", "mean", "95% CI", "n", "unscored")]
    for name, m in summary.metrics.items():
        if m.mean is None:
            rows.append((name, "-", "-", "0", str(m.n_unscored)))
        else:
            rows.append(
                (name, f"{m.mean:.3f}", f"[{m.ci_low:.3f}, {m.ci_high:.3f}]", str(m.n), str(m.n_unscored))
            )
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.ljust(w) if c == 0 else cell.rjust(w)
            for c, (cell, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    header = f"{summary.task} | {summary.model} | {summary.n_samples} samples"
    return "\n".join([header, *lines])
