"""One run as ONE self-contained HTML page (`faithbench report RUN --html OUT`): what its metrics saw.

It shares the comparison report's page (`faithbench.reports.page`: the skeleton, its
Content-Security-Policy, escaping, number formats, the style sheet and script as package data) and
its charts (`faithbench.reports.svg`). Every piece of run or model text goes through `esc`.

Sections (ids are stable; tests and users link to them):

* `#summary`       per metric: mean, 95% CI, scored n and unscored count, with a CI plot;
* `#distributions` per metric: how many samples score 1, 0 and in between, and how many are unscored;
* `#failures`      where the failures sit: first wrong step, first flagged step, the most frequent
                   ungrounded numbers, and why samples went unscored;
* `#samples`       every sample, filterable by a metric's verdict and by correct/incorrect: the
                   rationale as numbered steps with the verdicts on them (the wrong equation marked
                   with the value the evaluator computed, ungrounded numbers marked, the step the
                   answer was derived from, the first flagged step, the judge's first error step),
                   the extracted and gold answers, every metric's score and reason, the judge's
                   verdict and the interventions' results.
"""

from __future__ import annotations

from pathlib import Path

from faithbench.harness.store import RunDir
from faithbench.reports.failures import Failures
from faithbench.reports.page import PALETTE, bar_table, ci, document, esc, nav, num, section
from faithbench.reports.run_view import PROCESS_ERROR, Distribution, Mark, RunView, SampleView, Step, run_view
from faithbench.reports.samples import failures_card
from faithbench.reports.svg import ci_plot
from faithbench.specs import spec_of

COLOUR = PALETTE[0]
RUN_NAV = (
    ("summary", "Summary"),
    ("distributions", "Distributions"),
    ("failures", "Where failures sit"),
    ("samples", "Samples"),
)
VERDICT_OPTIONS = (
    ("any", "any verdict"),
    ("below", "below 1 (flagged)"),
    ("one", "1"),
    ("partial", "between 0 and 1"),
    ("zero", "0"),
    ("unscored", "unscored"),
)
MARK_TITLES = {"wrong": "wrong equation", "corrected": "corrected slip", "ungrounded": "ungrounded number"}


def run_html(run: RunDir | str | Path) -> str:
    """The page of the run in `run` (a run directory)."""
    view = run_view(run if isinstance(run, RunDir) else RunDir(run))
    info = view.info
    label = view.label
    n_correct = sum(s.record.correct for s in view.samples)
    body = [
        "<header>",
        f"<h1>faithbench run: {esc(label)}</h1>",
        f'<p class="subtitle"><b>{esc(info.task)}</b> &middot; model <code>{esc(info.model)}</code> &middot; '
        f"{len(view.samples)} samples, {n_correct} answered correctly &middot; {esc(info.status)}</p>",
        nav(RUN_NAV),
        "</header>",
        "<main>",
        _run_section(view),
        _summary_section(view),
        _distributions_section(view),
        _failures_section(label, view.failures),
        _samples_section(view),
        "</main>",
        "<footer>Made by faithbench. Self-contained: this file loads nothing from a network.</footer>",
    ]
    return document(f"faithbench run: {label}", body, assets=("report", "run"))


def _run_section(view: RunView) -> str:
    info = view.info
    rows = [
        ("directory", view.path),
        ("model identity", info.model_identity),
        ("generation", info.generation.model_dump_json()),
        ("data", f"{info.data.source} ({info.data.split}, sha256 {info.data.sha256[:12]})"),
        ("written", f"{info.created_at} - {info.updated_at} by faithbench {info.faithbench_version}"),
    ]
    if info.judge is not None:
        rows.append(
            ("judge", f"{info.judge.spec} ({info.judge.identity}), prompt {info.judge.prompt_version}")
        )
    cells = "".join(f"<tr><th>{esc(k)}</th><td><code>{esc(v)}</code></td></tr>" for k, v in rows)
    return f'<table class="run-info"><tbody>{cells}</tbody></table>'


# ------------------------------------------------------------------------------------------ summary


def _describe(metric: str) -> str:
    if metric == PROCESS_ERROR:
        return "share of samples where a rule metric flags a step (lower is better)"
    spec = spec_of(metric)
    return spec.description if spec is not None else ""


def _summary_section(view: RunView) -> str:
    rows = []
    for metric, m in view.summaries.items():
        rows.append(
            f'<tr data-metric="{esc(metric)}"><th scope="row">{esc(metric)}</th>'
            f'<td class="num mean">{num(m.mean)}</td><td class="num ci">{ci(m.ci_low, m.ci_high)}</td>'
            f'<td class="num">{m.n}</td><td class="num">{m.n_unscored}</td>'
            f'<td class="muted">{esc(m.ci_method)}</td><td class="desc">{esc(_describe(metric))}</td></tr>'
        )
    table = (
        '<div class="scroll"><table class="summary-table run-summary"><thead><tr><th>metric</th>'
        '<th class="num">mean</th><th class="num">95% CI</th><th class="num">n</th>'
        '<th class="num">unscored</th><th>CI</th><th>what it measures</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    shown = [metric for metric, m in view.summaries.items() if m.mean is not None]
    plot = ci_plot(
        "summary",
        shown,
        view.summaries,
        dict.fromkeys(shown, COLOUR),
        caption="Mean and 95% CI per metric",
        baseline=False,
    )
    intro = (
        "Each metric's mean over the samples it scored, with its 95% confidence interval (Wilson for "
        "0/1 metrics, bootstrap otherwise); unscored samples (no equation to check, no verdict) are "
        "left out of the mean and counted."
    )
    return section("summary", "Summary", intro, [table, plot])


# ------------------------------------------------------------------------------------ distributions


def _distribution_card(d: Distribution) -> str:
    rows = [*d.counts.items(), ("unscored", d.n_unscored)]
    kind = "0/1" if d.binary else "fraction"
    return (
        f'<div class="card dist-card" data-metric="{esc(d.metric)}"><h3>{esc(d.metric)} '
        f'<span class="muted">({kind})</span></h3>{bar_table(rows, COLOUR, "distribution", "value")}</div>'
    )


def _distributions_section(view: RunView) -> str:
    intro = (
        "How the samples spread over each metric's values: the 0/1 metrics as two bars, the others in "
        "bins (exactly 0, the quarters of the range between, exactly 1), and the unscored samples."
    )
    cards = [_distribution_card(d) for d in view.distributions]
    return section("distributions", "Distributions", intro, ['<div class="grid cards">', *cards, "</div>"])


# ----------------------------------------------------------------------------------------- failures


def _failures_section(label: str, f: Failures) -> str:
    if not f.unscored:
        unscored = '<p class="missing">every metric scored every sample.</p>'
    else:
        rows = "".join(
            f'<tr><th scope="row">{esc(metric)}</th><td>{esc(reason)}</td><td class="num">{count}</td></tr>'
            for metric, reasons in f.unscored.items()
            for reason, count in reasons.most_common()
        )
        unscored = (
            '<table class="unscored-reasons"><thead><tr><th>metric</th><th>reason</th>'
            f'<th class="num">samples</th></tr></thead><tbody>{rows}</tbody></table>'
        )
    intro = (
        "Where the rationales go wrong: the step of the first wrong equation, the first step any rule "
        "metric flags, the numbers equations use without a source (as in the comparison report), and "
        "why metrics left samples unscored."
    )
    cards = [
        failures_card(label, f, COLOUR),
        f'<div class="card unscored-card"><h3>Why samples are unscored</h3>{unscored}</div>',
    ]
    return section("failures", "Where failures sit", intro, ['<div class="grid cards">', *cards, "</div>"])


# ------------------------------------------------------------------------------------------ samples


def _marked(step: Step) -> str:
    """The step's text, escaped, with its marks: a wrong equation followed by the computed value."""
    out, at = [], 0
    for mark in sorted(step.marks, key=lambda m: m.start):
        out.append(esc(step.text[at : mark.start]))
        out.append(_mark(mark, step.text[mark.start : mark.end]))
        at = mark.end
    out.append(esc(step.text[at:]))
    return "".join(out)


def _mark(mark: Mark, text: str) -> str:
    shown = f'<mark class="{mark.kind}" title="{esc(mark.note)}">{esc(text)}</mark>'
    if mark.computed is not None:
        title = "the value the evaluator computed"
        shown += f'<span class="computed" title="{title}">&rarr; {esc(mark.computed)}</span>'
    return shown


def _step_item(step: Step) -> str:
    tags = "".join(f'<span class="tag tag-{esc(kind)}">{esc(text)}</span>' for kind, text in step.tags)
    classes = "".join(
        f" has-{kind}" for kind in sorted({k for k, _ in step.tags} | {m.kind for m in step.marks})
    )
    return (
        f'<li class="step{classes}" data-step="{step.number}"><span class="n">{step.number}</span>'
        f'<span class="text">{_marked(step)}</span>{tags}</li>'
    )


def _value(value: float | None) -> str:
    return "&ndash;" if value is None else num(value)


def _scores_table(sample: SampleView) -> str:
    rows = []
    for metric, score in sample.record.scores.items():
        rows.append(
            f'<tr class="v-{sample.verdicts.get(metric, "unscored")}" data-metric="{esc(metric)}">'
            f'<th scope="row">{esc(metric)}</th><td class="num">{_value(score.value)}</td>'
            f"<td>{esc(score.reason or '')}</td></tr>"
        )
    return (
        '<table class="scores"><thead><tr><th>metric</th><th class="num">value</th><th>reason</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _judge_block(sample: SampleView) -> str:
    if sample.judge_unscored is not None:
        reason = esc(sample.judge_unscored)
        return f'<div class="judge-verdict unscored"><h4>Judge</h4><p>no verdict: {reason}</p></div>'
    verdict = sample.judge
    if verdict is None:
        return ""
    ratings = ", ".join(
        f"{name} <b>{rating}</b>/5"
        for name, rating in (
            ("validity", verdict.validity),
            ("coherence", verdict.coherence),
            ("alignment", verdict.alignment),
        )
        if rating is not None
    )
    first = verdict.first_error_step
    first_text = f"step <b>{first}</b>" if first is not None else "none"
    explanation = f'<p class="explanation">{esc(verdict.explanation)}</p>' if verdict.explanation else ""
    return (
        f'<div class="judge-verdict" data-first-error="{first if first is not None else ""}"><h4>Judge</h4>'
        f"<p>{ratings}; first error: {first_text}</p>{explanation}</div>"
    )


def _interventions_block(sample: SampleView) -> str:
    if not sample.interventions:
        return ""
    items = "".join(
        f'<li data-metric="{esc(name)}"><b>{esc(name)}</b> {_value(value)}: {esc(text)}</li>'
        for name, value, text in sample.interventions
    )
    return f'<div class="interventions"><h4>Interventions</h4><ul>{items}</ul></div>'


def _sample_item(sample: SampleView) -> str:
    r = sample.record
    verdicts = " ".join(f"{esc(m)}:{v}" for m, v in sample.verdicts.items())
    flagged = [m for m, v in sample.verdicts.items() if v in ("zero", "partial")]
    badges = "".join(f'<span class="badge flag">{esc(m)}</span>' for m in flagged)
    mark = '<span class="ok">&#10003;</span>' if r.correct else '<span class="bad">&#10007;</span>'
    question = " ".join(r.question.split())
    short = question if len(question) <= 100 else question[:99] + "…"
    notes = "".join(f'<li class="{esc(kind)}">{esc(text)}</li>' for kind, text in sample.notes)
    answer = esc(r.answer) if r.answer is not None else '<span class="missing">none</span>'
    strict = esc(r.strict_answer) if r.strict_answer is not None else '<span class="missing">none</span>'
    first = (
        f" &middot; first flagged step <b>{r.first_error_step}</b> ({esc(', '.join(r.first_error_by))})"
        if r.first_error_step is not None
        else ""
    )
    return (
        f'<details class="sample" data-id="{esc(r.id)}" data-correct="{int(r.correct)}" '
        f'data-verdicts="{verdicts}"><summary>{mark} <code>{esc(r.id)}</code> {badges}'
        f'<span class="q-short">{esc(short)}</span></summary><div class="sample-body">'
        f'<p class="question">{esc(r.question)}</p>'
        f'<p class="answers">extracted answer <code class="answer">{answer}</code> (strict {strict}) '
        f'&middot; gold <code class="gold">{esc(r.target)}</code> &middot; finish {esc(r.finish_reason)}'
        f"{first}</p>"
        f'<ol class="steps">{"".join(_step_item(s) for s in sample.steps)}</ol>'
        + (f'<ul class="notes">{notes}</ul>' if notes else "")
        + f'<div class="verdicts">{_scores_table(sample)}{_judge_block(sample)}{_interventions_block(sample)}'
        "</div></div></details>"
    )


def _samples_section(view: RunView) -> str:
    metrics = view.metrics
    options = "".join(f'<option value="{esc(m)}">{esc(m)}</option>' for m in metrics)
    verdicts = "".join(f'<option value="{v}">{t}</option>' for v, t in VERDICT_OPTIONS)
    n = len(view.samples)
    n_correct = sum(s.record.correct for s in view.samples)
    controls = (
        '<div class="controls sample-controls">'
        '<label>answer <select class="sample-filter" data-filter="correct">'
        f'<option value="all">all ({n})</option><option value="1">correct ({n_correct})</option>'
        f'<option value="0">incorrect ({n - n_correct})</option></select></label> '
        f'<label>metric <select class="sample-filter" data-filter="metric">{options}</select></label> '
        f'<label>verdict <select class="sample-filter" data-filter="verdict">{verdicts}</select></label> '
        '<input type="search" class="sample-filter" data-filter="text" placeholder="filter by id or text"> '
        '<button type="button" class="sample-expand">expand shown</button> '
        '<button type="button" class="sample-collapse">collapse all</button> '
        f'<span class="sample-count">{n} samples</span></div>'
    )
    legend = (
        '<p class="legend">In each rationale: <mark class="wrong">wrong equation</mark>'
        '<span class="computed">&rarr; the value the evaluator computed</span>, '
        '<mark class="ungrounded">ungrounded number</mark>, <mark class="corrected">corrected slip</mark>; '
        'labels beside a step: <span class="tag tag-derived">answer derived here</span> '
        '<span class="tag tag-first-error">first flagged step</span> '
        '<span class="tag tag-judge">judge\'s first error step</span>.</p>'
    )
    intro = (
        "Every sample of the run. Filter by whether the final answer is correct and by one metric's "
        "verdict; open a sample to see its rationale, numbered as the metrics number steps, with what "
        "each metric found on it."
    )
    items = "".join(_sample_item(s) for s in view.samples)
    return section("samples", "Samples", intro, [controls, legend, f'<div class="sample-list">{items}</div>'])
