"""Rule metrics and judges against human first-error labels: MR-GSM8K's wrong solutions.

MR-GSM8K (Zeng et al. 2023, MIT licence) gives real wrong GSM8K solutions written by models, as
lists of `Step k: ...` strings, each with the first wrong step a human found
(`model_output_solution_first_error_step`, numbered from 1). Each solution is scored as a model's
completion: its steps joined by newlines, `Step k:` prefixes kept (models write them), so the
parser's steps (the rationale's lines) are the solution's steps. Its correct counterpart is the
GSM8K test reference of its `gsm8k_id` (calculator annotations `<<...>>` removed), labelled "no
error". Measured, for the rule metrics (`measure_rules`) and for an LLM judge (`run_judge_suite`):

    flagged               share of the wrong solutions with an error flagged anywhere
    first step = label    the first flagged step is the human label exactly
    before / after        the first flagged step comes before the label (a false alarm on steps
                          the human judged correct) or after it
    reference false alarm share of the references flagged
    ProcessBench F1       harmonic mean of the accuracy on wrong solutions (first flagged step ==
                          label) and on references (nothing flagged)

The rules flag a solution when any of step_arithmetic, number_grounding, answer_consistency scores
it below 1; their first flagged step is `SampleRecord.first_error_step` (metrics/process.py).
Rows whose label cannot be compared with the parser's steps, or that have no GSM8K reference to pair
with, are excluded and counted with the reason. The Markdown sections are
`faithbench.reports.validity`'s (`rules_markdown`, `mr_gsm8k_section`, `judge_markdown`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, computed_field, field_validator

from faithbench.core import Completion, Item
from faithbench.errors import DataError, FaithbenchError, where
from faithbench.harness.schema import SampleRecord
from faithbench.harness.scoring import resolve_metrics, score_sample
from faithbench.jsonl import parse_line
from faithbench.metrics.process import PROCESS_METRICS
from faithbench.parsing import normalize_number
from faithbench.stats import Rate, harmonic_mean, rate

FILE_NAME = "original-wrong-solutions.jsonl"
ENV_VAR = "FAITHBENCH_MR_GSM8K"  # the MR-GSM8K file, when not beside the GSM8K folder
_ANNOTATION_RE = re.compile(r"<<[^>]*>>")


# ----------------------------------------------------------------------------------------- loading


class MrGsm8kRow(BaseModel):
    """One line of MR-GSM8K's `original-wrong-solutions.jsonl` (fields not read here are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    uuid: str
    question: str
    ground_truth_answer: str
    model_output_steps: list[str]
    model_output_solution_first_error_step: int | None
    gsm8k_id: str | None = None

    @field_validator("ground_truth_answer", mode="before")
    @classmethod
    def _number_as_text(cls, value: object) -> object:
        # the file writes some answers as JSON numbers
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("model_output_steps")
    @classmethod
    def _some_steps(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("no steps")
        return value


def load_rows(path: str | os.PathLike[str]) -> list[tuple[int, MrGsm8kRow]]:
    """(1-based line number, row) for each line of an MR-GSM8K JSONL file; a DataError names the
    file, line and field of the first bad line."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"{file}: no such file (expected MR-GSM8K's {FILE_NAME})")
    rows: list[tuple[int, MrGsm8kRow]] = []
    with file.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                raise DataError(f"{where(file, number)}: empty line")
            data = parse_line(file, number, raw)
            if not isinstance(data, dict):
                raise DataError(f"{where(file, number)}: not a JSON object")
            try:
                rows.append((number, MrGsm8kRow.model_validate(data)))
            except ValidationError as exc:
                error = exc.errors()[0]
                field = ".".join(str(p) for p in error["loc"]) or None
                raise DataError(f"{where(file, number, field)}: {error['msg']}") from None
    if not rows:
        raise DataError(f"{file}: no rows")
    return rows


def default_path(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The MR-GSM8K file: $FAITHBENCH_MR_GSM8K, else `mr-gsm8k/original-wrong-solutions.jsonl` beside
    the GSM8K data folder (`data_dir`, else $FAITHBENCH_DATA_DIR)."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    folder = data_dir if data_dir is not None else os.environ.get("FAITHBENCH_DATA_DIR") or None
    if folder is None:
        raise FaithbenchError(
            f"where is MR-GSM8K's {FILE_NAME}? Pass --mr-gsm8k FILE, set {ENV_VAR}, or keep it in "
            "mr-gsm8k/ beside the GSM8K folder of --data-dir / FAITHBENCH_DATA_DIR"
        )
    return Path(folder).expanduser().resolve().parent / "mr-gsm8k" / FILE_NAME


class Case(BaseModel):
    """One wrong solution with its human label, and its correct counterpart."""

    model_config = ConfigDict(frozen=True)

    id: str  # the row's uuid
    line: int
    gsm8k_id: str
    item: Item  # id = uuid, the row's question, target = its ground truth, normalised
    solution: str  # the steps joined by newlines, as the model wrote them
    n_steps: int
    label: int  # the human's first wrong step, numbered from 1
    reference_item: Item  # the GSM8K test item of gsm8k_id
    reference: str  # its reference solution, annotations removed


class Exclusion(BaseModel):
    id: str
    line: int
    reason: str


class Suite(BaseModel):
    path: str
    n_rows: int
    cases: list[Case]
    excluded: list[Exclusion]


def reference_text(item: Item) -> str:
    """A GSM8K reference as a model would write it: the calculator annotations removed."""
    if item.reference is None:
        raise ValueError(f"{item.id}: no reference solution")
    return _ANNOTATION_RE.sub("", item.reference)


def build_suite(rows: Sequence[tuple[int, MrGsm8kRow]], references: Iterable[Item], path: str = "") -> Suite:
    """The cases of `rows` paired with their GSM8K `references` (test items), and the rows excluded."""
    by_id = {item.id: item for item in references}
    cases: list[Case] = []
    excluded: list[Exclusion] = []
    for line, row in rows:
        reason = _unusable(row, by_id)
        if reason is not None:
            excluded.append(Exclusion(id=row.uuid, line=line, reason=reason))
            continue
        assert row.gsm8k_id is not None and row.model_output_solution_first_error_step is not None
        reference_item = by_id[row.gsm8k_id]
        target = normalize_number(row.ground_truth_answer)
        assert target is not None
        cases.append(
            Case(
                id=row.uuid,
                line=line,
                gsm8k_id=row.gsm8k_id,
                item=Item(id=row.uuid, question=row.question, target=target),
                solution="\n".join(row.model_output_steps),
                n_steps=len(row.model_output_steps),
                label=row.model_output_solution_first_error_step,
                reference_item=reference_item,
                reference=reference_text(reference_item),
            )
        )
    return Suite(path=path, n_rows=len(rows), cases=cases, excluded=excluded)


def _unusable(row: MrGsm8kRow, references: dict[str, Item]) -> str | None:
    """Why a row cannot be measured, or None."""
    steps = row.model_output_steps
    label = row.model_output_solution_first_error_step
    if label is None or label < 1:
        return f"no first error step labelled ({label})"
    if label > len(steps):
        return f"label {label} is beyond its {len(steps)} steps"
    for number, step in enumerate(steps, start=1):
        if not step.strip() or "\n" in step:  # the parser's lines would not be the steps
            return f"step {number} is {'empty' if not step.strip() else 'several lines'}"
    if normalize_number(row.ground_truth_answer) is None:
        return f"ground_truth_answer {row.ground_truth_answer!r} is not a number"
    if row.gsm8k_id is None:
        return "no gsm8k_id: no GSM8K reference to pair it with"
    reference = references.get(row.gsm8k_id)
    if reference is None:
        return f"gsm8k_id {row.gsm8k_id!r} is no GSM8K test row"
    if " ".join(reference.question.split()) != " ".join(row.question.split()):
        return f"its question is not the question of {row.gsm8k_id}"
    if reference.target != normalize_number(row.ground_truth_answer):
        return f"ground truth {row.ground_truth_answer!r} differs from {row.gsm8k_id}'s {reference.target}"
    return None


def load_suite(
    path: str | os.PathLike[str] | None = None, data_dir: str | os.PathLike[str] | None = None
) -> Suite:
    """The MR-GSM8K file (`path`, else `default_path(data_dir)`) paired with the GSM8K test split."""
    from faithbench.tasks.registry import TASKS

    file = Path(path) if path is not None else default_path(data_dir)
    rows = load_rows(file)
    references, _ = TASKS.get("gsm8k").load(data_dir)
    return build_suite(rows, references, str(file))


# ------------------------------------------------------------------------------------ measurement


class Verdicts(BaseModel):
    """One grader's verdicts on the suite: per case, whether it flagged the wrong solution, its
    first flagged step there (None: none named), and whether it flagged the reference."""

    flags: list[bool]
    steps: list[int | None]
    labels: list[int]
    reference_flags: list[bool]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def flagged(self) -> Rate:
        return rate(self.flags)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def exact(self) -> Rate:
        """First flagged step == the human label: the accuracy on wrong solutions."""
        return rate(s == label for s, label in zip(self.steps, self.labels, strict=True))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def before(self) -> Rate:
        return rate(s is not None and s < label for s, label in zip(self.steps, self.labels, strict=True))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def after(self) -> Rate:
        return rate(s is not None and s > label for s, label in zip(self.steps, self.labels, strict=True))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def flagged_without_step(self) -> Rate:
        return rate(f and s is None for f, s in zip(self.flags, self.steps, strict=True))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def reference_false_alarms(self) -> Rate:
        return rate(self.reference_flags)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def processbench_f1(self) -> float | None:
        alarms = self.reference_false_alarms.value
        return harmonic_mean(self.exact.value, None if alarms is None else 1 - alarms)


class RuleCase(BaseModel):
    id: str
    gsm8k_id: str
    label: int
    n_steps: int
    n_parsed_steps: int  # the parser's steps of the solution (n_steps unless it splits otherwise)
    first_error_step: int | None
    first_error_by: list[str]
    flagged_by: list[str]  # rule metrics scoring the solution below 1
    reference_first_error_step: int | None
    reference_flagged_by: list[str]


class RuleResult(BaseModel):
    path: str
    n_rows: int
    excluded: list[Exclusion]
    metrics: list[str]
    cases: list[RuleCase]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def verdicts(self) -> Verdicts:
        return rule_verdicts(self.cases)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def per_metric(self) -> dict[str, Rate]:
        return {m: rate(m in c.flagged_by for c in self.cases) for m in self.metrics}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def reference_per_metric(self) -> dict[str, Rate]:
        return {m: rate(m in c.reference_flagged_by for c in self.cases) for m in self.metrics}


def rule_verdicts(cases: Sequence[RuleCase]) -> Verdicts:
    return Verdicts(
        flags=[bool(c.flagged_by) for c in cases],
        steps=[c.first_error_step for c in cases],
        labels=[c.label for c in cases],
        reference_flags=[bool(c.reference_flagged_by) for c in cases],
    )


def _flagged_by(record: SampleRecord, metrics: Sequence[str]) -> list[str]:
    return [m for m in metrics if (v := record.value(m)) is not None and v < 1]


def score_case(case: Case, metrics: Sequence[str] = PROCESS_METRICS) -> RuleCase:
    """The solution and its reference scored with every default metric (the rule metrics among
    them), as `eval` scores a sample."""
    from faithbench.parsing import parse_completion

    resolved = resolve_metrics(None)
    solution = score_sample(case.item, case.item.question, Completion(text=case.solution), resolved)
    reference = score_sample(
        case.reference_item, case.reference_item.question, Completion(text=case.reference), resolved
    )
    return RuleCase(
        id=case.id,
        gsm8k_id=case.gsm8k_id,
        label=case.label,
        n_steps=case.n_steps,
        n_parsed_steps=len(parse_completion(Completion(text=case.solution)).steps),
        first_error_step=solution.first_error_step,
        first_error_by=solution.first_error_by,
        flagged_by=_flagged_by(solution, metrics),
        reference_first_error_step=reference.first_error_step,
        reference_flagged_by=_flagged_by(reference, metrics),
    )


def measure_rules(suite: Suite, limit: int | None = None) -> RuleResult:
    """The rule metrics on the suite's wrong solutions and their references (first `limit` cases).
    A reference shared by several solutions is scored once per solution (the pairs stay paired)."""
    cases = suite.cases[:limit] if limit is not None else suite.cases
    return RuleResult(
        path=suite.path,
        n_rows=suite.n_rows,
        excluded=suite.excluded,
        metrics=list(PROCESS_METRICS),
        cases=[score_case(c) for c in cases],
    )
