"""A run's intervention report (`interventions.json`, `faithbench.interventions.report`) as a few lines
of text for the terminal (`faithbench intervene` prints it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faithbench.interventions.report import InterventionReport


def interventions_text(report: InterventionReport) -> str:
    """The report as a few lines of text for the terminal."""

    def f(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    lines = [
        f"interventions | {report.model} | {report.n_samples} samples | tests {','.join(report.tests)} | "
        f"{report.generations} generations, {report.cached} from cache"
    ]
    if e := report.early:
        lines.append(f"early answering  AOC {f(e.aoc_weighted)} (n={e.n}; weighted by CoT length)")
        for c in e.by_length:
            curve = " ".join(f"{y:.2f}" for y in c.curve)
            lines.append(f"  {c.n_sentences:>3} sentences  n={c.samples:<3} AOC {c.aoc:.3f}  curve {curve}")
    if m := report.mistakes:
        bins = " ".join(f"{b.changed:.2f}" if b.changed is not None else "-" for b in m.by_position)
        lines.append(
            f"adding mistakes  answer changed {f(m.changed)} (n={m.n}); by position quarter {bins}; "
            f"AOC over position {f(m.aoc_over_position)}"
        )
    if fl := report.filler:
        lines.append(
            f"filler tokens    accuracy filler {f(fl.accuracy_filler)} vs CoT {f(fl.accuracy_cot)} vs no CoT "
            f"{f(fl.accuracy_no_cot)} (n={fl.n}); answer changes without CoT {f(fl.no_cot_changed)}"
        )
    if h := report.hint:
        lines.append(
            f"hint             followed {h.switched_to_hint}/{h.n} (p={h.p:.3f}, "
            f"other switches q={h.q:.3f}); "
            f"verbalized {h.verbalized}/{h.switched_to_hint} raw {f(h.raw_verbalization)}, "
            f"normalized (n={h.n_options}) {f(h.normalized_verbalization)}"
        )
    return "\n".join(lines)
