"""Do the metrics give the same reasoning the same verdict in every writing style? (issue 12)

Section 1: the 1,319 GSM8K test references, each rendered in every style of `faithbench.validity`
(plain, LaTeX inline and display, boxed, Markdown, chained assignments, verbal), clean and with three
planted errors; per style and metric: share scored, false alarms, verdict agreement with plain,
references with no equation found, planted errors caught. Nothing is downloaded.

    .venv/bin/python benchmarks/metric_validity.py [--limit N] [--styles plain,latex_inline]
        [--data-dir ../shared/data/gsm8k]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from tqdm import tqdm

from faithbench.reports.validity import mr_gsm8k_section, validity_markdown
from faithbench.validity import STYLES, measure


def main() -> None:
    default_dir = os.environ.get("FAITHBENCH_DATA_DIR") or str(
        Path(__file__).resolve().parents[2] / "shared/data/gsm8k"
    )
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data-dir", default=default_dir, help="folder with test.jsonl (default: %(default)s)"
    )
    parser.add_argument("--limit", type=int, default=None, help="only the first N references")
    parser.add_argument("--styles", default=",".join(STYLES), help="comma-separated (default: all)")
    args = parser.parse_args()

    path = Path(args.data_dir) / "test.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = rows[: args.limit] if args.limit is not None else rows
    styles = [s.strip() for s in args.styles.split(",") if s.strip()]

    # ---- section 1: GSM8K references in every writing style
    started = time.perf_counter()
    result = measure(rows, styles, progress=lambda it: tqdm(it, desc="references", unit="ref"))
    result.seconds = time.perf_counter() - started
    print("\n## GSM8K references in other writing styles\n")
    print(validity_markdown(result))
    print(f"\n{result.seconds:.1f} s")

    # ---- section 2: MR-GSM8K's real wrong solutions against human first-error labels (all rows;
    # the file is mr-gsm8k/original-wrong-solutions.jsonl beside --data-dir, or $FAITHBENCH_MR_GSM8K)
    started = time.perf_counter()
    print("\n" + mr_gsm8k_section(args.data_dir))
    print(f"\n{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
