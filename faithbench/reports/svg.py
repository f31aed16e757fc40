"""The HTML report's charts: per metric, each run's mean with its 95% CI as an error bar, in SVG."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from faithbench.compare.schema import row_label
from faithbench.reports.page import esc
from faithbench.stats import MetricSummary

MIN_SPAN = 0.02  # the narrowest axis: a CI of width 0.001 should not fill the plot


def nice_step(span: float) -> float:
    for step in (0.001, 0.002, 0.0025, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0):
        if span / step <= 6:
            return step
    return 10 ** math.ceil(math.log10(span))


def axis(values: list[float]) -> tuple[float, float, float]:
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
    step = nice_step(hi - lo)
    lo = math.floor(lo / step + 1e-9) * step
    hi = math.ceil(hi / step - 1e-9) * step
    return lo, hi, step


def ci_plot(
    metric: str,
    labels: Sequence[str],
    scores: Mapping[str, MetricSummary | None],
    colours: Mapping[str, str],
    *,
    caption: str | None = None,
    baseline: bool = True,
) -> str:
    """One figure: a row per run (`labels`), its mean on `metric` and CI from `scores`. The run page
    draws one run's metrics as the rows instead: its `caption` replaces the metric's name, and
    `baseline=False` leaves out the dashed line at the first row's mean (the reference run's)."""
    caption = row_label(metric) if caption is None else caption
    points = []
    for label in labels:
        m = scores.get(label)
        if m is not None and m.mean is not None:
            low = m.ci_low if m.ci_low is not None else m.mean
            high = m.ci_high if m.ci_high is not None else m.mean
            points.append((label, m.mean, low, high))
    if not points:
        return (
            f'<figure class="plot" data-metric="{esc(metric)}">'
            f"<figcaption>{esc(caption)}</figcaption>"
            '<p class="missing">no run scored this metric</p></figure>'
        )
    lo, hi, step = axis([v for _, mean, low, high in points for v in (mean, low, high)])
    label_w, value_w, row_h, top, bottom = 130, 140, 30, 12, 34
    width = 570
    plot_w = width - label_w - value_w
    height = top + row_h * len(labels) + bottom

    def x(v: float) -> float:
        return label_w + (v - lo) / (hi - lo) * plot_w if hi > lo else label_w + plot_w / 2

    parts = [
        f'<svg class="ci-plot" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{esc(metric)}: mean and 95% CI per run">'
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
    if baseline and points[0][0] == labels[0] and len(labels) > 1:  # the first run's mean, for reference
        xb = x(points[0][1])
        parts.append(
            f'<line class="baseline" x1="{xb:.1f}" y1="{top - 4}" x2="{xb:.1f}" y2="{axis_y}">'
            f"<title>{esc(labels[0])} mean</title></line>"
        )
    by_label = {p[0]: p for p in points}
    for i, label in enumerate(labels):
        y = top + row_h * i + row_h / 2
        short = label if len(label) <= 20 else label[:19] + "…"
        parts.append(
            f'<text class="run-label" x="{label_w - 10}" y="{y + 4:.1f}" text-anchor="end">'
            f"<title>{esc(label)}</title>{esc(short)}</text>"
        )
        if label not in by_label:
            parts.append(f'<text class="value" x="{label_w + 6}" y="{y + 4:.1f}">not scored</text>')
            continue
        _, mean, low, high = by_label[label]
        colour = colours[label]
        x0, x1, xm = x(low), x(high), x(mean)
        parts.append(
            f'<g class="errorbar" data-run="{esc(label)}" stroke="{colour}">'
            f"<title>{esc(label)}: {mean:.3f} [{low:.3f}, {high:.3f}]</title>"
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
        f'<figure class="plot" data-metric="{esc(metric)}"><figcaption>{esc(caption)}</figcaption>'
        f"{''.join(parts)}</figure>"
    )
