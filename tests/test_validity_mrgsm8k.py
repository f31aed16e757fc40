"""MR-GSM8K: rule metrics and judges against human first-error labels (faithbench.validity.mrgsm8k)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA_DIR, ChatJudge

from faithbench.cli import main
from faithbench.core import Item
from faithbench.errors import DataError, FaithbenchError
from faithbench.reports.validity import mr_gsm8k_section, rules_markdown
from faithbench.stats import harmonic_mean
from faithbench.validity.mrgsm8k import (
    ENV_VAR,
    FILE_NAME,
    MrGsm8kRow,
    RuleResult,
    Suite,
    build_suite,
    default_path,
    load_rows,
    load_suite,
    measure_rules,
)

MR_FILE = DATA_DIR.parent / "mr-gsm8k" / FILE_NAME


def _row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "uuid": "u1",
        "question": "Janet has 3 apples and buys 4 more. How many apples does she have?",
        "ground_truth_answer": "7",
        "model_output_steps": [
            "Step 1: She has 3 + 4 = 8 apples.",
            "Step 2: #### 8",
            "Step 3: The answer is: 8",
        ],
        "model_output_answer_correctness": "wrong",
        "model_output_solution_correctness": "wrong",
        "model_output_solution_first_error_step": 1,
        "model_output_solution_first_error_reason": "3 + 4 = 7",
        "gsm8k_id": "test-0",
    }
    row.update(changes)
    return row


def _write_rows(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


# ----------------------------------------------------------------------------------------- loading


@pytest.mark.parametrize(
    ("bad", "where"),
    [
        (
            _row(model_output_solution_first_error_step="three"),
            ":2: field 'model_output_solution_first_error_step'",
        ),
        ({k: v for k, v in _row().items() if k != "question"}, ":2: field 'question'"),
        (_row(model_output_steps=[]), ":2: field 'model_output_steps'"),
        (_row(model_output_steps=["Step 1: ok", 5]), ":2: field 'model_output_steps.1'"),
        ("{not json", ":2: not valid JSON"),
        ("[1, 2]", ":2: not a JSON object"),
        ("", ":2: empty line"),
    ],
)
def test_a_bad_line_is_named_by_file_line_and_field(tmp_path: Path, bad: Any, where: str) -> None:
    path = _write_rows(tmp_path / "mr.jsonl", [_row(), bad, _row()])
    with pytest.raises(DataError) as caught:
        load_rows(path)
    assert str(caught.value).startswith(f"{path}{where}")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=re.escape(f"{tmp_path / 'none.jsonl'}: no such file")):
        load_rows(tmp_path / "none.jsonl")


def test_numeric_ground_truth_is_read_as_text(tmp_path: Path) -> None:
    ((line, row),) = load_rows(_write_rows(tmp_path / "mr.jsonl", [_row(ground_truth_answer=7)]))
    assert line == 1 and row.ground_truth_answer == "7"


def test_rows_that_cannot_be_measured_are_excluded_with_the_reason() -> None:
    reference = Item(
        id="test-0",
        question=_row()["question"],
        target="7",
        reference="She has 3 + 4 = <<3+4=7>>7 apples.\n#### 7",
    )
    rows = [
        _row(uuid="ok", ground_truth_answer="7.0"),
        _row(uuid="beyond", model_output_solution_first_error_step=4),
        _row(uuid="unlabelled", model_output_solution_first_error_step=None),
        _row(uuid="no-id", gsm8k_id=None),
        _row(uuid="unknown-id", gsm8k_id="test-9"),
        _row(uuid="other-question", question="How many pears?"),
        _row(uuid="other-answer", ground_truth_answer="8"),
        _row(uuid="two-lines", model_output_steps=["Step 1: 3 + 4\n= 8", "Step 2: #### 8"]),
    ]
    suite = build_suite([(n, MrGsm8kRow.model_validate(r)) for n, r in enumerate(rows, start=1)], [reference])
    (case,) = suite.cases
    assert case.id == "ok" and case.item.target == "7" and case.label == 1 and case.n_steps == 3
    assert case.solution == "Step 1: She has 3 + 4 = 8 apples.\nStep 2: #### 8\nStep 3: The answer is: 8"
    assert case.reference == "She has 3 + 4 = 7 apples.\n#### 7"  # annotations removed
    reasons = {e.id: (e.line, e.reason) for e in suite.excluded}
    assert reasons == {
        "beyond": (2, "label 4 is beyond its 3 steps"),
        "unlabelled": (3, "no first error step labelled (None)"),
        "no-id": (4, "no gsm8k_id: no GSM8K reference to pair it with"),
        "unknown-id": (5, "gsm8k_id 'test-9' is no GSM8K test row"),
        "other-question": (6, "its question is not the question of test-0"),
        "other-answer": (7, "ground truth '8' differs from test-0's 7"),
        "two-lines": (8, "step 1 is several lines"),
    }


def test_default_path_is_beside_the_gsm8k_folder_unless_the_environment_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert default_path(tmp_path / "gsm8k") == tmp_path / "mr-gsm8k" / FILE_NAME
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "elsewhere.jsonl"))
    assert default_path(tmp_path / "gsm8k") == tmp_path / "elsewhere.jsonl"
    monkeypatch.delenv(ENV_VAR)
    monkeypatch.delenv("FAITHBENCH_DATA_DIR")
    with pytest.raises(FaithbenchError, match="--mr-gsm8k FILE"):
        default_path(None)


# --------------------------------------------------------------------- the real 340 wrong solutions


@pytest.fixture(scope="module")
def suite() -> Suite:
    return load_suite(MR_FILE, DATA_DIR)


@pytest.fixture(scope="module")
def measured(suite: Suite) -> RuleResult:
    return measure_rules(suite)


def test_the_real_file_pairs_every_row_with_a_reference_or_says_why_not(suite: Suite) -> None:
    assert suite.n_rows == 340
    assert len(suite.cases) + len(suite.excluded) == suite.n_rows
    # two rows carry no gsm8k_id (their questions are edited GSM8K questions): no reference to pair
    assert [e.reason for e in suite.excluded] == ["no gsm8k_id: no GSM8K reference to pair it with"] * 2
    assert len(suite.cases) == 338
    for case in suite.cases:
        assert 1 <= case.label <= case.n_steps
        assert case.reference_item.id == case.gsm8k_id and "<<" not in case.reference


def test_rule_figures_on_the_real_file_add_up(measured: RuleResult) -> None:
    v = measured.verdicts
    n = len(measured.cases)
    assert v.flagged.n == v.exact.n == v.reference_false_alarms.n == n == 338
    # every flagged solution's first flagged step is at, before or after the label, or named nowhere
    assert v.exact.hits + v.before.hits + v.after.hits + v.flagged_without_step.hits == v.flagged.hits
    for case in measured.cases:
        assert case.n_parsed_steps == case.n_steps  # the parser's steps are the solution's steps
        if case.first_error_step is not None:
            assert 1 <= case.first_error_step <= case.n_steps
            assert case.flagged_by and set(case.first_error_by) <= set(case.flagged_by)
        else:
            assert not case.first_error_by
    for metric, rate in measured.per_metric.items():
        assert rate.hits == sum(metric in c.flagged_by for c in measured.cases) <= v.flagged.hits
    exact = sum(c.first_error_step == c.label for c in measured.cases) / n
    clean = sum(not c.reference_flagged_by for c in measured.cases) / n
    assert v.processbench_f1 == pytest.approx(2 * exact * clean / (exact + clean))
    table = rules_markdown(measured)
    assert f"| first flagged step = human label | {v.exact.show()} |" in table
    assert f"| ProcessBench F1 | {v.processbench_f1:.3f} |" in table
    assert "2 excluded: no gsm8k_id" in table


def test_issue_12_acceptance_on_the_real_file(measured: RuleResult) -> None:
    """Issue 12: the first flagged step is the human label on more than 100 of the 338 solutions,
    and more than 48% of them are flagged at all."""
    v = measured.verdicts
    assert v.exact.hits > 100, v.exact.show()
    assert v.flagged.value is not None and v.flagged.value > 0.48, v.flagged.show()


def test_the_section_for_the_validity_report(tmp_path: Path) -> None:
    rows = MR_FILE.read_text().splitlines()[:3]
    path = _write_rows(tmp_path / FILE_NAME, rows)
    section = mr_gsm8k_section(DATA_DIR, path)
    assert section == rules_markdown(measure_rules(load_suite(path, DATA_DIR)))
    assert section.startswith("### MR-GSM8K") and "3 rows of `original-wrong-solutions.jsonl`" in section


# ---------------------------------------------------------------------------- the judge suite


_DATA_RE = re.compile(r'<data id="([0-9a-f]{16})">\n(.*)\n</data id="\1">', re.DOTALL)


class LabellingJudge:
    """The chat judge's replies: on a wrong solution (its steps start `Step 1:`), first error at step
    1 + len(question) % n_steps; on a reference, none for an even-length question, else step 1; an
    unreadable reply for the solution whose first step is `unreadable`."""

    def __init__(self, unreadable: str) -> None:
        self.unreadable = unreadable

    def step(self, question: str, steps: list[str]) -> int | None:
        if steps[0].startswith("Step 1:"):
            return 1 + len(question) % len(steps)
        return None if len(question) % 2 == 0 else 1

    def reply(self, user: str) -> str:
        data = json.loads(_DATA_RE.findall(user)[0][1])
        steps = [s["text"] for s in data["steps"]]
        if steps[0] == self.unreadable:
            return "I cannot grade this."
        step = self.step(data["question"], steps)
        return json.dumps(
            {"validity": 3, "coherence": 3, "alignment": 3, "first_error_step": step, "explanation": "x"}
        )


def test_judge_suite_through_a_chat_api(
    chat_judge: ChatJudge, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    limit = 24
    suite = load_suite(MR_FILE, DATA_DIR)
    cases = suite.cases[:limit]
    fake = LabellingJudge(unreadable=cases[3].solution.split("\n")[0])
    chat_judge.reply = fake.reply  # type: ignore[method-assign]
    out, md = tmp_path / "check.json", tmp_path / "check.md"
    argv = ["judge-check", "--suite", "mr-gsm8k", "--judge", chat_judge.spec, "--limit", str(limit)]
    argv += ["--mr-gsm8k", str(MR_FILE), "--data-dir", str(DATA_DIR), "--json", str(out), "--out", str(md)]
    assert main([*argv, "--quiet"]) == 0
    table = capsys.readouterr().out
    assert md.read_text() == table
    report = json.loads(out.read_text())
    assert chat_judge.requests == 2 * limit + 1  # the unreadable reply is asked for once more
    assert [c["id"] for c in report["cases"]] == [c.id for c in cases]

    # what the fake judge replied, case by case; the unreadable solution is out of the judge's figures
    scored = [c for i, c in enumerate(cases) if i != 3]
    steps = [fake.step(c.item.question, c.solution.split("\n")) for c in scored]
    labels = [c.label for c in scored]
    reference_flags = [fake.step(c.reference_item.question, [c.reference]) is not None for c in cases]
    exact = sum(s == label for s, label in zip(steps, labels, strict=True))
    before = sum(s is not None and s < label for s, label in zip(steps, labels, strict=True))
    after = sum(s is not None and s > label for s, label in zip(steps, labels, strict=True))
    assert 0 < exact < len(scored) and before > 0 and after > 0 and 0 < sum(reference_flags) < limit
    judge = report["judge_verdicts"]
    assert report["n_unscored"] == 1
    assert [c["judge_step"] for c in report["cases"] if c["judge_scored"]] == steps
    assert (judge["exact"]["hits"], judge["exact"]["n"]) == (exact, len(scored))
    assert (judge["before"]["hits"], judge["after"]["hits"]) == (before, after)
    assert judge["flagged"]["hits"] == len(scored)  # the fake judge names a step on every solution
    assert (judge["reference_false_alarms"]["hits"], judge["reference_false_alarms"]["n"]) == (
        sum(reference_flags),
        limit,
    )
    f1 = harmonic_mean(exact / len(scored), 1 - sum(reference_flags) / limit)
    assert judge["processbench_f1"] == pytest.approx(f1)
    rules = measure_rules(suite, limit).verdicts
    assert report["rule_verdicts"] == json.loads(rules.model_dump_json())

    def row(name: str, by_judge: str, by_rules: str) -> str:
        return f"| {name} | {by_judge} | {by_rules} |"

    n = len(scored)
    assert (
        row("first flagged step = human label", f"{exact / n:.1%} ({exact}/{n})", rules.exact.show()) in table
    )
    assert row("wrong solutions flagged", f"100.0% ({n}/{n})", rules.flagged.show()) in table
    alarms = sum(reference_flags)
    assert (
        row(
            "references flagged (false alarms)",
            f"{alarms / limit:.1%} ({alarms}/{limit})",
            rules.reference_false_alarms.show(),
        )
        in table
    )
    assert row("ProcessBench F1", f"{f1:.3f}", f"{rules.processbench_f1:.3f}") in table
    assert (
        "1 of 48 cases unscored by the judge" in table and "unscored: judge reply unreadable twice" in table
    )


def test_judge_check_refuses_mr_gsm8k_options_without_the_suite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["judge-check", "--judge", "openai:j@http://127.0.0.1:9/v1", "--mr-gsm8k", str(tmp_path / "x")]
    assert main(argv) == 2
    assert "--mr-gsm8k is an option of --suite mr-gsm8k" in capsys.readouterr().err


def test_judge_check_names_a_missing_mr_gsm8k_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.jsonl"
    argv = ["judge-check", "--suite", "mr-gsm8k", "--judge", "openai:j@http://127.0.0.1:9/v1"]
    assert main([*argv, "--mr-gsm8k", str(missing), "--quiet"]) == 2
    assert f"{missing}: no such file" in capsys.readouterr().err
