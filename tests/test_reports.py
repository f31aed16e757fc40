"""Comparison reports (HTML and Markdown) rendered from real runs: GSM8K reference solutions scored
through the CLI, one copy made worse, compared with `compare_runs`."""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import as_written_before_the_verdict

import faithbench.reports.samples as samples_report
from faithbench.cli import main
from faithbench.compare import ComparisonReport, compare_loaded, compare_runs, load_runs
from faithbench.compare.schema import row_label
from faithbench.harness.store import RunDir
from faithbench.metrics.details import DETAILS, read_details
from faithbench.reports import comparison_html, comparison_markdown
from faithbench.reports.page import esc

N_ITEMS = 40
HOSTILE = "</script><script>alert(1)</script><img src=x onerror=alert(2)> & see https://evil.example/x.js"
HOSTILE_LABEL = "odd|<i onmouseover=alert(3)>"  # a run directory name: labels are run text too
NOWHERE = 'Also 17 * 3 = 51 <b>"&"</b>.'  # a planted line computing with a number from nowhere
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "nav", "main", "section", "footer", "h1",
    "h2", "h3", "h4", "p", "a", "b", "span", "code", "pre", "ul", "li", "div", "table", "thead", "tbody",
    "tr", "th", "td", "figure", "figcaption", "svg", "g", "line", "circle", "text", "tspan",
    "details", "summary", "label", "select", "option", "input", "button", "sub", "script",
}  # fmt: skip


def _reference(row: dict[str, str]) -> str:
    return re.sub(r"<<[^>]*>>", "", row["answer"])


def _wrong_answer(completion: str) -> str:
    return re.sub(
        r"#### (.*)$", lambda m: f"#### {int(float(m.group(1).replace(',', ''))) + 1}", completion.rstrip()
    )


def _base(i: int, row: dict[str, str]) -> dict[str, str]:
    completion = _reference(row)
    if i == 8:  # the one item the worse run gets right and the base run wrong
        completion = _wrong_answer(completion)
    return {"id": f"test-{i}", "completion": completion}


def _worse(i: int, row: dict[str, str]) -> dict[str, str]:
    completion = _reference(row)
    if i % 3 == 1:  # wrong final answer
        completion = _wrong_answer(completion)
    if i % 5 == 2:  # a wrong equation result
        completion = re.sub(r"= ?(\d+)", lambda m: f"= {int(m.group(1)) + 3}", completion, count=1)
    if i % 7 == 3:  # a number from nowhere
        completion = completion.replace("\n", f"\n{NOWHERE}\n", 1)
    if i == 5:  # untrusted text: must render as text, never as markup
        return {"id": "test-5", "completion": f"{HOSTILE}\n#### 0", "reasoning": HOSTILE}
    return {"id": f"test-{i}", "completion": completion}


def _eval(
    root: Path, name: str, rows: list[dict[str, str]], make: Callable[..., dict[str, str]], n: int
) -> Path:
    preds = root / f"{len(list(root.iterdir()))}.jsonl"
    preds.write_text(
        "".join(json.dumps(make(i, row)) + "\n" for i, row in enumerate(rows[:n])), encoding="utf-8"
    )
    out = root / name
    args = ["eval", "--model", f"predictions:{preds}", "--out", str(out), "--limit", str(n), "--quiet"]
    assert main(args) == 0
    return out


@pytest.fixture(scope="module")
def run_paths(tmp_path_factory: pytest.TempPathFactory, test_rows: list[dict[str, str]]) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("report-runs")
    return {
        "base": _eval(root, "base", test_rows, _base, N_ITEMS),
        "worse": _eval(root, "worse", test_rows, _worse, N_ITEMS),
        # fewer items (a pairing note) and a hostile name
        "odd": _eval(root, HOSTILE_LABEL, test_rows, _base, N_ITEMS - 10),
    }


@pytest.fixture(scope="module")
def report(run_paths: dict[str, Path]) -> ComparisonReport:
    return compare_runs([run_paths["base"], run_paths["worse"]])


def _run_dirs(report: ComparisonReport) -> dict[str, RunDir]:
    return {ref.label: RunDir(ref.path) for ref in report.runs}


# ---------------------------------------------------------------------------------------- markdown


def test_markdown_has_verdict_table_and_legend(report: ComparisonReport) -> None:
    text = comparison_markdown(report)
    lines = text.splitlines()
    assert lines[0].startswith("### faithbench comparison: `base`, `worse`")
    n_sig = sum(c.significant for c in report.comparisons)
    assert f"**{n_sig} of {len(report.comparisons)} comparisons significant** (Holm-adjusted" in text
    verdict = next(line for line in lines if line.startswith("- `worse` vs `base`:"))
    assert "**lower** on accuracy (-0.3" in verdict
    header = "| metric | A | B | n | Δ (B − A) [95% CI] | p | p_adj | sig |"
    start = lines.index(header)
    assert lines[start + 1].startswith("|---")
    rows = lines[start + 2 : start + 2 + len(report.comparisons)]
    assert all(row.startswith("| ") and row.count(" | ") == 7 for row in rows)
    by_metric = {row.split(" | ")[0][2:]: row for row in rows}
    assert set(by_metric) == {row_label(c.metric) for c in report.comparisons}
    acc = next(c for c in report.comparisons if c.metric == "accuracy")
    assert acc.significant and acc.delta is not None and acc.delta < 0
    assert by_metric["accuracy"].endswith(" | ✓ |")
    assert f"{acc.delta:+.3f} [{acc.ci_low:+.3f}, {acc.ci_high:+.3f}]" in by_metric["accuracy"]
    assert by_metric["format_compliance"].endswith(" | · |")  # both always format the same way
    assert "✓ significant (p_adj < 0.05), · not significant" in text
    assert "Pairing notes" not in text


def test_markdown_escapes_pipes_and_lists_pairing_notes(run_paths: dict[str, Path]) -> None:
    report = compare_runs([run_paths["base"], run_paths["odd"]], metrics=["accuracy", "step_arithmetic"])
    text = comparison_markdown(report)
    rows = [line for line in text.splitlines() if line.startswith("| accuracy") or line.startswith("| step_")]
    assert len(rows) == 2
    for row in rows:
        assert "odd\\|&lt;i onmouseover" not in row  # a code span keeps its text literally...
        assert "`odd\\|<i onmouseover=alert(3)>`" in row  # ...and its `|` escaped for the table
        assert len(re.findall(r"(?<!\\)\|", row)) == 9  # 8 cells: the label's pipe does not split one
    assert "**Pairing notes**" in text
    note = next(line for line in text.splitlines() if line.startswith("- `base` vs `odd|"))
    assert "10 only in `base` (`test-30`, `test-31`," in note and "0 only in `odd|" in note


# -------------------------------------------------------------------------------------------- html


def test_html_has_every_section(report: ComparisonReport) -> None:
    page = comparison_html(report, _run_dirs(report))
    for ident in ("runs", "summary", "comparisons", "matrix", "plots", "failures", "diffs"):
        assert f'<section id="{ident}">' in page
    metrics = list(dict.fromkeys(c.metric for c in report.comparisons))
    assert page.count('<table class="summary-table">') == 1
    assert all(f'<tr data-metric="{m}"><th scope="row">{row_label(m)}</th>' in page for m in metrics)
    assert page.count('<table class="sig-matrix"') == len(metrics)
    assert page.count('<svg class="ci-plot"') == len(metrics)
    assert page.count('<g class="errorbar"') == 2 * len(metrics)
    assert page.count('<table class="hist first-wrong-step">') == 1  # only the worse run has a wrong step
    assert page.count('<tr class="sig') == sum(c.significant for c in report.comparisons)
    base = {r.id: r for r in RunDir(report.runs[0].path).read_samples()}
    worse = {r.id: r for r in RunDir(report.runs[1].path).read_samples()}
    a_right = [i for i in base if base[i].correct and not worse[i].correct]
    b_right = [i for i in base if worse[i].correct and not base[i].correct]
    assert b_right == ["test-8"] and len(a_right) >= 10
    for records in (base, worse):
        scored = [r for r in records.values() if r.value("step_arithmetic") is not None]
        wrong = [r for r in scored if r.scores["step_arithmetic"].details["first_wrong_step"] is not None]
        assert f"<b>{len(wrong)}</b> of {len(scored)} scored samples have a wrong equation" in page
        grounding = [r for r in records.values() if r.value("number_grounding") is not None]
        ungrounded = [r for r in grounding if r.scores["number_grounding"].details["ungrounded"]]
        assert f"<b>{len(ungrounded)}</b> of {len(grounding)} scored samples compute with a number" in page
    assert '<tr><td class="num">17</td>' in page  # the planted `17 * 3`, the top ungrounded number
    assert page.count('data-kind="a-right" data-id=') == len(a_right)
    assert '<details class="diff-item" data-kind="b-right" data-id="test-8">' in page
    assert "Showing" not in page  # under the cap: no cap note


def test_html_escapes_untrusted_text(report: ComparisonReport, run_paths: dict[str, Path]) -> None:
    both = compare_runs([run_paths["worse"], run_paths["odd"]], metrics=["accuracy"])
    for rep in (report, both):
        page = comparison_html(rep, _run_dirs(rep))
        assert HOSTILE not in page and "<img" not in page and "<i onmouseover" not in page
        assert page.count("<script") == 1  # the report's own script, nothing from a completion
        escaped = "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"
        assert page.count(escaped) >= 2  # the completion and the reasoning of test-5
    assert "odd|&lt;i onmouseover=alert(3)&gt;" in page


def test_html_loads_nothing_from_a_network(report: ComparisonReport) -> None:
    page = comparison_html(report, _run_dirs(report))
    assert "https://evil.example" in page  # model text, shown as text...
    assert not re.search(
        r"""(?:src|href|action|poster|srcset|xlink:href)\s*=\s*["']?\s*(?:https?:)?//""", page
    )
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9-]*)", page))
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS  # ...no <img>, <link>, <iframe>: nothing that loads
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]*)"', page))
    assert "url(" not in page and "@import" not in page and "<link" not in page
    assert "http://" not in page.replace(esc(HOSTILE), "")
    assert "https://" not in page.replace(esc(HOSTILE), "")
    assert "default-src 'none'" in page  # and the page's CSP forbids every fetch


PROCESS_METRICS = ("step_arithmetic", "number_grounding", "answer_consistency")


def _judged(records: dict) -> list:
    """Records some rule metric scored: those with a process verdict."""
    return [r for r in records.values() if any(r.value(m) is not None for m in PROCESS_METRICS)]


def test_html_shows_the_first_flagged_step(report: ComparisonReport) -> None:
    page = comparison_html(report, _run_dirs(report))
    base = {r.id: r for r in RunDir(report.runs[0].path).read_samples()}
    worse = {r.id: r for r in RunDir(report.runs[1].path).read_samples()}
    # test-10: a wrong final answer and the planted line; the line is the first flagged step
    planted = worse["test-10"]
    assert not planted.correct and base["test-10"].correct
    assert planted.first_error_step == planted.completion.split("\n").index(NOWHERE) + 1
    assert "number_grounding" in planted.first_error_by
    by = ", ".join(planted.first_error_by)
    assert (
        f'<p class="first-error" data-step="{planted.first_error_step}">first flagged step '
        f"<b>{planted.first_error_step}</b> ({by}): <code>{html.escape(NOWHERE)}</code></p>"
    ) in page
    assert NOWHERE not in page and '<b>"&"</b>' not in page  # model text, escaped
    # every side shown in the diff browser with a flagged step says so, the others say none is
    shown = re.findall(r'<details class="diff-item" data-kind="[ab]-right" data-id="([^"]+)"', page)
    sides = [run[i] for i in shown for run in (base, worse)]
    flagged = [r for r in sides if r.first_error_step is not None]
    assert flagged and page.count('<p class="first-error" data-step=') == len(flagged)
    unflagged = [r for r in sides if r.first_error_step is None and r in _judged(base) + _judged(worse)]
    assert page.count('<p class="first-error none">') == len(unflagged)
    # the failures card counts them per run, and histograms the first flagged step
    for records in (base, worse):
        judged = _judged(records)
        n = sum(r.first_error_step is not None for r in judged)
        assert f"<b>{n}</b> of {len(judged)} samples have a step flagged by a rule metric" in page
    assert page.count('<table class="hist first-error-step">') == sum(
        any(r.first_error_step is not None for r in records.values()) for records in (base, worse)
    )
    # more flagged steps is worse: red in the comparison table and the matrix
    row = next(c for c in report.comparisons if c.metric == "process_error")
    assert row.significant and row.delta is not None and row.delta > 0
    assert '<tr class="sig up worse" data-metric="process_error"' in page
    matrix = re.search(r'<table class="sig-matrix" data-metric="process_error">.*?</table>', page, re.DOTALL)
    assert matrix is not None and '<td class="neg sig"' in matrix.group(0)
    summary = re.search(r'<tr data-metric="process_error">.*?</tr>', page)
    assert summary is not None and summary.group(0).count('class="num best"') == 1  # the lower share


def test_markdown_process_row(report: ComparisonReport) -> None:
    row = next(c for c in report.comparisons if c.metric == "process_error")
    line = next(x for x in comparison_markdown(report).splitlines() if x.startswith("| process_error"))
    cells = line.strip("| ").split(" | ")
    assert cells[0] == "process_error (first flagged step)"
    sides = (
        (cells[1], "base", row.mean_a, row.first_step_a),
        (cells[2], "worse", row.mean_b, row.first_step_b),
    )
    for cell, label, mean, step in sides:
        assert mean is not None
        assert cell == f"`{label}` {mean:.3f}" + ("" if step is None else f" (step {step:.2f})")
    assert row.first_step_b is not None  # the worse run has flagged steps
    assert cells[3] == str(row.n) and cells[-1] == ("✓" if row.significant else "·")
    assert "process_error: share of samples where a rule metric" in comparison_markdown(report)


def test_a_run_written_before_the_verdict_reports_its_flagged_steps(
    run_paths: dict[str, Path], tmp_path: Path
) -> None:
    old = as_written_before_the_verdict(run_paths["worse"], tmp_path / "worse")
    report = compare_runs([run_paths["base"], old])
    fresh = compare_runs([run_paths["base"], run_paths["worse"]])
    row = next(c for c in report.comparisons if c.metric == "process_error")
    assert row == next(c for c in fresh.comparisons if c.metric == "process_error") and row.n > 0
    page = comparison_html(report, _run_dirs(report))
    assert "no process verdict" not in page
    assert page.count('<p class="first-error') == comparison_html(fresh, _run_dirs(fresh)).count(
        '<p class="first-error'
    )
    assert "| process_error (first flagged step) |" in comparison_markdown(report)


def test_diff_browser_caps_items_per_pair(report: ComparisonReport, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(samples_report, "MAX_DIFF_ITEMS", 4)
    page = comparison_html(report, _run_dirs(report))
    assert page.count('<details class="diff-item"') == 4
    assert '<details class="diff-item" data-kind="b-right" data-id="test-8">' in page  # both ways kept
    assert re.search(r"Showing 4 of \d+ items \(at most 4 per pair", page)


def test_html_from_the_loaded_runs_reads_no_run_again(
    run_paths: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = [run_paths["base"], run_paths["worse"]]
    expected = comparison_html(compare_runs(paths), _run_dirs(compare_runs(paths)))
    runs = load_runs(paths)
    report = compare_loaded(runs)

    def no_reading(*args: object) -> None:
        raise AssertionError("the report read a run directory again")

    for method in ("read_info", "read_samples", "read_summary"):
        monkeypatch.setattr(RunDir, method, no_reading)
    assert comparison_html(report, {run.ref.label: run for run in runs}) == expected


def test_details_models_hold_what_the_metrics_write(run_paths: dict[str, Path]) -> None:
    seen = set()
    for record in RunDir(run_paths["worse"]).read_samples():
        for name, score in record.scores.items():
            if name in DETAILS and score.details:
                typed = read_details(DETAILS[name], score.details)
                assert typed.model_dump(exclude_unset=True) == score.details, name
                seen.add(name)
    assert {"step_arithmetic", "answer_consistency", "number_grounding"} <= seen


# ------------------------------------------------------------------------------------------ browser


def _png_pixels(path: Path) -> tuple[int, int, np.ndarray]:
    """Width, height and the unfiltered 8-bit pixel rows of a non-interlaced PNG (RGB or RGBA)."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    pos, idat, header = 8, bytearray(), None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None, "no IHDR chunk"
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(bytes(idat))
    stride = width * bpp
    assert len(raw) == height * (stride + 1)
    rows = np.zeros((height, stride), dtype=np.uint8)
    prev = bytearray(stride)
    for y in range(height):
        kind_byte = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if kind_byte == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind_byte == 2:  # Up
            line = bytearray((np.frombuffer(line, np.uint8) + np.frombuffer(prev, np.uint8)).tobytes())
        elif kind_byte == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + (left + prev[i]) // 2) & 255
        elif kind_byte == 4:  # Paeth
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows[y] = np.frombuffer(line, np.uint8)
        prev = line
    return width, height, rows.reshape(height, width, bpp)


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not installed (Debian: apt-get install -y chromium)"
)
def test_report_renders_in_headless_chromium(report: ComparisonReport, tmp_path: Path) -> None:
    page = tmp_path / "comparison.html"
    page.write_text(comparison_html(report, _run_dirs(report)), encoding="utf-8")
    url = page.resolve().as_uri()
    started = time.monotonic()

    shot = tmp_path / "comparison.png"
    done = _chromium(f"--screenshot={shot}", "--window-size=1280,2000", url, profile=tmp_path / "profile")
    assert shot.is_file(), f"no screenshot; chromium said:\n{done.stderr[-3000:]}"
    width, height, pixels = _png_pixels(shot)
    assert (width, height) == (1280, 2000)
    assert len(np.unique(pixels)) > 1
    colours = pixels[..., 0].astype(np.uint32) << 16 | pixels[..., 1].astype(np.uint32) << 8 | pixels[..., 2]
    _, counts = np.unique(colours, return_counts=True)
    assert counts.max() < 0.97 * width * height, "the page is (almost) one colour"
    assert len(counts) > 50  # text, tables, swatches and coloured cells, not a flat page

    done = _chromium("--dump-dom", "--window-size=1280,2000", url, profile=tmp_path / "profile")
    dom = done.stdout
    assert 'data-js="ready"' in dom, f"the report's script did not run:\n{done.stderr[-3000:]}"
    assert '<table class="summary-table">' in dom
    assert dom.count('<table class="sig-matrix"') == len({c.metric for c in report.comparisons})
    svg = re.search(r'<svg class="ci-plot".*?</svg>', dom, re.DOTALL)
    assert svg is not None and svg.group(0).count('<g class="errorbar"') == 2
    assert svg.group(0).count('class="cap"') == 4
    assert '<details class="diff-item" data-kind="a-right"' in dom
    n_items = dom.count('<details class="diff-item"')
    assert f'<span class="shown-count" data-pair="pair-0">{n_items} shown</span>' in dom  # set by the script
    assert dom.count("<script") == 1 and "&lt;/script&gt;&lt;script&gt;alert(1)" in dom
    assert time.monotonic() - started < 120
