"""The `final-answer` extractor: one case each for what other extractors get wrong, the extractor
registry, and property tests that extraction never raises and stays fast on any input."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faithbench.harness.backends.base import Completion
from faithbench.parsing import parse_completion
from faithbench.parsing.answers import (
    DEFAULT_EXTRACTOR,
    EXTRACTORS,
    extract_final,
    get_extractor,
    normalize_number,
)
from faithbench.registry import RegistryError
from faithbench.tasks.registry import TASKS, Task

# (text, the answer the writer meant): cases other extractors get wrong (lm-eval's flexible-extract,
# math-verify or plain string match; benchmarks/answer_extraction.py measures them all)
REGRESSION = {
    "dollars with cents": ("The shirt costs $29.00.", "29"),
    "latex thousands": ("She earns $70{,}000$ a year.", "70000"),
    "boxed thousands": ("The final answer is $\\boxed{8,000}$.", "8000"),
    "boxed escaped dollar": ("The total is \\boxed{\\$29.00}.", "29"),
    "boxed nested frac": ("The answer is $\\boxed{\\frac{1}{2}}$.", "0.5"),
    "answer phrase then more numbers": ("So the answer is 42 apples, but 40 of them are green.", "42"),
    "check step after the answer": ("So the answer is 18. Check: 18 * 2 = 36.", "18"),
    "unicode minus": ("The temperature drops to \u221218 degrees.", "-18"),
    "plain fraction": ("Each gets 1/2 of the pie.", "0.5"),
    "scale word": ("The city has 1 million people.", "1000000"),
    "scale word decimal": ("They raised 2.5 thousand dollars.", "2500"),
    "recited few-shot answers": (
        "Question: 2 + 3?\nAnswer: 2 + 3 = 5\n#### 5\n\nQuestion: 4 * 6?\nAnswer: 4 * 6 = 24\n#### 24\n\n"
        "She buys 3 * 7 = 21 eggs.\n#### 21",
        "21",
    ),
    "boxed before a unit with a number": ("He can watch \\boxed{3} 30-minute episodes.", "3"),
    "equation result before a span": (
        "So, Jim spends a total of 3 x 12 = 36 hours on TV and reading in 4 weeks.",
        "36",
    ),
    "bold answer label": ("**Answer:** 18", "18"),
    "answer phrase with a chain": ("Final answer: 20 * 2 = 40 cups of feed, for 3 days.", "40"),
    "percent in latex": ("The discount is $25\\%$ of 80 dollars, so the answer is 25\\%.", "25"),
}


@pytest.mark.parametrize("case", list(REGRESSION))
def test_final_answer_reads_what_the_writer_meant(case: str) -> None:
    text, expected = REGRESSION[case]
    assert extract_final(text) == expected


def test_a_span_after_the_answer_without_an_equation_is_a_known_miss() -> None:
    # No principled rule tells "a total of 34 hours ... in 4 weeks" from "in total ... 34 hours":
    # without an `=` the last number of the last sentence is read (docs/metrics.md, Answer extraction).
    assert extract_final("She practises a total of 34 hours in 4 weeks.") == "4"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\\boxed{x = 5}", "5"),
        ("\\boxed{-\\frac{3}{4}}", "-0.75"),
        ("\\boxed{\\dfrac{1}{3}}", "1/3"),  # no terminating decimal: the reduced fraction
        ("\\boxed{18 \\text{ apples}}", "18"),
        ("\\boxed{70\\,000}", "70000"),
        ("\\boxed{A} so 12 in all", "12"),  # a box without a number: the next rule reads on
        ("The answer is: 11000", "11000"),
        ("the answer = 18, with 3 left over", "18"),
        ("The final answer is: **$1,234**. Then 5", "1234"),
        ("#### \u221218", "-18"),
        ("#### 1,234", "1234"),
        ("It costs -$5 or $-5, so $-5", "-5"),
        ("It costs \u20135 dollars", "-5"),  # en dash as a sign
        ("pages 10\u201320", "20"),  # en dash between numbers is a range, not a sign
        ("10-5", "5"),
        ("about 1.5e-3 kg", "0.0015"),
        ("that is 1e540", "1" + "0" * 540),  # read as the number, exactly
        ("that is 1e99999", None),  # too wide to be an answer, and never its exponent 99999
        ("horse #12 wins after 3 laps, horse #7", "3"),  # `#12` labels a horse
        ("no numbers here", None),
        ("", None),
    ],
)
def test_final_answer_number_forms(text: str, expected: str | None) -> None:
    assert extract_final(text) == expected


def test_final_answer_is_exact_at_any_length() -> None:
    big = "123456789012345678901234567890123"
    assert extract_final(f"#### {big}.500") == f"{big}.5"
    assert extract_final(f"\\boxed{{\\frac{{{big}}}{{4}}}}") == "30864197253086419725308641972530.75"
    assert extract_final(f"It is {big} million") == f"{big}000000"
    assert normalize_number("3/8") == "0.375" and normalize_number("2/6") == "1/3"


def test_registry_names_the_extractors_and_suggests_on_a_typo() -> None:
    assert {"final-answer", "strict-match", "flexible-extract"} <= set(EXTRACTORS.names())
    assert get_extractor(DEFAULT_EXTRACTOR) is extract_final
    with pytest.raises(RegistryError, match="Did you mean 'flexible-extract'"):
        get_extractor("flexible-extrac")


def test_tasks_name_their_extractor_and_parse_completion_uses_it() -> None:
    assert TASKS.get("gsm8k").answer_extractor == "final-answer"
    assert TASKS.get("gsm8k-socratic").answer_extractor == "final-answer"
    assert TASKS.get("gsm8k-fewshot").answer_extractor == "flexible-extract"
    completion = Completion(text="So the answer is 18. Check: 18 * 2 = 36.")
    assert parse_completion(completion).answer == "18"
    parsed = parse_completion(completion, TASKS.get("gsm8k-fewshot").answer_extractor)
    assert (parsed.answer, parsed.strict_answer) == ("36", None)
    with pytest.raises(RegistryError, match="unknown answer extractor"):
        parse_completion(completion, "last-number")


def test_a_task_with_an_unknown_extractor_is_refused_where_it_is_defined() -> None:
    with pytest.raises(RegistryError, match=r"task 'mine'.*Did you mean 'strict-match'"):
        Task(name="mine", description="", style="chat", answer_extractor="strict_match")


HOSTILE = [
    "1" * 100_000,
    "a1" * 50_000,
    "the answer is " * 7_000,
    "\\boxed{" * 14_000,
    "####" * 25_000,
    "#### 1 = " * 11_000,
    "$ -" * 33_000,
    "1," * 50_000,
    "{,}1" * 25_000,
    "1e" * 50_000,
    "\\frac{1}{" * 11_000,
    "= 1 x " * 16_000,
    "." * 100_000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:8]))
def test_final_answer_is_fast_on_100k_characters(text: str) -> None:
    start = time.perf_counter()
    extract_final(text)
    assert time.perf_counter() - start < 0.5  # linear: milliseconds; a quadratic path takes minutes


_PIECES = ["\u2212", "\u2013", "\\boxed{", "\\frac{", "{,}", "####", "answer is ", "Answer:", "million", "e5"]
_ALPHABET = st.sampled_from([*"0123456789 .,-$#=*/{}\\\n%e", *_PIECES])


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=200).map("".join))
def test_every_extractor_returns_a_normalised_number_or_none(text: str) -> None:
    for name in EXTRACTORS.names():
        answer = get_extractor(name)(text)
        assert answer is None or normalize_number(answer) == answer


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=2_000))
def test_final_answer_never_raises_on_any_text(text: str) -> None:
    answer = extract_final(text)
    assert answer is None or isinstance(answer, str)


def test_rescoring_reads_the_extractor_of_the_task_in_run_json() -> None:
    from faithbench.harness.runner import task_extractor

    assert task_extractor("gsm8k-fewshot") == "flexible-extract"
    assert task_extractor("gsm8k") == "final-answer"
    assert task_extractor("a-plugin-task-no-longer-installed") == DEFAULT_EXTRACTOR  # old runs stay readable
