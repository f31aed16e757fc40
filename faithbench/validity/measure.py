"""Do the metrics give the same reasoning the same verdict in every writing style?

Each GSM8K reference is read (`read_reference`), rendered in each style (`styles`) clean and with
three planted errors, parsed as a completion and scored. Per style and metric: the share scored,
the false-alarm rate (a clean reference flagged: value < 1), the agreement of its verdict (flagged,
passed, unscored) with the plain style's, the share with no equation found, and the detection of
each planted error over the items whose clean verdict in that style passed:

* `result` (the first computation's stated result + 1) -> step_arithmetic < 1;
* `answer` (the final answer + 1) -> answer_consistency == 0;
* `question_number` (a question number replaced by the nearest larger one nothing grounds) ->
  number_grounding lower than clean.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from faithbench.core import Completion, Item
from faithbench.metrics import METRICS, Score
from faithbench.parsing import ParsedCompletion, normalize_number, parse_completion
from faithbench.validity.references import (
    Reference,
    plant_answer,
    plant_question_number,
    plant_result,
    read_reference,
)
from faithbench.validity.styles import STYLES, render

MEASURED_METRICS = ("step_arithmetic", "answer_consistency", "number_grounding", "accuracy")
PLANTS = ("result", "answer", "question_number")
# planted error -> (the metric that should catch it, whether the planted score counts as caught)
_CATCH: dict[str, tuple[str, Callable[[float | None, float], bool]]] = {
    "result": ("step_arithmetic", lambda after, before: after is not None and after < 1),
    "answer": ("answer_consistency", lambda after, before: after == 0),
    "question_number": ("number_grounding", lambda after, before: after is not None and after < before),
}
_EXAMPLES = 5  # item ids kept per style and metric where the verdict differs from plain's


def verdict(score: Score) -> str:
    """`flagged` (value < 1), `passed` (value 1) or `unscored`."""
    if score.value is None:
        return "unscored"
    return "passed" if score.value >= 1 else "flagged"


@dataclass
class StyleStats:
    """Counts for one style over `n` references."""

    n: int = 0
    scored: Counter[str] = field(default_factory=Counter)
    flagged: Counter[str] = field(default_factory=Counter)
    agree: Counter[str] = field(default_factory=Counter)
    no_equation: int = 0
    planted: dict[str, list[bool]] = field(default_factory=dict)
    disagreements: dict[str, list[str]] = field(default_factory=dict)  # metric -> item ids
    missed: dict[str, list[str]] = field(default_factory=dict)  # plant -> item ids not caught

    def scored_rate(self, metric: str) -> float:
        return self.scored[metric] / self.n if self.n else 0.0

    def false_alarm_rate(self, metric: str) -> float:
        return self.flagged[metric] / self.n if self.n else 0.0

    def agreement(self, metric: str) -> float:
        return self.agree[metric] / self.n if self.n else 0.0

    def no_equation_rate(self) -> float:
        return self.no_equation / self.n if self.n else 0.0

    def detection(self, plant: str) -> float:
        caught = self.planted.get(plant, [])
        return sum(caught) / len(caught) if caught else 0.0


@dataclass
class ValidityResult:
    """Per style (`plain` first), the counts of `measure`."""

    n: int
    styles: dict[str, StyleStats]
    seconds: float = 0.0


def _parse(text: str) -> ParsedCompletion:
    return parse_completion(Completion(text=text))


def item_of(index: int, row: Mapping[str, str]) -> Item:
    target = normalize_number(row["answer"].rsplit("####", 1)[-1]) or "0"
    return Item(id=f"test-{index}", question=row["question"], target=target)


def measure(
    rows: Sequence[Mapping[str, str]],
    styles: Iterable[str] = tuple(STYLES),
    progress: Callable[[Iterable[int]], Iterable[int]] | None = None,
) -> ValidityResult:
    """Measure `styles` (plain is always measured: it is what the others are compared with) on GSM8K
    rows (`question`, `answer` with its annotations). `progress` wraps the loop (a tqdm, say)."""
    names = ["plain", *(s for s in styles if s != "plain")]
    for name in names:
        if name not in STYLES:
            raise KeyError(f"unknown style {name!r}; styles: {', '.join(STYLES)}")
    metrics = {name: METRICS.get(name) for name in MEASURED_METRICS}
    result = ValidityResult(n=len(rows), styles={name: StyleStats() for name in names})
    indices: Iterable[int] = range(len(rows))
    for index in progress(indices) if progress else indices:
        row = rows[index]
        item = item_of(index, row)
        reference = read_reference(row["answer"])
        planted: dict[str, Reference | None] = {
            "result": plant_result(reference),
            "answer": plant_answer(reference),
            "question_number": plant_question_number(reference, item.question),
        }
        plain_verdicts: dict[str, str] = {}
        for name in names:
            stats = result.styles[name]
            stats.n += 1
            parsed = _parse(render(reference, name))
            scores = {metric: fn(item, parsed) for metric, fn in metrics.items()}
            stats.no_equation += not parsed.equations
            for metric, score in scores.items():
                v = verdict(score)
                if name == "plain":
                    plain_verdicts[metric] = v
                stats.scored[metric] += v != "unscored"
                stats.flagged[metric] += v == "flagged"
                if v == plain_verdicts[metric]:
                    stats.agree[metric] += 1
                elif len(examples := stats.disagreements.setdefault(metric, [])) < _EXAMPLES:
                    examples.append(item.id)
            for plant, changed in planted.items():
                metric, caught = _CATCH[plant]
                before = scores[metric].value
                if changed is None or before is None or before < 1:
                    continue
                after = metrics[metric](item, _parse(render(changed, name))).value
                stats.planted.setdefault(plant, []).append(caught(after, before))
                if (
                    not caught(after, before)
                    and len(missed := stats.missed.setdefault(plant, [])) < _EXAMPLES
                ):
                    missed.append(item.id)
    return result
