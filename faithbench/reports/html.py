"""A comparison report as ONE self-contained HTML file: inline CSS, inline JS, inline SVG plots.

Nothing is fetched (see `page.py`: the Content-Security-Policy, the style sheet and script shipped
as package data, escaping). Sections (ids are stable; tests and users link to them):

* `#runs`        the runs compared, with the colour each has in the plots;
* `#summary`     per metric and run: mean and 95% CI from the run's summary.json;
* `#comparisons` every pairwise test of the report: delta, CI, p, adjusted p, McNemar b/c, MDE;
* `#matrix`      per metric, runs x runs, cells coloured by the sign of the delta and significance;
* `#plots`       per metric, an SVG of each run's mean with its CI as an error bar (`svg.py`);
* `#failures`    per run, where the faithfulness failures are: first wrong step positions, first
                 flagged step positions (the process verdict) and ungrounded numbers (`samples.py`);
* `#diffs`       per pair, the items one run got right and the other wrong, side by side, with each
                 side's first flagged step (`samples.py`).

`process_error` (the share of samples where a rule metric flags a step) is a row like the metrics,
its summary computed from the samples; lower is better there, and colours follow that.
"""

from __future__ import annotations

from collections.abc import Mapping

from faithbench.compare.compare import LoadedRun, process_error
from faithbench.compare.schema import PROCESS_ERROR, ComparisonReport
from faithbench.harness.store import RunDir
from faithbench.reports.page import PALETTE, document, esc, nav
from faithbench.reports.samples import diffs_section, failures_section
from faithbench.reports.sections import (
    Scores,
    comparisons_section,
    correction,
    matrix_section,
    plots_section,
    runs_section,
    summary_section,
)
from faithbench.stats import MetricSummary, summarize


def comparison_html(report: ComparisonReport, runs: Mapping[str, LoadedRun | RunDir]) -> str:
    """The whole report as one HTML document. `runs` maps each run label of `report` to the run as
    `load_runs` read it for the comparison (`compare_loaded`), so nothing is read again; a run
    directory is read here. A label without a run is shown without its summary and samples."""
    labels = [r.label for r in report.runs]
    n_sig = sum(c.significant for c in report.comparisons)
    task = ", ".join(sorted({r.task for r in report.runs})) or "-"
    body = [
        "<header>",
        "<h1>faithbench comparison</h1>",
        f'<p class="subtitle">{len(labels)} runs on <b>{esc(task)}</b> &middot; {len(report.comparisons)} '
        f"comparisons, <b>{n_sig}</b> significant after {esc(correction(report))} adjustment at "
        f"&alpha; = {report.alpha:g}</p>",
        nav(),
        "</header>",
        "<main>",
        *comparison_sections(report, runs),
        "</main>",
        "<footer>Made by faithbench. Self-contained: this file loads nothing from a network.</footer>",
    ]
    return document(f"faithbench comparison: {', '.join(labels)}", body)


def comparison_sections(report: ComparisonReport, runs: Mapping[str, LoadedRun | RunDir]) -> list[str]:
    """The comparison report's sections (`#runs` to `#diffs`), for pages that embed them."""
    labels = [r.label for r in report.runs]
    loaded = {label: _loaded(runs[label], label) for label in labels if label in runs}
    colours = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}
    samples = {label: list(run.samples.values()) for label, run in loaded.items()}
    scores: dict[str, dict[str, MetricSummary]] = {
        label: {name: MetricSummary.model_validate(m.model_dump()) for name, m in run.summary.metrics.items()}
        for label, run in loaded.items()
        if run.summary is not None
    }
    metrics = _metrics(report, scores)
    if PROCESS_ERROR in metrics:  # summary.json has none: share of samples with a flagged step, Wilson CI
        for label, table in scores.items():
            table[PROCESS_ERROR] = summarize([process_error(r) for r in samples[label]], binary=True)
    return [
        runs_section(report.runs, colours, loaded),
        summary_section(labels, metrics, scores, colours),
        comparisons_section(report),
        matrix_section(report, labels, metrics),
        plots_section(labels, metrics, scores, colours),
        failures_section(labels, samples, colours),
        diffs_section(_pairs(report), samples),
    ]


def _loaded(run: LoadedRun | RunDir, label: str) -> LoadedRun:
    return run if isinstance(run, LoadedRun) else LoadedRun.load(run.path, label)


def _metrics(report: ComparisonReport, scores: Scores) -> list[str]:
    """The metrics compared, in report order; without comparisons, every metric of the summaries."""
    names = list(dict.fromkeys(c.metric for c in report.comparisons))
    if names:
        return names
    return list(dict.fromkeys(m for table in scores.values() for m in table))


def _pairs(report: ComparisonReport) -> list[tuple[str, str]]:
    pairs = list(dict.fromkeys((c.a, c.b) for c in report.comparisons))
    if pairs:
        return pairs
    labels = [r.label for r in report.runs]
    return [(a, b) for i, a in enumerate(labels) for b in labels[i + 1 :]]
