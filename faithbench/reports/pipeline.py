"""A pipeline run's report (`faithbench pipeline run`): ONE self-contained HTML page, and Markdown.

Sections: `#stages` (what ran, what was skipped, how long), `#gate` (is the final model significantly
better than the base where the recipe asks, and worse nowhere), `#audit` (the reward-hacking audit:
faithbench.pipeline.audit), `#leaderboard`, then the comparison report's own sections (`#runs` to
`#diffs`: paired tests of every stage against every other, plots, failures, per-sample diffs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from faithbench.compare.compare import LoadedRun
from faithbench.pipeline.schema import Audit, GateResult, PipelineResult
from faithbench.reports.html import comparison_sections
from faithbench.reports.leaderboard import HEADERS, RIGHT, entry_cells
from faithbench.reports.markdown import comparison_markdown, inline_text
from faithbench.reports.page import NAV, document, esc, nav, num, section, signed
from faithbench.reports.table import markdown_table

PIPELINE_NAV = (("stages", "Stages"), ("gate", "Gate"), ("audit", "Audit"), ("leaderboard", "Leaderboard"))


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """An HTML table; cells are already escaped."""
    th = "".join(f'<th class="num">{h}</th>' if i in right else f"<th>{h}</th>" for i, h in enumerate(head))
    body = "".join(
        "<tr>"
        + "".join(f'<td class="num">{c}</td>' if i in right else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def gate_line(gate: GateResult) -> str:
    verdict = "PASSED" if gate.passed else "FAILED"
    missing = [m for m in gate.improve if m not in gate.improved]
    parts = [f"gate {verdict}: {gate.candidate} against {gate.baseline}"]
    parts.append(f"significantly better on {', '.join(gate.improved) or 'none'} of {', '.join(gate.improve)}")
    if missing:
        parts.append(f"not shown better on {', '.join(missing)}")
    worse = [f"{r.metric} ({r.delta:+.3f})" for r in gate.regressions if r.delta is not None]
    parts.append(f"significantly worse on {', '.join(worse) if worse else 'none'}")
    return "; ".join(parts)


def _audit_rows(audit: Audit) -> tuple[list[str], list[list[str]]]:
    metrics = list(dict.fromkeys(m for s in audit.stages for m in s.means))
    judged = list(dict.fromkeys(m for s in audit.stages for m in s.judge))
    head = ["stage", "n", *metrics, *judged, "words", "truncated"]
    rows = []
    for s in audit.stages:
        cells = [esc(s.label), str(s.n)]
        for m in metrics:
            unscored = s.unscored.get(m, 0.0)
            cells.append(
                num(s.means.get(m)) + (f" <small>({unscored:.0%} unscored)</small>" if unscored else "")
            )
        cells += [num(s.judge.get(m)) for m in judged]
        cells += [f"{s.words:.0f}", f"{s.truncated:.0%}"]
        rows.append(cells)
    return [esc(h) for h in head], rows


def pipeline_html(result: PipelineResult, runs: Mapping[str, LoadedRun]) -> str:
    stages = _table(
        ["stage", "status", "seconds", "output", "path"],
        [
            [esc(s.name), esc(s.status), f"{s.seconds:.0f}", esc(s.note), f"<code>{esc(s.path)}</code>"]
            for s in result.stages
        ],
        right=(2,),
    )
    models = "".join(f"<li><b>{esc(k)}</b>: <code>{esc(v)}</code></li>" for k, v in result.models.items())
    gate = result.gate
    regress = _table(
        ["metric", "base", gate.candidate, "delta", "adjusted p"],
        [
            [esc(r.metric), num(r.mean_a), num(r.mean_b), signed(r.delta), num(r.p_adjusted)]
            for r in gate.regressions
        ],
    )
    head, rows = _audit_rows(result.audit)
    trends = _table(
        ["reward", "weight", "first third", "last third", "change"],
        [
            [
                esc(t.metric),
                f"{t.weight:g}",
                num(t.first),
                num(t.last),
                signed(None if t.first is None or t.last is None else t.last - t.first),
            ]
            for t in result.audit.trends
        ],
        right=(1, 2, 3, 4),
    )
    flags = "".join(f"<li>{esc(f)}</li>" for f in result.audit.flags) or "<li>nothing found</li>"
    boards = []
    for board in result.leaderboards:
        cells = [[esc(c) for c in entry_cells(e)] for e in board.entries]
        boards.append(
            f"<h3>{esc(board.metric)}</h3>" + _table([esc(h) for h in HEADERS], cells, sorted(RIGHT))
        )
    body = [
        "<header>",
        f"<h1>faithbench pipeline: {esc(result.description or result.recipe)}</h1>",
        f'<p class="subtitle"><b>{esc(gate_line(gate))}</b></p>',
        nav((*PIPELINE_NAV, ("runs", "Runs"), *NAV)),
        "</header>",
        "<main>",
        section(
            "stages",
            "Stages",
            f"Recipe <code>{esc(result.recipe)}</code>, output <code>{esc(result.out)}</code>. "
            "A stage whose output was complete is skipped; a killed one resumes.",
            [stages, f"<ul>{models}</ul>"],
        ),
        section("gate", "Gate", esc(gate_line(gate)), [regress if gate.regressions else ""]),
        section(
            "audit",
            "Reward-hacking audit",
            "The rule rewards beside what they can hide: accuracy, trivial and unused equations (lower is "
            "better), answers with no equation (unscored), rationale length, truncation, the judge when one "
            "graded the stages, and the GRPO reward curves. A flag is a reason to read the samples below.",
            [
                _table(head, rows, right=tuple(range(1, len(head)))),
                "<h3>GRPO rewards</h3>",
                trends,
                "<h3>Flags</h3>",
                f"<ul>{flags}</ul>",
            ],
        ),
        section(
            "leaderboard", "Leaderboard", "The stages' runs, ranked (paired tests on shared items).", boards
        ),
        *comparison_sections(result.comparison, runs),
        "</main>",
        "<footer>Made by faithbench. Self-contained: this file loads nothing from a network.</footer>",
    ]
    return document(f"faithbench pipeline: {result.recipe}", body)


def pipeline_markdown(result: PipelineResult) -> str:
    lines = [f"# faithbench pipeline: {inline_text(result.description or result.recipe)}", ""]
    lines += [f"**{inline_text(gate_line(result.gate))}**", "", "## Stages", ""]
    lines.append(
        markdown_table(
            [
                ("stage", "status", "seconds", "output"),
                *((s.name, s.status, f"{s.seconds:.0f}", inline_text(s.note)) for s in result.stages),
            ],
        )
    )
    head, rows = _audit_rows(result.audit)
    plain = [[c.replace("<small>", "").replace("</small>", "") for c in r] for r in rows]
    lines += ["", "## Reward-hacking audit", "", markdown_table([head, *plain]), ""]
    lines += [f"- {inline_text(f)}" for f in result.audit.flags] or ["- no flags"]
    lines += ["", comparison_markdown(result.comparison)]
    return "\n".join(lines) + "\n"
