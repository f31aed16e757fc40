"""`faithbench report RUN`: one run's page and Markdown, rendered from a real run of GSM8K reference
solutions with planted errors (equation results changed, numbers from nowhere, wrong final answers,
hostile text), scored through the CLI."""

from __future__ import annotations

import html
import json
import re
import shutil
import time
from pathlib import Path

import pytest
from headless import CHROMIUM, Browser

from faithbench.cli import main
from faithbench.harness.schema import SampleRecord
from faithbench.harness.store import RunDir
from faithbench.reports.run_markdown import run_markdown
from faithbench.reports.run_page import run_html

N_ITEMS = 30
REPO = Path(__file__).resolve().parents[1]
SCREENSHOT = REPO / "docs" / "images" / "run-report.png"
HOSTILE = "</script><script>alert(1)</script><img src=x onerror=alert(2)> & see https://evil.example/x.js"
NOWHERE = "Then 17 * 3 = 51 more."  # a number (17) from nowhere
CALC = re.compile(r"<<([^=>]*)=([^>]*)>>")


def _planted(i: int, row: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """Item i's GSM8K reference with its planting, and the result the planted wrong equation should
    have been (None when no equation result is changed)."""
    answer, truth = row["answer"], None
    if i % 4 == 1:  # the first equation's stated result changed: 16 - 3 - 4 = 12 (not 9)
        match = CALC.search(answer)
        assert match is not None
        truth = match.group(2)
        wrong = str(int(float(truth)) + 3)
        answer = answer[: match.start()] + answer[match.end() :].replace(truth, wrong, 1)
    text = CALC.sub("", answer)
    if i % 5 == 2:
        text = text.replace("\n", f"\n{NOWHERE}\n", 1)
    if i % 6 == 3:  # a wrong final answer
        text = re.sub(r"#### (.*)$", lambda m: f"#### {int(float(m.group(1).replace(',', ''))) + 1}", text)
    if i == 7:
        return {"id": "test-7", "completion": f"{HOSTILE}\nSo 2 + 2 = 5.\n#### 5", "reasoning": HOSTILE}, None
    return {"id": f"test-{i}", "completion": text}, truth


@pytest.fixture(scope="module")
def planted_run(
    tmp_path_factory: pytest.TempPathFactory, test_rows: list[dict[str, str]]
) -> tuple[Path, dict[str, str]]:
    """The run, and per planted item the value its changed equation should have had."""
    root = tmp_path_factory.mktemp("run-report")
    planted = [_planted(i, row) for i, row in enumerate(test_rows[:N_ITEMS])]
    preds = root / "preds.jsonl"
    preds.write_text("".join(json.dumps(p) + "\n" for p, _ in planted), encoding="utf-8")
    out = root / "planted"
    args = ["eval", "--model", f"predictions:{preds}", "--out", str(out), "--quiet", "--no-register"]
    assert main(args) == 0
    return out, {p["id"]: truth for p, truth in planted if truth is not None}


def _records(run: Path) -> list[SampleRecord]:
    return RunDir(run).read_samples()


def _sample_block(page: str, sample_id: str) -> str:
    start = page.index(f'<details class="sample" data-id="{html.escape(sample_id)}"')
    return page[start : page.index("</details>", start)]


def _wrong_marks(block: str) -> set[tuple[int, str, str]]:
    """(step, equation, computed value) of every wrong equation marked in a sample's rationale."""
    found = set()
    for step, line in re.findall(r'<li class="step[^"]*" data-step="(\d+)">(.*?)</li>', block):
        for equation, computed in re.findall(
            r'<mark class="wrong"[^>]*>([^<]*)</mark><span class="computed"[^>]*>&rarr; ([^<]*)</span>', line
        ):
            found.add((int(step), " ".join(html.unescape(equation).split()), html.unescape(computed)))
    return found


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def test_report_command_writes_page_beside_run_and_prints_its_path_last(
    planted_run: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    run, _ = planted_run
    assert main(["report", str(run)]) == 0
    page = run / "report.html"
    assert page.is_file()
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"report: {page.resolve()}"

    md = run.parent / "planted.md"
    assert main(["report", str(run), "--markdown", str(md)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"report: {md.resolve()}"


def test_page_shows_every_sample_and_every_flagged_equation_with_its_computed_value(
    planted_run: tuple[Path, dict[str, str]],
) -> None:
    run, planted = planted_run
    page = run_html(run)
    records = _records(run)
    assert page.count('<details class="sample"') == len(records) == N_ITEMS
    n_wrong = 0
    for r in records:
        block = _sample_block(page, r.id)
        assert f'data-correct="{int(r.correct)}"' in block
        assert f'<code class="gold">{html.escape(r.target)}</code>' in block
        marked = _wrong_marks(block)
        for wrong in r.scores["step_arithmetic"].details.get("wrong", []):
            n_wrong += 1
            shown = (wrong["step"], " ".join(wrong["equation"].split()), _number(wrong["computed"]))
            assert shown in marked, (r.id, wrong, marked)  # on the line it names, with its value
        for ungrounded in r.scores["number_grounding"].details.get("ungrounded", []):
            assert re.search(
                rf'<mark class="ungrounded"[^>]*>{re.escape(_number(ungrounded["number"]))}</mark>', block
            ), (r.id, ungrounded)
    assert n_wrong >= len(planted)
    for sample_id, truth in planted.items():  # each planted equation, with the value it should have had
        block = _sample_block(page, sample_id)
        assert (
            f'<span class="computed" title="the value the evaluator computed">&rarr; {truth}</span>' in block
        )
    # the sample with a number from nowhere, and one whose final answer no equation derived
    assert '<mark class="ungrounded" title="ungrounded: 17' in _sample_block(page, "test-2")
    assert 'class="tag tag-derived"' in _sample_block(page, "test-0")


def test_page_escapes_model_text_and_loads_nothing(planted_run: tuple[Path, dict[str, str]]) -> None:
    run, _ = planted_run
    page = run_html(run)
    assert HOSTILE not in page and html.escape(HOSTILE) in page
    assert page.count("<script") == 1
    assert re.search(r"""(src|href)=["']?(https?:)?//""", page) is None
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert csp is not None and "default-src 'none'" in csp.group(1) and "script-src 'sha256-" in csp.group(1)


def test_failures_and_distributions(planted_run: tuple[Path, dict[str, str]]) -> None:
    run, _ = planted_run
    page = run_html(run)
    records = _records(run)
    n_wrong = sum(r.scores["step_arithmetic"].details.get("first_wrong_step") is not None for r in records)
    scored = sum(r.value("step_arithmetic") is not None for r in records)
    assert f"<p><b>{n_wrong}</b> of {scored} scored samples have a wrong equation" in page
    assert re.search(r'<tr><td class="num">17</td><td class="num">\d+</td>', page)  # top ungrounded number
    for metric in ("accuracy", "step_arithmetic", "number_grounding", "answer_consistency"):
        assert f'<div class="card dist-card" data-metric="{metric}">' in page
    n_correct = sum(r.correct for r in records)
    assert f'<option value="1">correct ({n_correct})</option>' in page


def test_markdown_lists_flagged_equations(planted_run: tuple[Path, dict[str, str]]) -> None:
    run, planted = planted_run
    text = run_markdown(run)
    assert text.startswith("### faithbench run: `planted`")
    assert "| step_arithmetic |" in text and "#### Where failures sit" in text
    for sample_id, truth in planted.items():
        line = next(line for line in text.splitlines() if line.startswith(f"- `{sample_id}`"))
        assert f"computes `{truth}`" in line
    assert "<script>" not in text  # model text goes in code spans


def test_report_of_a_run_with_a_judge_and_interventions() -> None:
    run = REPO / "tests" / "fixtures" / "runs" / "main-a732584-gsm8k"
    page = run_html(run)
    block = _sample_block(page, "test-1")
    assert '<div class="judge-verdict" data-first-error="1">' in block
    assert '<li class="step has-judge" data-step="1">' in block
    assert "lanham_adding_mistakes" in block and "corrupted to" in block
    assert '<mark class="wrong" title="wrong: the left side is 6">2 * 3 = 7</mark>' in block
    assert "judge reply unreadable twice" in page  # an unscored reason


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not installed (Debian: apt-get install -y chromium)"
)
def test_page_runs_in_headless_chromium_and_its_filters_work(
    planted_run: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    run, planted = planted_run
    records = _records(run)
    page = tmp_path / "report.html"
    page.write_text(run_html(run), encoding="utf-8")
    started = time.monotonic()
    with Browser(tmp_path / "profile", width=1280, height=1000) as browser:
        browser.open(page.resolve().as_uri())
        assert browser.evaluate("document.documentElement.getAttribute('data-run-js')") == "ready"

        def shown() -> set[str]:
            ids = browser.evaluate(
                "Array.from(document.querySelectorAll('details.sample'))"
                ".filter(function (d) { return !d.hidden; }).map(function (d) { return d.dataset.id; })"
            )
            return set(ids)

        def pick(name: str, value: str) -> None:
            browser.evaluate(
                f"(function () {{ var s = document.querySelector('.sample-filter[data-filter=\"{name}\"]');"
                f"s.value = {json.dumps(value)}; s.dispatchEvent(new Event('change')); }})()"
            )

        assert shown() == {r.id for r in records}
        assert browser.evaluate("document.querySelector('.sample-count').textContent") == (
            f"{N_ITEMS} of {N_ITEMS} shown"
        )
        pick("correct", "0")
        assert shown() == {r.id for r in records if not r.correct}
        pick("correct", "all")
        pick("metric", "step_arithmetic")
        pick("verdict", "below")
        flagged = {r.id for r in records if (v := r.value("step_arithmetic")) is not None and v < 1}
        assert shown() == flagged and set(planted) <= flagged
        pick("verdict", "unscored")
        assert shown() == {r.id for r in records if r.value("step_arithmetic") is None}
        pick("verdict", "below")
        browser.evaluate("document.querySelector('button.sample-expand').click()")
        assert browser.evaluate("document.querySelectorAll('details.sample[open]').length") == len(flagged)
        # the page, filtered to the samples step_arithmetic flags, two of them open, for the README
        browser.evaluate(
            "document.querySelector('button.sample-collapse').click();"
            "Array.from(document.querySelectorAll('details.sample:not([hidden])')).slice(0, 2)"
            ".forEach(function (d) { d.open = true; })"
        )
        top = browser.evaluate(
            "document.getElementById('samples').getBoundingClientRect().top + window.scrollY"
        )
        shot = tmp_path / "run-report.png"
        browser.screenshot(shot, clip={"x": 0, "y": top - 8, "width": 1280, "height": 1100})
        browser.settle()
        assert browser.errors == []
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and shot.stat().st_size > 20_000
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, SCREENSHOT)
    assert time.monotonic() - started < 120


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed")
def test_the_browser_check_sees_script_errors(tmp_path: Path) -> None:
    """The console check above is real: a page whose script fails, or is blocked by its CSP, is caught."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="script-src \'none\'">'
        "</head><body><script>nope();</script></body></html>",
        encoding="utf-8",
    )
    with Browser(tmp_path / "profile") as browser:
        browser.open(page.resolve().as_uri())
        browser.settle()
        blocked = list(browser.errors)
    assert any("Content Security Policy" in e for e in blocked), blocked
    page.write_text("<!DOCTYPE html><html><body><script>nope();</script></body></html>", encoding="utf-8")
    with Browser(tmp_path / "profile2") as browser:
        browser.open(page.resolve().as_uri())
        browser.settle()
        failed = list(browser.errors)
    assert any("nope is not defined" in e for e in failed), failed


def test_report_of_a_run_written_in_the_first_format() -> None:
    """A format-1 run (0-based steps, verdicts elsewhere) is upgraded on reading: marks land on the
    lines its upgraded details name."""
    run = REPO / "tests" / "fixtures" / "runs" / "main-fd93e12-gsm8k"
    records = _records(run)
    page = run_html(run)
    assert page.count('<details class="sample"') == len(records)
    for r in records:
        marked = _wrong_marks(_sample_block(page, r.id))
        for wrong in r.scores["step_arithmetic"].details.get("wrong", []):
            assert (wrong["step"], " ".join(wrong["equation"].split()), _number(wrong["computed"])) in marked
