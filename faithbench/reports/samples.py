"""The HTML report's sections on the samples: where each run's faithfulness failures are, and the
per-pair browser of the items one run got right and the other wrong, side by side.

The metrics' details are read through their typed models (`faithbench.metrics.details`)."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Mapping, Sequence

from faithbench.compare.compare import process_error
from faithbench.core import Completion
from faithbench.harness.schema import SampleRecord
from faithbench.metrics.details import NumberGroundingDetails, StepArithmeticDetails, read_details
from faithbench.parsing import parse_completion
from faithbench.reports.failures import MAX_HIST_STEP, TOP_UNGROUNDED, Failures, details_of, failures
from faithbench.reports.page import bar_table, esc, number, pct, section, sort_key, swatch

MAX_DIFF_ITEMS = 200  # items shown per pair in the diff browser
Samples = Mapping[str, Sequence[SampleRecord]]  # run label -> its samples


def failures_card(label: str, f: Failures, colour: str) -> str:
    """One run's card: first wrong step, first flagged step and ungrounded numbers."""
    parts = [
        f'<div class="card failures-card" data-run="{esc(label)}">',
        f"<h3>{swatch(colour)}{esc(label)}</h3>",
    ]
    parts.append('<h4>First wrong step <span class="muted">(step_arithmetic)</span></h4>')
    if f.arith_scored == 0:
        parts.append('<p class="missing">step_arithmetic scored no sample of this run.</p>')
    else:
        parts.append(
            f"<p><b>{f.n_wrong}</b> of {f.arith_scored} scored samples have a wrong equation "
            f"({pct(f.n_wrong, f.arith_scored)}); {f.n_samples - f.arith_scored} unscored.</p>"
        )
    if f.n_wrong:
        parts.append(step_hist(f.first_wrong, colour, "first-wrong-step"))
    parts.append(_process_part(f, colour))
    parts.append('<h4>Ungrounded numbers <span class="muted">(number_grounding)</span></h4>')
    if f.grounding_scored == 0:
        parts.append('<p class="missing">number_grounding scored no sample of this run.</p>')
    else:
        parts.append(
            f'<p class="ungrounded-count"><b>{f.with_ungrounded}</b> of {f.grounding_scored} scored samples '
            "compute with a number that is not in the question, an earlier result or a unit constant "
            f"({pct(f.with_ungrounded, f.grounding_scored)}).</p>"
        )
        if f.ungrounded_uses:
            rows = [
                f'<tr><td class="num">{esc(value)}</td><td class="num">{count}</td>'
                f'<td class="num">{f.ungrounded_samples[value]}</td></tr>'
                for value, count in f.ungrounded_uses.most_common(TOP_UNGROUNDED)
            ]
            parts.append(
                '<table class="ungrounded"><thead><tr><th class="num">number</th><th class="num">uses</th>'
                f'<th class="num">samples</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
            )
    parts.append("</div>")
    return "".join(parts)


def step_hist(steps: Counter[int], colour: str, kind: str) -> str:
    """Bars of samples per step (1-based; MAX_HIST_STEP and beyond share the last bar)."""
    rows = [
        (f"{MAX_HIST_STEP}+" if step == MAX_HIST_STEP else str(step), steps.get(step, 0))
        for step in range(1, max(max(steps), 1) + 1)
    ]
    return (
        bar_table(rows, colour, kind, "step")
        + '<p class="note">Step n is the n-th line of the rationale.</p>'
    )


def _process_part(f: Failures, colour: str) -> str:
    """The process verdict: how many samples have a flagged step, and at which first step."""
    head = '<h4>First flagged step <span class="muted">(any rule metric: process_error)</span></h4>'
    if not f.process_judged:
        return head + (
            '<p class="missing">no process verdict: no rule metric scored a sample, or the run '
            "predates first_error_step (rescore it with <code>faithbench score</code>).</p>"
        )
    text = (
        f'<p class="process-count"><b>{f.n_flagged}</b> of {f.process_judged} samples have a step flagged '
        f"by a rule metric ({pct(f.n_flagged, f.process_judged)}).</p>"
    )
    return head + text + (step_hist(f.first_flagged, colour, "first-error-step") if f.n_flagged else "")


def failures_section(labels: Sequence[str], samples: Samples, colours: Mapping[str, str]) -> str:
    cards = [
        failures_card(label, failures(samples[label]), colours[label])
        if label in samples
        else f'<div class="card"><h3>{esc(label)}</h3><p class="missing">run directory not given</p></div>'
        for label in labels
    ]
    intro = (
        "Where each run's rationales go wrong: at which step the first wrong equation is, at which "
        "step any rule metric first flags one, and which numbers its equations use without a source."
    )
    return section(
        "failures",
        "Where the faithfulness failures are",
        intro,
        ['<div class="grid cards">', *cards, "</div>"],
    )


def _flags(record: SampleRecord) -> str:
    items = []
    for wrong in read_details(StepArithmeticDetails, details_of(record, "step_arithmetic")).wrong:
        computed = wrong.computed
        items.append(
            f"<li>wrong equation: <code>{esc(wrong.equation)}</code>"
            f"{f' (left side = {esc(number(computed))})' if computed is not None else ''}</li>"
        )
    grounding = read_details(NumberGroundingDetails, details_of(record, "number_grounding"))
    numbers = [number(u.number) for u in grounding.ungrounded]
    if numbers:
        items.append(
            f"<li>ungrounded: {', '.join(f'<code>{esc(n)}</code>' for n in dict.fromkeys(numbers))}</li>"
        )
    if record.value("answer_consistency") == 0.0:
        items.append("<li>final answer not derived by any equation</li>")
    return f'<ul class="flags">{"".join(items)}</ul>' if items else ""


def _marked_lines(lines: list[str], changed: set[int]) -> str:
    """Escaped lines, those the other side lacks marked."""
    return "\n".join(
        f'<span class="changed">{esc(line)}</span>' if i in changed else esc(line)
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
        f'<details class="reasoning"><summary>reasoning</summary><pre>{esc(record.reasoning)}</pre></details>'
        if record.reasoning
        else ""
    )
    return (
        f'<div class="side"><div class="side-head"><b>{esc(label)}</b> {verdict} &middot; answer '
        f"<code>{esc(record.answer if record.answer is not None else '(none)')}</code></div>"
        f'{reasoning}<pre class="completion">{completion}</pre>{_flags(record)}{_first_error(record)}</div>'
    )


def _first_error(record: SampleRecord) -> str:
    """The sample's process verdict: its first flagged step, the metrics flagging it, the step's text."""
    verdict = process_error(record)
    if verdict is None:
        return ""
    if record.first_error_step is None:
        return '<p class="first-error none">no step flagged by a rule metric</p>'
    steps = parse_completion(Completion(text=record.completion, reasoning=record.reasoning)).steps
    index = record.first_error_step - 1
    text = f" <code>{esc(steps[index])}</code>" if 0 <= index < len(steps) else ""
    by = ", ".join(esc(name) for name in record.first_error_by) or "?"
    return (
        f'<p class="first-error" data-step="{record.first_error_step}">first flagged step '
        f"<b>{record.first_error_step}</b> ({by}):{text}</p>"
    )


def _diff_item(kind: str, a: str, b: str, ra: SampleRecord, rb: SampleRecord) -> str:
    badge = (
        f"{esc(a)} &#10003; {esc(b)} &#10007;"
        if kind == "a-right"
        else f"{esc(b)} &#10003; {esc(a)} &#10007;"
    )
    question = " ".join(ra.question.split())
    text_a, text_b = _line_diff(ra.completion, rb.completion)
    short = question if len(question) <= 110 else question[:109] + "…"
    return (
        f'<details class="diff-item" data-kind="{kind}" data-id="{esc(ra.id)}">'
        f'<summary><span class="badge {kind}">{badge}</span> <code>{esc(ra.id)}</code> '
        f'<span class="q-short">{esc(short)}</span></summary>'
        f'<div class="diff-body"><p class="question">{esc(ra.question)}</p>'
        f'<p class="gold">gold answer: <code>{esc(ra.target)}</code></p>'
        f'<div class="side-by-side">{_side(a, ra, text_a)}{_side(b, rb, text_b)}</div></div></details>'
    )


def _of(shown: int, total: int) -> str:
    return str(total) if shown == total else f"{shown} of {total}"


def _pair_block(index: int, a: str, b: str, samples: Samples) -> str:
    pair_id = f"pair-{index}"
    if a not in samples or b not in samples:
        return (
            f'<div class="pair" id="{pair_id}"><h3>{esc(a)} vs {esc(b)}</h3>'
            '<p class="missing">run directory not given</p></div>'
        )
    by_a = {r.id: r for r in samples[a]}
    by_b = {r.id: r for r in samples[b]}
    shared = sorted((i for i in by_a if i in by_b), key=sort_key)
    a_right = [i for i in shared if by_a[i].correct and not by_b[i].correct]
    b_right = [i for i in shared if by_b[i].correct and not by_a[i].correct]
    # at most MAX_DIFF_ITEMS: half each way, the rest to whichever side has more
    keep_a = min(len(a_right), max(MAX_DIFF_ITEMS // 2, MAX_DIFF_ITEMS - len(b_right)))
    keep_b = min(len(b_right), MAX_DIFF_ITEMS - keep_a)
    shown = sorted(
        [("a-right", i) for i in a_right[:keep_a]] + [("b-right", i) for i in b_right[:keep_b]],
        key=lambda item: sort_key(item[1]),
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
        f'<option value="a-right">{esc(a)} right, {esc(b)} wrong ({_of(keep_a, len(a_right))})</option>'
        f'<option value="b-right">{esc(b)} right, {esc(a)} wrong ({_of(keep_b, len(b_right))})</option>'
        "</select></label> "
        f'<input type="search" class="diff-search" data-pair="{pair_id}" placeholder="filter by id or text">'
        f' <button type="button" class="expand" data-pair="{pair_id}">expand all</button>'
        f' <button type="button" class="collapse" data-pair="{pair_id}">collapse all</button>'
        f' <span class="shown-count" data-pair="{pair_id}">{len(shown)} items</span></div>'
    )
    empty = "" if items else '<p class="missing">No item where exactly one of the two runs is right.</p>'
    return (
        f'<div class="pair" id="{pair_id}" data-a="{esc(a)}" data-b="{esc(b)}">'
        f"<h3>{esc(a)} vs {esc(b)}</h3>"
        f'<p class="pair-counts">{len(shared)} shared items: <b>{len(a_right)}</b> {esc(a)} right and '
        f"{esc(b)} wrong, <b>{len(b_right)}</b> {esc(b)} right and {esc(a)} wrong.</p>"
        f'{capped}{controls if items else ""}<div class="diff-list">{"".join(items)}</div>{empty}</div>'
    )


def diffs_section(pairs: Sequence[tuple[str, str]], samples: Samples) -> str:
    blocks = [_pair_block(i, a, b, samples) for i, (a, b) in enumerate(pairs)]
    intro = (
        "Per pair of runs, the items where one run's final answer is right (<code>correct</code>) and "
        "the other's wrong: question, gold answer and both rationales side by side, with the equations "
        "step_arithmetic found wrong, the numbers number_grounding found unsourced and the first step "
        "any rule metric flags (its line of the rationale, and which metrics flag it). Where the two "
        "rationales share lines, the lines that differ are highlighted."
    )
    return section("diffs", "Per-sample diffs", intro, blocks)
