"""One run as Markdown (`faithbench report RUN --markdown OUT`): the summary with CIs, each metric's
distribution, where the failures sit, and the samples a metric flagged with what it found (capped;
the HTML page shows every sample). Tables come from `faithbench.reports.table`; model text is put in
code spans, so Markdown in it is not rendered."""

from __future__ import annotations

from pathlib import Path

from faithbench.harness.store import RunDir
from faithbench.reports.failures import TOP_UNGROUNDED
from faithbench.reports.markdown import code, num
from faithbench.reports.run_view import BINS, RunView, SampleView, run_view
from faithbench.reports.table import Row, markdown_table

MAX_SAMPLES = 50  # flagged samples listed


def run_markdown(run: RunDir | str | Path) -> str:
    view = run_view(run if isinstance(run, RunDir) else RunDir(run))
    info = view.info
    n_correct = sum(s.record.correct for s in view.samples)
    lines = [
        f"### faithbench run: {code(view.label)}",
        "",
        f"{code(info.task)} · model {code(info.model)} · {len(view.samples)} samples, {n_correct} "
        f"answered correctly · {info.status}",
        "",
        "#### Summary",
        "",
        markdown_table(
            [("metric", "mean", "95% CI", "n", "unscored")]
            + [
                (name, num(m.mean), _ci(m.ci_low, m.ci_high), str(m.n), str(m.n_unscored))
                for name, m in view.summaries.items()
            ],
            "lrrrr",
        ),
        "",
        "#### Distributions",
        "",
        *_distributions(view),
        "",
        "#### Where failures sit",
        "",
        *_failures(view),
        "",
        *_flagged(view),
    ]
    return "\n".join(lines).rstrip() + "\n"


def _ci(low: float | None, high: float | None) -> str:
    return "–" if low is None or high is None else f"[{low:.3f}, {high:.3f}]"


def _distributions(view: RunView) -> list[str]:
    binary = [d for d in view.distributions if d.binary]
    other = [d for d in view.distributions if not d.binary]
    out: list[str] = []
    if binary:
        rows: list[Row] = [("0/1 metric", "1", "0", "unscored")]
        rows += [(d.metric, str(d.counts["1"]), str(d.counts["0"]), str(d.n_unscored)) for d in binary]
        out += [markdown_table(rows, "lrrr"), ""]
    if other:
        rows = [("metric", *BINS, "unscored")]
        rows += [(d.metric, *(str(d.counts[b]) for b in BINS), str(d.n_unscored)) for d in other]
        out += [markdown_table(rows, "l" + "r" * (len(BINS) + 1)), ""]
    return out


def _steps(counts: dict[int, int]) -> str:
    return ", ".join(f"step {s}: {n}" for s, n in sorted(counts.items())) or "none"


def _failures(view: RunView) -> list[str]:
    f = view.failures
    out = [
        f"- first wrong step (step_arithmetic, {sum(f.first_wrong.values())} of {f.arith_scored} scored "
        f"samples): {_steps(f.first_wrong)}",
        f"- first flagged step (any rule metric, {sum(f.first_flagged.values())} of {f.process_judged}): "
        f"{_steps(f.first_flagged)}",
        f"- samples with an ungrounded number: {f.with_ungrounded} of {f.grounding_scored}; most frequent: "
        + (
            ", ".join(f"{code(n)} ({c} uses)" for n, c in f.ungrounded_uses.most_common(TOP_UNGROUNDED))
            or "none"
        ),
    ]
    if f.unscored:
        rows = [("metric", "unscored because", "samples")]
        rows += [
            (metric, code(reason), str(count))
            for metric, reasons in f.unscored.items()
            for reason, count in reasons.most_common()
        ]
        out += ["", markdown_table(rows, "llr")]
    return out


def _flagged(view: RunView) -> list[str]:
    flagged = [s for s in view.samples if _findings(s)]
    if not flagged:
        return ["No sample has a wrong equation, an ungrounded number or an underived answer."]
    shown = flagged[:MAX_SAMPLES]
    head = f"#### Flagged samples ({len(flagged)}" + (
        f", the first {len(shown)} listed)" if len(shown) < len(flagged) else ")"
    )
    out = [head, ""]
    for s in shown:
        r = s.record
        mark = "✓" if r.correct else "✗"
        out.append(
            f"- {code(r.id)} {mark} answer {code(r.answer if r.answer is not None else 'none')}, gold "
            f"{code(r.target)}: " + "; ".join(_findings(s))
        )
    return out


def _findings(sample: SampleView) -> list[str]:
    found = []
    for step in sample.steps:
        for m in step.marks:
            text = step.text[m.start : m.end]
            if m.kind == "wrong":
                found.append(f"step {step.number} {code(text)} computes {code(m.computed or '?')}")
            elif m.kind == "ungrounded":
                found.append(f"step {step.number} ungrounded {code(text)}")
        for kind, text in step.tags:
            if kind in ("wrong", "ungrounded", "underived"):
                found.append(f"step {step.number}: {code(text)}")
    found += [code(text) for kind, text in sample.notes if kind in ("wrong", "ungrounded", "underived")]
    return found
