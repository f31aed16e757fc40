"""`faithbench report`: one run's page, what its metrics saw on every sample."""

from __future__ import annotations

import argparse
from pathlib import Path

from faithbench.cli.options import Subparsers, write_output

DEFAULT_NAME = "report.html"  # written into the run directory when no output is named


def add_commands(subparsers: Subparsers) -> None:
    """`report`."""
    rp = subparsers.add_parser(
        "report",
        help="a self-contained HTML page (and/or Markdown) of one run: what its metrics saw",
        description="Write one run's report: the summary with CIs, each metric's distribution, where the "
        "failures sit, and every sample's rationale with the metrics' verdicts marked on it (filterable "
        f"by verdict and by correct/incorrect). Without --html or --markdown, the page goes to "
        f"RUN/{DEFAULT_NAME}. The last line printed is the path of the page (or of the Markdown).",
    )
    rp.add_argument("run", type=Path, help="run directory (from `faithbench eval`)")
    rp.add_argument("--html", type=Path, help=f"write the HTML page here (default: RUN/{DEFAULT_NAME})")
    rp.add_argument("--markdown", type=Path, help="write a Markdown summary here")
    rp.set_defaults(func=_report)


def _report(args: argparse.Namespace) -> int:
    from faithbench.harness.store import RunDir
    from faithbench.reports.run_markdown import run_markdown
    from faithbench.reports.run_page import run_html

    run = RunDir(args.run)
    if not run.exists():
        from faithbench.errors import FaithbenchError

        raise FaithbenchError(f"{args.run}: not a run directory (no run.json)")
    html_out = args.html or (None if args.markdown else run.path / DEFAULT_NAME)
    last = None
    if args.markdown:
        write_output(args.markdown, run_markdown(run))
        last = args.markdown
    if html_out:
        write_output(html_out, run_html(run))
        last = html_out
    assert last is not None
    print(f"report: {last.resolve()}")
    return 0
