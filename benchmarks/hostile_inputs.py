"""Hostile inputs against the parsing budget and the bounded reader (issue 16, docs/hardening.md).

1. `parse_completion` on completions built to be slow to parse, at 1 MB and just inside each limit of
   the budget (characters, lines, `=` signs): the worst time of each, against the 1 s target.
2. `faithbench eval` in a fresh process on a predictions file holding one line of 1, 15 and 50 MB
   (a 50 MB line is over the reader's 16 MiB limit and refused; the others are stored unscored):
   wall time and peak RSS of the process, against 5 s and 1 GB.

    .venv/bin/python benchmarks/hostile_inputs.py [--quick]

Prints one line per case and the worst figures; numbers depend on the machine (measured ones are in
docs/hardening.md).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from faithbench.core import Completion
from faithbench.parsing import parse_completion
from faithbench.parsing.completion import MAX_EQUALS, MAX_RATIONALE_CHARS, MAX_STEPS

MB = 1_000_000


def _fill(unit: str, chars: int) -> str:
    return (unit * (chars // len(unit) + 1))[:chars]


def _lines(unit: str, n: int) -> str:
    return unit * n


def completions(quick: bool) -> dict[str, str]:
    """name -> text. Each is either over the budget (checked before parsing) or just inside it."""
    size = 200_000 if quick else MB
    shapes = {
        "dots after the answer": "9*2=18\n#### 18" + "." * size,
        "i + 1 = j lines": "".join(f"{i} + 1 = {i + 1}\n" for i in range(size // 12))[:size],
        "1+1=2 lines": _fill("1+1=2\n", size),
        "'####' repeated": _fill("#### ", size),
        "minus signs": _fill("-", size),
        "digit commas": _fill("1,", size),
        "open brackets": "(" * (size // 2 - 1) + "1" + ")" * (size // 2),
        "\\boxed{ repeated": _fill("\\boxed{", size),
        "<think> repeated": _fill("<think>", size),
        "newlines": "\n" * size,
        "one long number": "1" * size,
        "spaces": " " * size,
    }
    per_eq = MAX_EQUALS // 2  # lines of two `=` each
    edge = {
        f"{MAX_STEPS} algebra lines": _lines("10n + 10 = 130\n", MAX_STEPS - 1) + "n = 12\n",
        f"{MAX_STEPS} verbal lines": _lines("5 times 3 is 15\n", MAX_STEPS),
        f"{per_eq} named chains": _lines("Result 1 = 4 * 4. Result 1 = $16\n", per_eq),
        f"{MAX_EQUALS} sums in one line": _lines("1+1=2. ", MAX_EQUALS),
        f"{MAX_STEPS} fraction lines": _lines("\\frac{1}{2} = 0.5\n", MAX_STEPS),
        f"{MAX_RATIONALE_CHARS:,} chars of verbal sentences": _fill("5 times 3 is 15. ", MAX_RATIONALE_CHARS),
        f"{MAX_RATIONALE_CHARS:,} chars, nested brackets": "(" * 49_990 + "1+1" + ")" * 49_990 + " = 2",
        f"{MAX_EQUALS} x 9**9**9 = 1": _lines("9**9**9 = 1. ", MAX_EQUALS),
        f"{MAX_EQUALS} x 1e999999 = 1": _lines("1e999999 + 1 = 1. ", MAX_EQUALS),
    }
    return {**shapes, **edge}


def parse_times(quick: bool) -> float:
    worst = 0.0
    for name, text in completions(quick).items():
        start = time.perf_counter()
        parsed = parse_completion(Completion(text=text))
        took = time.perf_counter() - start
        worst = max(worst, took)
        state = parsed.unparsed or f"parsed: {len(parsed.steps)} steps, {len(parsed.equations)} equations"
        print(f"  {took:6.3f} s  {len(text):>9,} chars  {name}: {state}")
    return worst


def eval_line(size: int, work: Path) -> tuple[float, float, int, str]:
    """(seconds, peak RSS in MB, exit code, last stderr line) of `faithbench eval` on one line."""
    preds = work / f"line-{size}.jsonl"
    text = _fill("1 + 1 = 2\n", size - 40)
    preds.write_text(json.dumps({"id": "test-0", "completion": text}) + "\n", encoding="utf-8")
    out = work / f"run-{size}"
    code = (
        "import resource, sys, time\n"
        "from faithbench.cli import main\n"
        "start = time.perf_counter()\n"
        "rc = main(sys.argv[1:])\n"
        "took = time.perf_counter() - start\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(f'FIGURES {took:.3f} {peak:.0f} {rc}', file=sys.stderr)\n"
    )
    args = ["eval", "--model", f"predictions:{preds}", "--out", str(out), "--quiet", "--no-register"]
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600)
    lines = proc.stderr.strip().splitlines()
    figures = next(line for line in reversed(lines) if line.startswith("FIGURES")).split()
    said = next((line for line in lines if line.startswith("faithbench:")), "ok: stored")
    return float(figures[1]), float(figures[2]), int(figures[3]), said[:110]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 KB shapes and lines up to 15 MB")
    args = parser.parse_args()
    os.environ.setdefault(
        "FAITHBENCH_DATA_DIR", str(Path(__file__).resolve().parents[2] / "shared/data/gsm8k")
    )

    print("parse_completion, one call each (target: every one under 1 s)")
    worst = parse_times(args.quick)
    print(f"worst parse: {worst:.3f} s ({worst / 1.0:.2f} of the 1 s target)")

    print("\nfaithbench eval on a predictions file of one line (target: under 5 s and 1 GB)")
    worst_time = worst_rss = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for size in (MB, 15 * MB) if args.quick else (MB, 15 * MB, 50 * MB):
            took, rss, code, said = eval_line(size, Path(tmp))
            worst_time, worst_rss = max(worst_time, took), max(worst_rss, rss)
            print(f"  {size // MB:>3} MB line: {took:6.2f} s, peak RSS {rss:6.0f} MB, exit {code}: {said}")
    print(f"worst eval: {worst_time:.2f} s ({worst_time / 5:.2f} of 5 s), {worst_rss:.0f} MB RSS "
          f"({worst_rss / 1024:.2f} of 1 GB)")  # fmt: skip
    print(f"this process: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
