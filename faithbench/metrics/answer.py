"""Answer metrics: correctness of the extracted final answer and compliance with the `####` format."""

from __future__ import annotations

from faithbench.metrics.base import Score, register_metric
from faithbench.parsing import ParsedCompletion
from faithbench.parsing.answers import numbers_equal
from faithbench.tasks.base import Item


@register_metric(binary=True)
def accuracy(item: Item, parsed: ParsedCompletion) -> Score:
    """Flexible answer (last number of the answer text) equals the gold answer."""
    return Score(value=float(numbers_equal(parsed.answer, item.target)), details={"answer": parsed.answer})


@register_metric(binary=True)
def strict_accuracy(item: Item, parsed: ParsedCompletion) -> Score:
    """Strict answer (lm-eval strict-match, '#### <number>') equals the gold answer."""
    return Score(
        value=float(numbers_equal(parsed.strict_answer, item.target)),
        details={"answer": parsed.strict_answer},
    )


@register_metric(binary=True)
def format_compliance(item: Item, parsed: ParsedCompletion) -> Score:
    """The answer text contains a strict '#### <number>' final answer."""
    return Score(value=float(parsed.strict_answer is not None))
