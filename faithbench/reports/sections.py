"""The HTML report's sections on the runs and the tests: runs, summary table, comparisons,
significance matrix and the plots of means with CIs (section ids are stable: tests and users link
to them)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from faithbench.compare.schema import LOWER_IS_BETTER, Comparison, ComparisonReport, RunRef, row_label
from faithbench.reports.page import ci, esc, num, p_value, section, signed, swatch
from faithbench.reports.svg import ci_plot
from faithbench.stats import MetricSummary

CORRECTIONS = {"holm": "Holm", "bh": "Benjamini-Hochberg"}
Scores = Mapping[str, Mapping[str, MetricSummary]]  # run label -> metric -> mean and CI


def correction(report: ComparisonReport) -> str:
    return CORRECTIONS.get(report.correction, report.correction)


def runs_section(refs: Sequence[RunRef], colours: Mapping[str, str], given: Collection[str]) -> str:
    rows = [
        "<tr>"
        f'<td class="label">{swatch(colours[r.label])}{esc(r.label)}</td>'
        f"<td><code>{esc(r.model)}</code></td><td>{esc(r.task)}</td>"
        f'<td class="num">{r.n_samples}</td><td class="path"><code>{esc(r.path)}</code></td>'
        f"<td>{'' if r.label in given else 'run directory not given'}</td>"
        "</tr>"
        for r in refs
    ]
    table = (
        '<table class="runs-table"><thead><tr><th>run</th><th>model</th><th>task</th>'
        '<th class="num">samples</th><th>path</th><th></th></tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table>"
    )
    return section("runs", "Runs", "The runs compared; each keeps its colour in every plot.", [table])


def summary_section(
    labels: Sequence[str], metrics: Sequence[str], scores: Scores, colours: Mapping[str, str]
) -> str:
    head = "".join(f'<th class="num">{swatch(colours[label])}{esc(label)}</th>' for label in labels)
    rows = []
    for metric in metrics:
        means = [
            m.mean
            for label in labels
            if (m := scores.get(label, {}).get(metric)) is not None and m.mean is not None
        ]
        top = min(means, default=None) if metric in LOWER_IS_BETTER else max(means, default=None)
        best = top if len(means) > 1 and max(means) > min(means) else None
        cells = []
        for label in labels:
            m = scores.get(label, {}).get(metric)
            if m is None:
                cells.append('<td class="num missing">not scored</td>')
                continue
            tip = f"n = {m.n} scored, {m.n_unscored} unscored; CI: {m.ci_method}"
            cls = "num best" if best is not None and m.mean == best else "num"
            cells.append(
                f'<td class="{cls}" title="{esc(tip)}"><span class="mean">{num(m.mean)}</span> '
                f'<span class="ci">{ci(m.ci_low, m.ci_high)}</span>'
                f'<span class="n">n={m.n}{f", {m.n_unscored} unscored" if m.n_unscored else ""}</span></td>'
            )
        head_cell = f'<th scope="row">{esc(row_label(metric))}</th>'
        rows.append(f'<tr data-metric="{esc(metric)}">{head_cell}{"".join(cells)}</tr>')
    table = (
        f'<table class="summary-table"><thead><tr><th>metric</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    intro = (
        "Each run on its own: mean and 95% confidence interval from its <code>summary.json</code> "
        "(over the samples the metric scored); the best mean of a metric is in bold (the highest; "
        "for process_error, computed from the samples, the lowest)."
    )
    return section("summary", "Summary", intro, [table])


def comparisons_section(report: ComparisonReport) -> str:
    rows = []
    previous: tuple[str, str] | None = None
    for c in report.comparisons:
        if (c.a, c.b) != previous:
            previous = (c.a, c.b)
            rows.append(
                f'<tr class="pair-head"><th colspan="12"><span class="b">{esc(c.b)}</span> vs '
                f'<span class="a">{esc(c.a)}</span> '
                f'<span class="muted">(A = {esc(c.a)}, B = {esc(c.b)})</span>'
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
            f'data-metric="{esc(c.metric)}" data-a="{esc(c.a)}" data-b="{esc(c.b)}">'
            f'<td>{esc(row_label(c.metric))}</td><td class="num">{c.n}</td>'
            f'<td class="num">{num(c.mean_a)}{_first_step(c.first_step_a)}</td>'
            f'<td class="num">{num(c.mean_b)}{_first_step(c.first_step_b)}</td>'
            f'<td class="num delta" title="{esc(r_tip)}">{signed(c.delta)}</td>'
            f'<td class="num">{ci(c.ci_low, c.ci_high, True)}</td>'
            f'<td class="num" title="{esc(test_tip)}">{p_value(c.p_value)}</td>'
            f'<td class="num">{p_value(c.p_adjusted)}</td><td class="sigmark">{sig}</td>'
            f'<td class="num">{mcnemar}</td><td class="num">{num(c.mde)}</td>'
            f'<td class="test" title="{esc(test_tip)}">{test}</td></tr>'
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
        f"p adj.: {esc(correction(report))} across all {len(report.comparisons)} comparisons; "
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
            f"<li><b>{esc(note.a)}</b> vs <b>{esc(note.b)}</b>: {len(note.only_in_a)} ids only in "
            f"{esc(note.a)}{_ids(note.only_in_a)}, {len(note.only_in_b)} only in {esc(note.b)}"
            f"{_ids(note.only_in_b)}; dropped from this pair.</li>"
        )
    pairing = f'<div class="pairing"><h3>Pairing notes</h3><ul>{"".join(notes)}</ul></div>' if notes else ""
    intro = "Every pair of runs on every metric, tested on the items both runs scored (paired by id)."
    return section("comparisons", "Comparisons", intro, [table, legend, pairing])


def _first_step(step: float | None) -> str:
    if step is None:
        return ""
    return f'<span class="first-step" title="mean first flagged step">step {step:.2f}</span>'


def _ids(ids: list[str], limit: int = 8) -> str:
    if not ids:
        return ""
    shown = ", ".join(esc(i) for i in ids[:limit])
    return f" ({shown}{', &hellip;' if len(ids) > limit else ''})"


def matrix_section(report: ComparisonReport, labels: Sequence[str], metrics: Sequence[str]) -> str:
    by_key: dict[tuple[str, str, str], Comparison] = {(c.metric, c.a, c.b): c for c in report.comparisons}
    blocks = []
    for metric in metrics:
        head = "".join(f'<th class="col">{esc(label)}</th>' for label in labels)
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
                cells.append(f'<td class="{kind}" title="{esc(tip)}">{signed(delta)}{star}</td>')
            rows.append(f'<tr><th scope="row">{esc(row)}</th>{"".join(cells)}</tr>')
        blocks.append(
            f'<figure class="matrix-block" data-metric="{esc(metric)}"><figcaption>{esc(row_label(metric))}'
            f"{' (lower is better)' if metric in LOWER_IS_BETTER else ''}</figcaption>"
            f'<table class="sig-matrix" data-metric="{esc(metric)}"><thead><tr>'
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
    return section(
        "matrix", "Pairwise significance matrix", intro, [legend, '<div class="grid">', *blocks, "</div>"]
    )


def plots_section(
    labels: Sequence[str], metrics: Sequence[str], scores: Scores, colours: Mapping[str, str]
) -> str:
    plots = [
        ci_plot(metric, labels, {label: scores.get(label, {}).get(metric) for label in labels}, colours)
        for metric in metrics
    ]
    intro = (
        "Per metric: each run's mean (dot) and 95% CI (error bar) from its summary. The axis is zoomed "
        "to the data; overlapping bars do not mean &ldquo;no difference&rdquo; &mdash; the paired tests "
        "above are the ones to read."
    )
    return section("plots", "Means with 95% CIs", intro, ['<div class="grid plots">', *plots, "</div>"])
