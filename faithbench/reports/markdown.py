"""A comparison report as Markdown, fit for a pull-request comment: a headline verdict, one table
row per comparison, a legend, and the ids a pairing dropped."""

from __future__ import annotations

import math

from faithbench.compare.schema import Comparison, ComparisonReport, row_label
from faithbench.reports.table import markdown_table

CORRECTIONS = {"holm": "Holm", "bh": "Benjamini-Hochberg"}
MAX_IDS = 10  # dropped ids listed per side of a pairing note
HEADERS = ("metric", "A", "B", "n", "Δ (B − A) [95% CI]", "p", "p_adj", "sig")


def comparison_markdown(report: ComparisonReport) -> str:
    """Headline verdict, table of comparisons (metric, A, B, delta with CI, p, p_adj, significant),
    legend and pairing notes."""
    correction = CORRECTIONS.get(report.correction, report.correction)
    labels = [r.label for r in report.runs]
    tasks = sorted({r.task for r in report.runs})
    n_sig = sum(c.significant for c in report.comparisons)
    lines = [
        f"### faithbench comparison: {', '.join(code(label) for label in labels)}"
        + (f" on {', '.join(code(t) for t in tasks)}" if tasks else ""),
        "",
    ]
    if not report.comparisons:
        lines += ["**No comparisons**: the runs share no metric.", ""]
    else:
        lines += [
            f"**{n_sig} of {len(report.comparisons)} comparisons significant** "
            f"({correction}-adjusted across all of them, α = {report.alpha:g}).",
            "",
            *_verdicts(report),
            "",
            markdown_table([HEADERS, *(_cells(c) for c in report.comparisons)], "lllrrrrc"),
            "",
            f"<sub>Δ = mean(B) − mean(A) over the items both runs scored (paired by id); 95% CI: paired "
            f"bootstrap. p: exact McNemar (binary metrics) or sign-flip permutation test; p_adj: "
            f"{correction} across all {len(report.comparisons)} comparisons. "
            f"✓ significant (p_adj < {report.alpha:g}), · not significant."
            + _process_legend(report)
            + "</sub>",
        ]
    if report.pairing:
        lines += ["", "**Pairing notes** (ids in only one run of a pair, left out of that pair's tests):", ""]
        for note in report.pairing:
            lines.append(
                f"- {code(note.a)} vs {code(note.b)}: {len(note.only_in_a)} only in {code(note.a)}"
                f"{_ids(note.only_in_a)}, {len(note.only_in_b)} only in {code(note.b)}{_ids(note.only_in_b)}"
            )
    return "\n".join(lines).rstrip() + "\n"


def _verdicts(report: ComparisonReport) -> list[str]:
    """One bullet per pair: where B is significantly higher or lower than A."""
    pairs = list(dict.fromkeys((c.a, c.b) for c in report.comparisons))
    bullets = []
    for a, b in pairs:
        rows = [c for c in report.comparisons if (c.a, c.b) == (a, b)]
        up = [c for c in rows if c.significant and c.delta is not None and c.delta > 0]
        down = [c for c in rows if c.significant and c.delta is not None and c.delta < 0]
        rest = len(rows) - len(up) - len(down)
        parts = []
        if down:
            parts.append(f"**lower** on {_effects(down)}")
        if up:
            parts.append(f"**higher** on {_effects(up)}")
        if not parts:
            bullets.append(
                f"- {code(b)} vs {code(a)}: no significant difference on any of {len(rows)} "
                f"metric{'s' if len(rows) != 1 else ''}"
            )
            continue
        tail = f"; no significant difference on {rest} other{'s' if rest != 1 else ''}" if rest else ""
        bullets.append(f"- {code(b)} vs {code(a)}: {'; '.join(parts)}{tail}")
    return bullets


def _effects(rows: list[Comparison]) -> str:
    return ", ".join(
        f"{inline_text(c.metric)} ({_signed(c.delta)}{'' if c.higher_is_better else ', lower is better'})"
        for c in rows
    )


def _process_legend(report: ComparisonReport) -> str:
    rows = [c for c in report.comparisons if not c.higher_is_better]
    if not rows:
        return ""
    return (
        f" {inline_text(rows[0].metric)}: share of samples where a rule metric (step_arithmetic, "
        "number_grounding, answer_consistency) flags a step, lower is better; in brackets the mean "
        "first flagged step (1-based line of the rationale) over the flagged items."
    )


def _side(label: str, mean: float | None, step: float | None, process: bool) -> str:
    cell = f"{code(label)} {num(mean)}"
    return f"{cell} (step {step:.2f})" if process and step is not None else cell


def _cells(c: Comparison) -> tuple[str, ...]:
    process = not c.higher_is_better
    return (
        inline_text(row_label(c.metric)),
        _side(c.a, c.mean_a, c.first_step_a, process),
        _side(c.b, c.mean_b, c.first_step_b, process),
        str(c.n),
        f"{_signed(c.delta)} [{_signed(c.ci_low)}, {_signed(c.ci_high)}]" if c.delta is not None else "–",
        _p(c.p_value),
        _p(c.p_adjusted),
        "✓" if c.significant else "·",
    )


def inline_text(text: str) -> str:
    """Run-provided text as one line of Markdown that cannot open raw HTML."""
    text = " ".join(str(text).split())
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: str) -> str:
    """Text as inline code, one line (a backtick in it would end the span: it becomes a quote); the
    run report's Markdown puts model text in these too."""
    return "`" + " ".join(str(text).split()).replace("`", "'") + "`"


def num(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.3f}"


def _signed(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "–"
    text = f"{value:+.3f}"
    return "0.000" if text in ("+0.000", "-0.000") else text


def _p(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:.3f}" if value >= 0.001 or value == 0 else f"{value:.1e}"


def _ids(ids: list[str]) -> str:
    if not ids:
        return ""
    shown = ", ".join(code(i) for i in ids[:MAX_IDS])
    return f" ({shown}{', …' if len(ids) > MAX_IDS else ''})"
