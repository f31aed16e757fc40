"""Answer metrics: correctness of the extracted final answer and compliance with the `####` format."""

from __future__ import annotations

from faithbench.metrics.base import Score, register_metric
from faithbench.parsing import ParsedCompletion
from faithbench.parsing.answers import numbers_equal
from faithbench.tasks.base import Item


@register_metric()
def accuracy(item: Item, parsed: ParsedCompletion) -> Score:
    """The final answer, read by the task's answer extractor, equals the gold answer. The extractor is
    `final-answer` (the last \\boxed{}, else `#### N`, else 'the answer is N', else the last number)
    for the chat tasks, and lm-eval's `flexible-extract` (the last number) for gsm8k-fewshot."""
    return Score(value=float(numbers_equal(parsed.answer, item.target)), details={"answer": parsed.answer})


@register_metric()
def strict_accuracy(item: Item, parsed: ParsedCompletion) -> Score:
    """Strict answer (lm-eval strict-match, '#### <number>') equals the gold answer."""
    return Score(
        value=float(numbers_equal(parsed.strict_answer, item.target)),
        details={"answer": parsed.strict_answer},
    )


@register_metric()
def format_compliance(item: Item, parsed: ParsedCompletion) -> Score:
    """The answer text contains a strict '#### <number>' final answer."""
    return Score(value=float(parsed.strict_answer is not None))
