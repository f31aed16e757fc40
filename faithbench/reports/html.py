"""A comparison report as ONE self-contained HTML file: inline CSS, inline JS, inline SVG plots.

Nothing is fetched: no fonts, scripts, styles or images from a network. A Content-Security-Policy
meta tag enforces it and lets only the report's own script run (pinned by its SHA-256), so even a
completion that slipped past escaping could not execute. Every piece of run or model text goes
through `html.escape`: completions are untrusted.

Sections (ids are stable; tests and users link to them):

* `#runs`        the runs compared, with the colour each has in the plots;
* `#summary`     per metric and run: mean and 95% CI from the run's summary.json;
* `#comparisons` every pairwise test of the report: delta, CI, p, adjusted p, McNemar b/c, MDE;
* `#matrix`      per metric, runs x runs, cells coloured by the sign of the delta and significance;
* `#plots`       per metric, an SVG of each run's mean with its CI as an error bar;
* `#failures`    per run, where the faithfulness failures are: first wrong step positions, first
                 flagged step positions (the process verdict) and ungrounded numbers;
* `#diffs`       per pair, the items one run got right and the other wrong, side by side, with each
                 side's first flagged step.

`process_error` (the share of samples where a rule metric flags a step) is a row like the metrics,
its summary computed from the samples; lower is better there, and colours follow that.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import html
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from faithbench.compare.compare import process_error
from faithbench.compare.schema import (
    LOWER_IS_BETTER,
    PROCESS_ERROR,
    Comparison,
    ComparisonReport,
    RunRef,
    row_label,
)
from faithbench.core import Completion
from faithbench.errors import FaithbenchError
from faithbench.harness.schema import SampleRecord, Summary
from faithbench.harness.stats import summarize
from faithbench.harness.store import RunDir
from faithbench.parsing import parse_completion

MAX_DIFF_ITEMS = 200  # items shown per pair in the diff browser
MAX_HIST_STEP = 10  # first wrong steps at or beyond this (1-based) share one bar
TOP_UNGROUNDED = 10  # most frequent ungrounded numbers listed per run
PALETTE = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
    "#b07aa1", "#edc948", "#9c755f", "#ff9da7", "#bab0ac",
)  # fmt: skip
CORRECTIONS = {"holm": "Holm", "bh": "Benjamini-Hochberg"}


def comparison_html(report: ComparisonReport, runs: dict[str, RunDir]) -> str:
    """The whole report as one HTML document. `runs` maps each run label of `report` to its run
    directory (summaries, per-sample details and completions are read from there); a label without
    a directory is shown without those parts."""
    labels = [r.label for r in report.runs]
    colours = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}
    summaries = {label: _read_summary(runs[label]) for label in labels if label in runs}
    samples = {label: runs[label].read_samples() for label in labels if label in runs}
    metrics = _metrics(report, summaries)
    if PROCESS_ERROR in metrics:
        summaries = {label: _with_process(summary, samples[label]) for label, summary in summaries.items()}
    n_sig = sum(c.significant for c in report.comparisons)
    task = ", ".join(sorted({r.task for r in report.runs})) or "-"
    title = f"faithbench comparison: {', '.join(labels)}"
    body = [
        "<header>",
        "<h1>faithbench comparison</h1>",
        f'<p class="subtitle">{len(labels)} runs on <b>{_e(task)}</b> &middot; {len(report.comparisons)} '
        f"comparisons, <b>{n_sig}</b> significant after {_e(_correction(report))} adjustment at "
        f"&alpha; = {report.alpha:g}</p>",
        _nav(),
        "</header>",
        "<main>",
        _runs_section(report.runs, colours, runs),
        _summary_section(labels, metrics, summaries, colours),
        _comparisons_section(report),
        _matrix_section(report, labels, metrics),
        _plots_section(labels, metrics, summaries, colours),
        _failures_section(labels, samples, colours),
        _diffs_section(report, labels, samples),
        "</main>",
        "<footer>Made by faithbench. Self-contained: this file loads nothing from a network.</footer>",
    ]
    script_hash = base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode("ascii")
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'"
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            *body,
            f"<script>{_SCRIPT}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


# ------------------------------------------------------------------------------------------ helpers


def _e(value: object) -> str:
    """Escaped for HTML text and attribute values (quotes included)."""
    return html.escape(str(value), quote=True)


def _read_summary(run: RunDir) -> Summary | None:
    try:
        return run.read_summary()
    except FaithbenchError:
        return None


def _with_process(summary: Summary | None, records: list[SampleRecord]) -> Summary | None:
    """The summary with a process_error entry computed from the run's samples (summary.json has
    none): share of samples with a flagged step, Wilson CI."""
    if summary is None:
        return None
    entry = summarize([process_error(r) for r in records], binary=True)
    return summary.model_copy(update={"metrics": {**summary.metrics, PROCESS_ERROR: entry}})


def _correction(report: ComparisonReport) -> str:
    return CORRECTIONS.get(report.correction, report.correction)


def _metrics(report: ComparisonReport, summaries: dict[str, Summary | None]) -> list[str]:
    """The metrics compared, in report order; without comparisons, every metric of the summaries."""
    names = list(dict.fromkeys(c.metric for c in report.comparisons))
    if names:
        return names
    return list(dict.fromkeys(m for s in summaries.values() if s is not None for m in s.metrics))


def _pairs(report: ComparisonReport) -> list[tuple[str, str]]:
    pairs = list(dict.fromkeys((c.a, c.b) for c in report.comparisons))
    if pairs:
        return pairs
    labels = [r.label for r in report.runs]
    return [(a, b) for i, a in enumerate(labels) for b in labels[i + 1 :]]


def _num(value: float | None, digits: int = 3) -> str:
    return "&ndash;" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _signed(value: float | None, digits: int = 3) -> str:
    if value is None or math.isnan(value):
        return "&ndash;"
    text = f"{value:+.{digits}f}"
    return "0.000" if text in ("+0.000", "-0.000") else text.replace("-", "&minus;")


def _p(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "&ndash;"
    if value >= 0.001 or value == 0:
        return f"{value:.3f}"
    return f"{value:.1e}".replace("-", "&minus;")


def _ci(low: float | None, high: float | None, signed: bool = False) -> str:
    if low is None or high is None:
        return "&ndash;"
    fmt = _signed if signed else _num
    return f"[{fmt(low)}, {fmt(high)}]"


def _swatch(colour: str) -> str:
    return f'<span class="swatch" style="background:{colour}"></span>'


def _section(ident: str, title: str, intro: str, content: Iterable[str]) -> str:
    return "\n".join(
        [
            f'<section id="{ident}">',
            f"<h2>{title}</h2>",
            f'<p class="intro">{intro}</p>',
            *content,
            "</section>",
        ]
    )


def _nav() -> str:
    links = [
        ("summary", "Summary"),
        ("comparisons", "Comparisons"),
        ("matrix", "Significance matrix"),
        ("plots", "Plots"),
        ("failures", "Faithfulness failures"),
        ("diffs", "Per-sample diffs"),
    ]
    return "<nav>" + " ".join(f'<a href="#{i}">{t}</a>' for i, t in links) + "</nav>"


def _sort_key(sample_id: str) -> tuple[str, int, str]:
    """`test-2` before `test-10`."""
    match = re.fullmatch(r"(.*?)(\d+)", sample_id)
    return (match.group(1), int(match.group(2)), "") if match else (sample_id, -1, sample_id)


# ------------------------------------------------------------------------------------------- runs


def _runs_section(refs: Sequence[RunRef], colours: dict[str, str], runs: dict[str, RunDir]) -> str:
    rows = [
        "<tr>"
        f'<td class="label">{_swatch(colours[r.label])}{_e(r.label)}</td>'
        f"<td><code>{_e(r.model)}</code></td><td>{_e(r.task)}</td>"
        f'<td class="num">{r.n_samples}</td><td class="path"><code>{_e(r.path)}</code></td>'
        f"<td>{'' if r.label in runs else 'run directory not given'}</td>"
        "</tr>"
        for r in refs
    ]
    table = (
        '<table class="runs-table"><thead><tr><th>run</th><th>model</th><th>task</th>'
        '<th class="num">samples</th><th>path</th><th></th></tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table>"
    )
    return _section("runs", "Runs", "The runs compared; each keeps its colour in every plot.", [table])


# ---------------------------------------------------------------------------------------- summary


def _summary_section(
    labels: list[str], metrics: list[str], summaries: dict[str, Summary | None], colours: dict[str, str]
) -> str:
    head = "".join(f'<th class="num">{_swatch(colours[label])}{_e(label)}</th>' for label in labels)
    rows = []
    for metric in metrics:
        means = [
            m.mean
            for label in labels
            if (s := summaries.get(label)) is not None
            and (m := s.metrics.get(metric)) is not None
            and m.mean is not None
        ]
        top = min(means, default=None) if metric in LOWER_IS_BETTER else max(means, default=None)
        best = top if len(means) > 1 and max(means) > min(means) else None
        cells = []
        for label in labels:
            summary = summaries.get(label)
            m = summary.metrics.get(metric) if summary is not None else None
            if m is None:
                cells.append('<td class="num missing">not scored</td>')
                continue
            tip = f"n = {m.n} scored, {m.n_unscored} unscored; CI: {m.ci_method}"
            cls = "num best" if best is not None and m.mean == best else "num"
            cells.append(
                f'<td class="{cls}" title="{_e(tip)}"><span class="mean">{_num(m.mean)}</span> '
                f'<span class="ci">{_ci(m.ci_low, m.ci_high)}</span>'
                f'<span class="n">n={m.n}{f", {m.n_unscored} unscored" if m.n_unscored else ""}</span></td>'
            )
        head_cell = f'<th scope="row">{_e(row_label(metric))}</th>'
        rows.append(f'<tr data-metric="{_e(metric)}">{head_cell}{"".join(cells)}</tr>')
    table = (
        f'<table class="summary-table"><thead><tr><th>metric</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    intro = (
        "Each run on its own: mean and 95% confidence interval from its <code>summary.json</code> "
        "(over the samples the metric scored); the best mean of a metric is in bold (the highest; "
        "for process_error, computed from the samples, the lowest)."
    )
    return _section("summary", "Summary", intro, [table])


# ------------------------------------------------------------------------------------ comparisons


def _comparisons_section(report: ComparisonReport) -> str:
    rows = []
    previous: tuple[str, str] | None = None
    for c in report.comparisons:
        if (c.a, c.b) != previous:
            previous = (c.a, c.b)
            rows.append(
                f'<tr class="pair-head"><th colspan="12"><span class="b">{_e(c.b)}</span> vs '
                f'<span class="a">{_e(c.a)}</span> <span class="muted">(A = {_e(c.a)}, B = {_e(c.b)})</span>'
                "</th></tr>"
            )
        direction = "" if not c.delta else ("up" if c.delta > 0 else "down")
        quality = "" if not c.improvement else ("better" if c.improvement > 0 else "worse")
        test = "McNemar" if c.test == "mcnemar-exact" else "sign-flip"
        test_tip = "exact McNemar test" if c.test == "mcnemar-exact" else "sign-flip permutation test"
        test_tip += f"; CI from {c.n_resamples} bootstrap resamples"
        r_tip = "per-item correlation r = " + (f"{c.correlation:.2f}" if c.correlation is not None else "n/a")
        mcnemar = f"{c.mcnemar_b} / {c.mcnemar_c}" if c.mcnemar_b is not None else "&ndash;"
        sig = '<span class="yes" title="significant">&#10003;</span>' if c.significant else "&middot;"
        rows.append(
            f'<tr class="{"sig" if c.significant else "nonsig"} {direction} {quality}" '
            f'data-metric="{_e(c.metric)}" data-a="{_e(c.a)}" data-b="{_e(c.b)}">'
            f'<td>{_e(row_label(c.metric))}</td><td class="num">{c.n}</td>'
            f'<td class="num">{_num(c.mean_a)}{_first_step(c.first_step_a)}</td>'
            f'<td class="num">{_num(c.mean_b)}{_first_step(c.first_step_b)}</td>'
            f'<td class="num delta" title="{_e(r_tip)}">{_signed(c.delta)}</td>'
            f'<td class="num">{_ci(c.ci_low, c.ci_high, True)}</td>'
            f'<td class="num" title="{_e(test_tip)}">{_p(c.p_value)}</td>'
            f'<td class="num">{_p(c.p_adjusted)}</td><td class="sigmark">{sig}</td>'
            f'<td class="num">{mcnemar}</td><td class="num">{_num(c.mde)}</td>'
            f'<td class="test" title="{_e(test_tip)}">{test}</td></tr>'
        )
    if not rows:
        rows.append('<tr><td colspan="12" class="missing">no comparisons</td></tr>')
    table = (
        '<div class="scroll"><table class="comparisons-table"><thead><tr><th>metric</th>'
        '<th class="num" title="items paired by id with a score on both sides">n</th>'
        '<th class="num">mean A</th><th class="num">mean B</th><th class="num">&Delta; (B &minus; A)</th>'
        '<th class="num">95% CI of &Delta;</th><th class="num">p</th><th class="num">p adj.</th>'
        '<th title="significant: adjusted p below alpha">sig.</th>'
        '<th class="num" title="McNemar discordant pairs: b = A right and B wrong, c = B right and A wrong">'
        "McNemar b / c</th>"
        '<th class="num" title="minimum detectable |delta| at 80% power">MDE</th><th>test</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    legend = (
        '<p class="legend">&Delta; is mean(B) &minus; mean(A) over the items both runs scored; its CI is '
        "a 95% paired bootstrap. p: exact McNemar for binary metrics, sign-flip permutation otherwise; "
        f"p adj.: {_e(_correction(report))} across all {len(report.comparisons)} comparisons; "
        f'<span class="yes">&#10003;</span> significant (p adj. &lt; {report.alpha:g}). '
        "McNemar b / c: items A got right and B wrong / B right and A wrong. MDE: the smallest "
        "|&Delta;| this n and spread detect with 80% power; a non-significant &Delta; well below it "
        "says little. Hover &Delta; for the correlation of the two runs' per-item scores. "
        "process_error: the share of samples where a rule metric (step_arithmetic, number_grounding, "
        "answer_consistency) flags a step, lower is better (its b / c count the items flagged in B "
        "and not A / in A and not B); under its means, the mean first flagged step (1-based line of "
        "the rationale) over the flagged items.</p>"
    )
    notes = []
    for note in report.pairing:
        notes.append(
            f"<li><b>{_e(note.a)}</b> vs <b>{_e(note.b)}</b>: {len(note.only_in_a)} ids only in "
            f"{_e(note.a)}{_ids(note.only_in_a)}, {len(note.only_in_b)} only in {_e(note.b)}"
            f"{_ids(note.only_in_b)}; dropped from this pair.</li>"
        )
    pairing = f'<div class="pairing"><h3>Pairing notes</h3><ul>{"".join(notes)}</ul></div>' if notes else ""
    intro = "Every pair of runs on every metric, tested on the items both runs scored (paired by id)."
    return _section("comparisons", "Comparisons", intro, [table, legend, pairing])


def _first_step(step: float | None) -> str:
    if step is None:
        return ""
    return f'<span class="first-step" title="mean first flagged step">step {step:.2f}</span>'


def _ids(ids: list[str], limit: int = 8) -> str:
    if not ids:
        return ""
    shown = ", ".join(_e(i) for i in ids[:limit])
    return f" ({shown}{', &hellip;' if len(ids) > limit else ''})"


# ----------------------------------------------------------------------------------------- matrix


def _matrix_section(report: ComparisonReport, labels: list[str], metrics: list[str]) -> str:
    by_key: dict[tuple[str, str, str], Comparison] = {(c.metric, c.a, c.b): c for c in report.comparisons}
    blocks = []
    for metric in metrics:
        head = "".join(f'<th class="col">{_e(label)}</th>' for label in labels)
        rows = []
        for row in labels:
            cells = []
            for col in labels:
                if row == col:
                    cells.append('<td class="diag">&nbsp;</td>')
                    continue
                # cell = mean(row) - mean(column); a comparison's delta is mean(b) - mean(a)
                c = by_key.get((metric, col, row))
                flip = c is None
                c = c or by_key.get((metric, row, col))
                if c is None or c.delta is None:
                    cells.append('<td class="na">n/a</td>')
                    continue
                delta = -c.delta if flip else c.delta
                good = delta if c.higher_is_better else -delta  # colours say better / worse
                sign = "pos" if good > 1e-12 else "neg" if good < -1e-12 else "zero"
                kind = f"{sign} {'sig' if c.significant else 'nonsig'}"
                tip = (
                    f"{row} minus {col} on {metric}: {delta:+.3f}, p adj. = {c.p_adjusted:.3g}"
                    f"{' (significant)' if c.significant else ''}, n = {c.n}"
                )
                star = "*" if c.significant else ""
                cells.append(f'<td class="{kind}" title="{_e(tip)}">{_signed(delta)}{star}</td>')
            rows.append(f'<tr><th scope="row">{_e(row)}</th>{"".join(cells)}</tr>')
        blocks.append(
            f'<figure class="matrix-block" data-metric="{_e(metric)}"><figcaption>{_e(row_label(metric))}'
            f"{' (lower is better)' if metric in LOWER_IS_BETTER else ''}</figcaption>"
            f'<table class="sig-matrix" data-metric="{_e(metric)}"><thead><tr>'
            f'<th class="corner">row &minus; column</th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></figure>"
        )
    legend = (
        '<p class="legend"><span class="key pos sig">+ significant</span> '
        '<span class="key pos nonsig">+ not significant</span> '
        '<span class="key zero nonsig">no difference</span> '
        '<span class="key neg nonsig">&minus; not significant</span> '
        '<span class="key neg sig">&minus; significant</span> &nbsp;* p adj. &lt; '
        f"{report.alpha:g}</p>"
    )
    intro = (
        "Per metric, each cell is mean(row run) &minus; mean(column run) on their shared items: green "
        "where the row run is better (higher; lower for process_error), red where worse; strong colours "
        "are significant after adjustment."
    )
    return _section(
        "matrix", "Pairwise significance matrix", intro, [legend, '<div class="grid">', *blocks, "</div>"]
    )


# ------------------------------------------------------------------------------------------ plots


def _nice_step(span: float) -> float:
    for step in (0.001, 0.002, 0.0025, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0):
        if span / step <= 6:
            return step
    return 10 ** math.ceil(math.log10(span))


MIN_SPAN = 0.02  # the narrowest axis: a CI of width 0.001 should not fill the plot


def _axis(values: list[float]) -> tuple[float, float, float]:
    """Axis range and tick step covering `values` with a margin, kept inside [0, 1] when they are."""
    lo, hi = min(values), max(values)
    margin = 0.08 * (hi - lo)
    lo, hi = lo - margin, hi + margin
    if hi - lo < MIN_SPAN:
        centre = (lo + hi) / 2
        lo, hi = centre - MIN_SPAN / 2, centre + MIN_SPAN / 2
    if min(values) >= 0 and lo < 0:
        lo, hi = 0.0, max(hi - lo, max(values))
    if max(values) <= 1 and hi > 1:
        lo, hi = min(lo - (hi - 1), min(values)), 1.0
        if min(values) >= 0:
            lo = max(lo, 0.0)
    step = _nice_step(hi - lo)
    lo = math.floor(lo / step + 1e-9) * step
    hi = math.ceil(hi / step - 1e-9) * step
    return lo, hi, step


def _plot(
    metric: str, labels: list[str], summaries: dict[str, Summary | None], colours: dict[str, str]
) -> str:
    points = []
    for label in labels:
        summary = summaries.get(label)
        m = summary.metrics.get(metric) if summary is not None else None
        if m is not None and m.mean is not None:
            low = m.ci_low if m.ci_low is not None else m.mean
            high = m.ci_high if m.ci_high is not None else m.mean
            points.append((label, m.mean, low, high))
    if not points:
        return (
            f'<figure class="plot" data-metric="{_e(metric)}">'
            f"<figcaption>{_e(row_label(metric))}</figcaption>"
            '<p class="missing">no run scored this metric</p></figure>'
        )
    lo, hi, step = _axis([v for _, mean, low, high in points for v in (mean, low, high)])
    label_w, value_w, row_h, top, bottom = 130, 140, 30, 12, 34
    width = 570
    plot_w = width - label_w - value_w
    height = top + row_h * len(labels) + bottom

    def x(v: float) -> float:
        return label_w + (v - lo) / (hi - lo) * plot_w if hi > lo else label_w + plot_w / 2

    parts = [
        f'<svg class="ci-plot" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{_e(metric)}: mean and 95% CI per run">'
    ]
    n_ticks = round((hi - lo) / step)
    axis_y = top + row_h * len(labels)
    for k in range(n_ticks + 1):
        v = lo + k * step
        xv = x(v)
        parts.append(f'<line class="grid" x1="{xv:.1f}" y1="{top - 4}" x2="{xv:.1f}" y2="{axis_y}"/>')
        tick = f"{v:.4f}".rstrip("0").rstrip(".") if step < 1 else f"{v:g}"
        parts.append(f'<text class="tick" x="{xv:.1f}" y="{axis_y + 16}" text-anchor="middle">{tick}</text>')
    parts.append(f'<line class="axis" x1="{label_w}" y1="{axis_y}" x2="{label_w + plot_w}" y2="{axis_y}"/>')
    if points[0][0] == labels[0] and len(labels) > 1:  # the first run's mean, for reference
        xb = x(points[0][1])
        parts.append(
            f'<line class="baseline" x1="{xb:.1f}" y1="{top - 4}" x2="{xb:.1f}" y2="{axis_y}">'
            f"<title>{_e(labels[0])} mean</title></line>"
        )
    by_label = {p[0]: p for p in points}
    for i, label in enumerate(labels):
        y = top + row_h * i + row_h / 2
        short = label if len(label) <= 20 else label[:19] + "…"
        parts.append(
            f'<text class="run-label" x="{label_w - 10}" y="{y + 4:.1f}" text-anchor="end">'
            f"<title>{_e(label)}</title>{_e(short)}</text>"
        )
        if label not in by_label:
            parts.append(f'<text class="value" x="{label_w + 6}" y="{y + 4:.1f}">not scored</text>')
            continue
        _, mean, low, high = by_label[label]
        colour = colours[label]
        x0, x1, xm = x(low), x(high), x(mean)
        parts.append(
            f'<g class="errorbar" data-run="{_e(label)}" stroke="{colour}">'
            f"<title>{_e(label)}: {mean:.3f} [{low:.3f}, {high:.3f}]</title>"
            f'<line class="ci" x1="{x0:.1f}" y1="{y:.1f}" x2="{x1:.1f}" y2="{y:.1f}"/>'
            f'<line class="cap" x1="{x0:.1f}" y1="{y - 7:.1f}" x2="{x0:.1f}" y2="{y + 7:.1f}"/>'
            f'<line class="cap" x1="{x1:.1f}" y1="{y - 7:.1f}" x2="{x1:.1f}" y2="{y + 7:.1f}"/>'
            f'<circle class="mean" cx="{xm:.1f}" cy="{y:.1f}" r="5" fill="{colour}"/></g>'
        )
        parts.append(
            f'<text class="value" x="{label_w + plot_w + 12}" y="{y + 4:.1f}">{mean:.3f} '
            f'<tspan class="ci-text">[{low:.3f}, {high:.3f}]</tspan></text>'
        )
    parts.append("</svg>")
    return (
        f'<figure class="plot" data-metric="{_e(metric)}"><figcaption>{_e(row_label(metric))}</figcaption>'
        f"{''.join(parts)}</figure>"
    )


def _plots_section(
    labels: list[str], metrics: list[str], summaries: dict[str, Summary | None], colours: dict[str, str]
) -> str:
    plots = [_plot(metric, labels, summaries, colours) for metric in metrics]
    intro = (
        "Per metric: each run's mean (dot) and 95% CI (error bar) from its summary. The axis is zoomed "
        "to the data; overlapping bars do not mean &ldquo;no difference&rdquo; &mdash; the paired tests "
        "above are the ones to read."
    )
    return _section("plots", "Means with 95% CIs", intro, ['<div class="grid plots">', *plots, "</div>"])


# --------------------------------------------------------------------------------------- failures


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _pct(part: int, whole: int) -> str:
    share = 100 * part / whole
    return f"{share:.1f}%" if 0 < share < 10 else f"{share:.0f}%"


def _failures_card(label: str, records: list[SampleRecord], colour: str) -> str:
    steps: Counter[int] = Counter()
    scored = 0
    for r in records:
        if r.value("step_arithmetic") is None:
            continue
        scored += 1
        first = _details(r, "step_arithmetic").get("first_wrong_step")
        if isinstance(first, int) and not isinstance(first, bool):
            steps[min(first, MAX_HIST_STEP)] += 1
    n_wrong = sum(steps.values())
    parts = [
        f'<div class="card failures-card" data-run="{_e(label)}">',
        f"<h3>{_swatch(colour)}{_e(label)}</h3>",
    ]
    parts.append('<h4>First wrong step <span class="muted">(step_arithmetic)</span></h4>')
    if scored == 0:
        parts.append('<p class="missing">step_arithmetic scored no sample of this run.</p>')
    else:
        parts.append(
            f"<p><b>{n_wrong}</b> of {scored} scored samples have a wrong equation "
            f"({_pct(n_wrong, scored)}); {len(records) - scored} unscored.</p>"
        )
    if n_wrong:
        parts.append(_step_hist(steps, colour, "first-wrong-step"))
    parts.append(_process_part(records, colour))
    ungrounded_numbers: Counter[str] = Counter()
    in_samples: Counter[str] = Counter()
    n_ground = n_with = 0
    for r in records:
        if r.value("number_grounding") is None:
            continue
        n_ground += 1
        found = _details(r, "number_grounding").get("ungrounded") or []
        values = [
            _number(u.get("number", u.get("value"))) if isinstance(u, dict) else _number(u) for u in found
        ]
        if values:
            n_with += 1
        ungrounded_numbers.update(values)
        in_samples.update(set(values))
    parts.append('<h4>Ungrounded numbers <span class="muted">(number_grounding)</span></h4>')
    if n_ground == 0:
        parts.append('<p class="missing">number_grounding scored no sample of this run.</p>')
    else:
        parts.append(
            f'<p class="ungrounded-count"><b>{n_with}</b> of {n_ground} scored samples compute with a '
            "number that is not in the question, an earlier result or a unit constant "
            f"({_pct(n_with, n_ground)}).</p>"
        )
        if ungrounded_numbers:
            rows = [
                f'<tr><td class="num">{_e(value)}</td><td class="num">{count}</td>'
                f'<td class="num">{in_samples[value]}</td></tr>'
                for value, count in ungrounded_numbers.most_common(TOP_UNGROUNDED)
            ]
            parts.append(
                '<table class="ungrounded"><thead><tr><th class="num">number</th><th class="num">uses</th>'
                f'<th class="num">samples</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
            )
    parts.append("</div>")
    return "".join(parts)


def _step_hist(steps: Counter[int], colour: str, kind: str) -> str:
    """Bars of samples per step (1-based; MAX_HIST_STEP and beyond share the last bar)."""
    top = max(steps.values())
    rows = []
    for step in range(1, max(max(steps), 1) + 1):
        count = steps.get(step, 0)
        width = 100 * count / top if top else 0
        name = f"{MAX_HIST_STEP}+" if step == MAX_HIST_STEP else str(step)
        rows.append(
            f'<tr><th scope="row">{name}</th><td class="num">{count}</td>'
            f'<td class="barcell"><span class="bar" style="width:{width:.1f}%;background:{colour}">'
            "</span></td></tr>"
        )
    return (
        f'<table class="hist {kind}"><thead><tr><th>step</th><th class="num">samples</th>'
        f"<th></th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        '<p class="note">Step n is the n-th line of the rationale.</p>'
    )


def _process_part(records: list[SampleRecord], colour: str) -> str:
    """The process verdict: how many samples have a flagged step, and at which first step."""
    judged = [r for r in records if process_error(r) is not None]
    steps = Counter(min(r.first_error_step, MAX_HIST_STEP) for r in judged if r.first_error_step is not None)
    head = '<h4>First flagged step <span class="muted">(any rule metric: process_error)</span></h4>'
    if not judged:
        return head + (
            '<p class="missing">no process verdict: no rule metric scored a sample, or the run '
            "predates first_error_step (rescore it with <code>faithbench score</code>).</p>"
        )
    n_flagged = sum(steps.values())
    text = (
        f'<p class="process-count"><b>{n_flagged}</b> of {len(judged)} samples have a step flagged by a '
        f"rule metric ({_pct(n_flagged, len(judged))}).</p>"
    )
    return head + text + (_step_hist(steps, colour, "first-error-step") if n_flagged else "")


def _failures_section(
    labels: list[str], samples: dict[str, list[SampleRecord]], colours: dict[str, str]
) -> str:
    cards = [
        _failures_card(label, samples[label], colours[label])
        if label in samples
        else f'<div class="card"><h3>{_e(label)}</h3><p class="missing">run directory not given</p></div>'
        for label in labels
    ]
    intro = (
        "Where each run's rationales go wrong: at which step the first wrong equation is, at which "
        "step any rule metric first flags one, and which numbers its equations use without a source."
    )
    return _section(
        "failures",
        "Where the faithfulness failures are",
        intro,
        ['<div class="grid cards">', *cards, "</div>"],
    )


# ------------------------------------------------------------------------------------------ diffs


def _flags(record: SampleRecord) -> str:
    items = []
    arith = _details(record, "step_arithmetic")
    for wrong in arith.get("wrong") or []:
        if isinstance(wrong, dict):
            computed = wrong.get("computed")
            items.append(
                f"<li>wrong equation: <code>{_e(wrong.get('equation', ''))}</code>"
                f"{f' (left side = {_e(_number(computed))})' if computed is not None else ''}</li>"
            )
    grounding = _details(record, "number_grounding")
    numbers = [
        _number(u.get("number", u.get("value"))) if isinstance(u, dict) else _number(u)
        for u in grounding.get("ungrounded") or []
    ]
    if numbers:
        items.append(
            f"<li>ungrounded: {', '.join(f'<code>{_e(n)}</code>' for n in dict.fromkeys(numbers))}</li>"
        )
    if record.value("answer_consistency") == 0.0:
        items.append("<li>final answer not derived by any equation</li>")
    return f'<ul class="flags">{"".join(items)}</ul>' if items else ""


def _marked_lines(lines: list[str], changed: set[int]) -> str:
    """Escaped lines, those the other side lacks marked."""
    return "\n".join(
        f'<span class="changed">{_e(line)}</span>' if i in changed else _e(line)
        for i, line in enumerate(lines)
    )


def _line_diff(a: str, b: str) -> tuple[str, str]:
    """Both texts escaped, with the lines that differ between them marked; nothing is marked when
    the two share no non-blank line (two unrelated rationales: marking everything says nothing)."""
    lines_a, lines_b = a.split("\n"), b.split("\n")
    changed_a: set[int] = set()
    changed_b: set[int] = set()
    matcher = difflib.SequenceMatcher(None, lines_a, lines_b, autojunk=False)
    opcodes = matcher.get_opcodes()
    if not any(op == "equal" and any(x.strip() for x in lines_a[i1:i2]) for op, i1, i2, _, _ in opcodes):
        return _marked_lines(lines_a, changed_a), _marked_lines(lines_b, changed_b)
    for op, i1, i2, j1, j2 in opcodes:
        if op != "equal":
            changed_a.update(range(i1, i2))
            changed_b.update(range(j1, j2))
    return _marked_lines(lines_a, changed_a), _marked_lines(lines_b, changed_b)


def _side(label: str, record: SampleRecord, completion: str) -> str:
    verdict = (
        '<span class="ok">&#10003; right</span>'
        if record.correct
        else '<span class="bad">&#10007; wrong</span>'
    )
    reasoning = (
        f'<details class="reasoning"><summary>reasoning</summary><pre>{_e(record.reasoning)}</pre></details>'
        if record.reasoning
        else ""
    )
    return (
        f'<div class="side"><div class="side-head"><b>{_e(label)}</b> {verdict} &middot; answer '
        f"<code>{_e(record.answer if record.answer is not None else '(none)')}</code></div>"
        f'{reasoning}<pre class="completion">{completion}</pre>{_flags(record)}{_first_error(record)}</div>'
    )


def _details(record: SampleRecord, metric: str) -> dict[str, Any]:
    score = record.scores.get(metric)
    return score.details if score is not None else {}


def _first_error(record: SampleRecord) -> str:
    """The sample's process verdict: its first flagged step, the metrics flagging it, the step's text."""
    verdict = process_error(record)
    if verdict is None:
        return ""
    if record.first_error_step is None:
        return '<p class="first-error none">no step flagged by a rule metric</p>'
    steps = parse_completion(Completion(text=record.completion, reasoning=record.reasoning)).steps
    index = record.first_error_step - 1
    text = f" <code>{_e(steps[index])}</code>" if 0 <= index < len(steps) else ""
    by = ", ".join(_e(name) for name in record.first_error_by) or "?"
    return (
        f'<p class="first-error" data-step="{record.first_error_step}">first flagged step '
        f"<b>{record.first_error_step}</b> ({by}):{text}</p>"
    )


def _diff_item(kind: str, a: str, b: str, ra: SampleRecord, rb: SampleRecord) -> str:
    badge = (
        f"{_e(a)} &#10003; {_e(b)} &#10007;" if kind == "a-right" else f"{_e(b)} &#10003; {_e(a)} &#10007;"
    )
    question = " ".join(ra.question.split())
    text_a, text_b = _line_diff(ra.completion, rb.completion)
    short = question if len(question) <= 110 else question[:109] + "…"
    return (
        f'<details class="diff-item" data-kind="{kind}" data-id="{_e(ra.id)}">'
        f'<summary><span class="badge {kind}">{badge}</span> <code>{_e(ra.id)}</code> '
        f'<span class="q-short">{_e(short)}</span></summary>'
        f'<div class="diff-body"><p class="question">{_e(ra.question)}</p>'
        f'<p class="gold">gold answer: <code>{_e(ra.target)}</code></p>'
        f'<div class="side-by-side">{_side(a, ra, text_a)}{_side(b, rb, text_b)}</div></div></details>'
    )


def _of(shown: int, total: int) -> str:
    return str(total) if shown == total else f"{shown} of {total}"


def _pair_block(index: int, a: str, b: str, samples: dict[str, list[SampleRecord]]) -> str:
    pair_id = f"pair-{index}"
    if a not in samples or b not in samples:
        return (
            f'<div class="pair" id="{pair_id}"><h3>{_e(a)} vs {_e(b)}</h3>'
            '<p class="missing">run directory not given</p></div>'
        )
    by_a = {r.id: r for r in samples[a]}
    by_b = {r.id: r for r in samples[b]}
    shared = sorted((i for i in by_a if i in by_b), key=_sort_key)
    a_right = [i for i in shared if by_a[i].correct and not by_b[i].correct]
    b_right = [i for i in shared if by_b[i].correct and not by_a[i].correct]
    # at most MAX_DIFF_ITEMS: half each way, the rest to whichever side has more
    keep_a = min(len(a_right), max(MAX_DIFF_ITEMS // 2, MAX_DIFF_ITEMS - len(b_right)))
    keep_b = min(len(b_right), MAX_DIFF_ITEMS - keep_a)
    shown = sorted(
        [("a-right", i) for i in a_right[:keep_a]] + [("b-right", i) for i in b_right[:keep_b]],
        key=lambda item: _sort_key(item[1]),
    )
    total = len(a_right) + len(b_right)
    capped = (
        f'<p class="cap-note">Showing {len(shown)} of {total} items (at most {MAX_DIFF_ITEMS} per pair: '
        f"the first {keep_a} of {len(a_right)} and {keep_b} of {len(b_right)} by id).</p>"
        if len(shown) < total
        else ""
    )
    items = [_diff_item(kind, a, b, by_a[i], by_b[i]) for kind, i in shown]
    controls = (
        f'<div class="controls"><label>show <select class="diff-filter" data-pair="{pair_id}">'
        f'<option value="all">all ({_of(len(shown), total)})</option>'
        f'<option value="a-right">{_e(a)} right, {_e(b)} wrong ({_of(keep_a, len(a_right))})</option>'
        f'<option value="b-right">{_e(b)} right, {_e(a)} wrong ({_of(keep_b, len(b_right))})</option>'
        "</select></label> "
        f'<input type="search" class="diff-search" data-pair="{pair_id}" placeholder="filter by id or text">'
        f' <button type="button" class="expand" data-pair="{pair_id}">expand all</button>'
        f' <button type="button" class="collapse" data-pair="{pair_id}">collapse all</button>'
        f' <span class="shown-count" data-pair="{pair_id}">{len(shown)} items</span></div>'
    )
    empty = "" if items else '<p class="missing">No item where exactly one of the two runs is right.</p>'
    return (
        f'<div class="pair" id="{pair_id}" data-a="{_e(a)}" data-b="{_e(b)}">'
        f"<h3>{_e(a)} vs {_e(b)}</h3>"
        f'<p class="pair-counts">{len(shared)} shared items: <b>{len(a_right)}</b> {_e(a)} right and {_e(b)} '
        f"wrong, <b>{len(b_right)}</b> {_e(b)} right and {_e(a)} wrong.</p>"
        f'{capped}{controls if items else ""}<div class="diff-list">{"".join(items)}</div>{empty}</div>'
    )


def _diffs_section(
    report: ComparisonReport, labels: list[str], samples: dict[str, list[SampleRecord]]
) -> str:
    blocks = [_pair_block(i, a, b, samples) for i, (a, b) in enumerate(_pairs(report))]
    intro = (
        "Per pair of runs, the items where one run's final answer is right (<code>correct</code>) and "
        "the other's wrong: question, gold answer and both rationales side by side, with the equations "
        "step_arithmetic found wrong, the numbers number_grounding found unsourced and the first step "
        "any rule metric flags (its line of the rationale, and which metrics flag it). Where the two "
        "rationales share lines, the lines that differ are highlighted."
    )
    return _section("diffs", "Per-sample diffs", intro, blocks)


# ------------------------------------------------------------------------------------ style, script

_CSS = """
:root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --bg2: #f6f8fa; --accent: #0969da;
  --pos: #1a7f37; --pos-l: #dafbe1; --neg: #cf222e; --neg-l: #ffebe9; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; font: 14px/1.45 system-ui, -apple-system,
  "Segoe UI", "Liberation Sans", "DejaVu Sans", Arial, sans-serif; }
header { padding: 18px 32px 10px; border-bottom: 1px solid var(--line); background: var(--bg2); }
h1 { margin: 0 0 4px; font-size: 22px; }
h2 { font-size: 18px; margin: 0 0 4px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 14px 0 6px; }
h4 { font-size: 13px; margin: 12px 0 4px; }
.subtitle { margin: 0 0 8px; color: var(--muted); }
nav a { color: var(--accent); text-decoration: none; margin-right: 14px; font-size: 13px; }
nav a:hover { text-decoration: underline; }
main { padding: 8px 32px 24px; max-width: 1400px; }
section { margin: 22px 0 28px; }
.intro, .legend, .note, .cap-note, .muted { color: var(--muted); }
.intro { margin: 4px 0 10px; }
.legend, .note, .cap-note { font-size: 12px; }
footer { padding: 12px 32px 24px; color: var(--muted); font-size: 12px; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, monospace;
  font-size: 12px; }
table { border-collapse: collapse; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: var(--bg2); font-weight: 600; white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
.path code { color: var(--muted); word-break: break-all; }
.missing { color: var(--muted); font-style: italic; }
.summary-table td { white-space: nowrap; }
.summary-table .mean { font-weight: 500; }
.summary-table .best .mean { font-weight: 700; }
.summary-table .ci { color: var(--muted); font-size: 12px; }
.summary-table .n { display: block; color: var(--muted); font-size: 11px; }
.comparisons-table th, .comparisons-table td { white-space: nowrap; padding: 4px 8px; }
.comparisons-table tr.pair-head th { background: #fff; border-bottom: 1px solid #afb8c1;
  padding-top: 12px; font-size: 13px; }
.comparisons-table tr.pair-head .muted { font-weight: 400; font-size: 12px; }
.comparisons-table tr.sig td:first-child { box-shadow: inset 3px 0 0 var(--accent); }
.comparisons-table tr.sig.better .delta { color: var(--pos); font-weight: 600; }
.comparisons-table tr.sig.worse .delta { color: var(--neg); font-weight: 600; }
.comparisons-table .first-step { display: block; color: var(--muted); font-size: 11px; }
.comparisons-table tr.nonsig { color: #444c56; }
.comparisons-table .test { color: var(--muted); font-size: 12px; }
.sigmark { text-align: center; }
.yes { color: var(--pos); font-weight: 700; }
.pairing { margin-top: 8px; font-size: 13px; }
.grid { display: flex; flex-wrap: wrap; gap: 16px 28px; align-items: flex-start; }
figure { margin: 0; }
figcaption { font-weight: 600; margin: 0 0 6px; }
.sig-matrix th, .sig-matrix td { text-align: center; padding: 5px 10px; border: 1px solid #fff; }
.sig-matrix tbody th { text-align: right; background: var(--bg2); }
.sig-matrix .corner { color: var(--muted); font-weight: 400; font-size: 11px; }
.sig-matrix td { font-variant-numeric: tabular-nums; min-width: 76px; }
.pos.sig { background: var(--pos); color: #fff; font-weight: 600; }
.pos.nonsig { background: var(--pos-l); }
.neg.sig { background: var(--neg); color: #fff; font-weight: 600; }
.neg.nonsig { background: var(--neg-l); }
.zero, .diag, .na { background: #eef1f4; color: var(--muted); }
.key { display: inline-block; padding: 1px 8px; border-radius: 3px; margin-right: 4px; }
.ci-plot { display: block; overflow: visible; }
.ci-plot .grid { stroke: #e6e9ed; stroke-width: 1; }
.ci-plot .axis { stroke: #8c959f; stroke-width: 1; }
.ci-plot .baseline { stroke: #8c959f; stroke-width: 1; stroke-dasharray: 3 3; }
.ci-plot text { font-size: 12px; fill: var(--fg); font-family: inherit; }
.ci-plot .tick, .ci-plot .ci-text { fill: var(--muted); font-size: 11px; }
.ci-plot .errorbar line { stroke-width: 2.2; stroke-linecap: round; }
.ci-plot .errorbar circle { stroke: #fff; stroke-width: 1.5; }
.grid.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 16px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 4px 16px 12px; }
.card h3 { margin-top: 10px; }
.hist { width: 100%; }
.hist th, .hist td { padding: 2px 8px; border: 0; }
.hist tbody th { font-weight: 400; color: var(--muted); width: 40px; text-align: right; }
.hist td.num { width: 50px; }
.barcell { width: 70%; }
.bar { display: block; height: 13px; border-radius: 2px; min-width: 1px; }
.ungrounded th, .ungrounded td { padding: 2px 10px; }
.pair { border-top: 1px solid var(--line); padding-top: 4px; margin-top: 10px; }
.controls { margin: 8px 0; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.controls select, .controls input, .controls button { font: inherit; font-size: 13px; padding: 3px 6px; }
.shown-count { color: var(--muted); font-size: 12px; }
.diff-item { border: 1px solid var(--line); border-radius: 6px; margin: 6px 0; background: #fff; }
.diff-item > summary { cursor: pointer; padding: 6px 10px; list-style-position: inside;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.diff-item[open] > summary { border-bottom: 1px solid var(--line); background: var(--bg2); }
.badge { display: inline-block; font-size: 11px; padding: 1px 7px; border-radius: 10px; margin-right: 6px; }
.badge.a-right { background: #ddf4ff; color: #0550ae; }
.badge.b-right { background: #fff8c5; color: #7d4e00; }
.q-short { color: var(--muted); }
.diff-body { padding: 8px 12px 12px; }
.question { margin: 0 0 6px; }
.gold { margin: 0 0 8px; }
.side-by-side { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.side { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; min-width: 0; }
.side-head { margin-bottom: 4px; }
.side pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 4px 0; background: var(--bg2);
  padding: 6px 8px; border-radius: 4px; max-height: 420px; overflow-y: auto; }
.side pre .changed { background: #fff8c5; }
.ok { color: var(--pos); font-weight: 600; }
.bad { color: var(--neg); font-weight: 600; }
.flags { margin: 4px 0 0; padding-left: 18px; font-size: 12px; color: #7d4e00; }
.first-error { margin: 4px 0 0; font-size: 12px; color: #7d4e00; }
.first-error.none { color: var(--muted); }
[hidden] { display: none !important; }
"""

_SCRIPT = """
(function () {
  "use strict";
  function update(pairId) {
    var pair = document.getElementById(pairId);
    if (!pair) { return; }
    var select = pair.querySelector("select.diff-filter");
    var search = pair.querySelector("input.diff-search");
    var kind = select ? select.value : "all";
    var text = search ? search.value.trim().toLowerCase() : "";
    var shown = 0;
    pair.querySelectorAll("details.diff-item").forEach(function (item) {
      var visible = (kind === "all" || item.getAttribute("data-kind") === kind) &&
        (!text || item.textContent.toLowerCase().indexOf(text) !== -1);
      item.hidden = !visible;
      if (visible) { shown += 1; }
    });
    var count = pair.querySelector(".shown-count");
    if (count) { count.textContent = shown + " shown"; }
  }
  document.querySelectorAll("select.diff-filter, input.diff-search").forEach(function (el) {
    el.addEventListener("input", function () { update(el.getAttribute("data-pair")); });
    el.addEventListener("change", function () { update(el.getAttribute("data-pair")); });
  });
  document.querySelectorAll("button.expand, button.collapse").forEach(function (button) {
    button.addEventListener("click", function () {
      var pair = document.getElementById(button.getAttribute("data-pair"));
      var open = button.classList.contains("expand");
      pair.querySelectorAll("details.diff-item").forEach(function (item) {
        if (!item.hidden) { item.open = open; }
      });
    });
  });
  document.querySelectorAll(".pair").forEach(function (pair) { update(pair.id); });
  document.documentElement.setAttribute("data-js", "ready");
})();
"""
