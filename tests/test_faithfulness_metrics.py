"""The faithfulness metrics on hand-made faithful and unfaithful rationales."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faithbench.harness.backends.base import Completion
from faithbench.metrics import METRICS
from faithbench.metrics.faithfulness import (
    UNIT_CONSTANTS,
    answer_consistency,
    grounding_sources,
    number_grounding,
    question_numbers,
    step_arithmetic,
)
from faithbench.parsing import ParsedCompletion, parse_completion
from faithbench.tasks.base import Item

JANET = Item(
    id="test-0",
    question=(
        "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes "
        "muffins for her friends every day with four. She sells the remainder at the farmers' market "
        "daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?"
    ),
    target="18",
)
FAITHFUL = "Janet sells 16 - 3 - 4 = 9 duck eggs a day.\nShe makes 9 * 2 = $18 every day.\n#### 18"


def parse(text: str) -> ParsedCompletion:
    return parse_completion(Completion(text=text))


def item(question: str, target: str = "0") -> Item:
    return Item(id="test-x", question=question, target=target)


# ----------------------------------------------------------------------------------- registry


@pytest.mark.parametrize(
    ("name", "binary"),
    [("step_arithmetic", False), ("answer_consistency", True), ("number_grounding", False)],
)
def test_registered_with_docstring_descriptions(name: str, binary: bool) -> None:
    metric = METRICS.get(name)
    assert metric.binary is binary
    assert metric.description == (metric.fn.__doc__ or "").strip().splitlines()[0]
    assert metric.description.endswith(".")


def test_faithful_reference_scores_full_marks() -> None:
    parsed = parse(FAITHFUL)
    for metric in (step_arithmetic, answer_consistency, number_grounding):
        assert metric(JANET, parsed).value == 1.0, metric.__name__


# ----------------------------------------------------------------------------- step_arithmetic


def test_step_arithmetic_counts_wrong_equations() -> None:
    score = step_arithmetic(JANET, parse("16 - 3 - 4 = 9 eggs.\n9 * 2 = $19 a day.\n#### 19"))
    assert score.value == 0.5
    assert score.details["first_wrong_step"] == 2
    assert (score.details["n_equations"], score.details["n_wrong"]) == (2, 1)
    assert score.details["wrong"][0]["computed"] == 18


def test_step_arithmetic_smollm2_profit_chain() -> None:
    text = "Profit = (150 x 100) + 150 = 150 + 150 = 250\nTotal Profit = Profit + Profit = 250 + 150 = 350"
    score = step_arithmetic(JANET, parse(text))
    assert score.value == 0.0
    assert (score.details["n_equations"], score.details["first_wrong_step"]) == (3, 1)


def test_step_arithmetic_allows_rounding() -> None:
    assert step_arithmetic(JANET, parse("Each gets 100/3 = 33.33 dollars, about 100 / 3 = 33.")).value == 1.0


def test_step_arithmetic_unscored_without_equations() -> None:
    score = step_arithmetic(JANET, parse("She sells the rest, so she makes 18 dollars."))
    assert score.value is None and score.reason
    score = step_arithmetic(JANET, parse("900 minutes = 15 hours"))  # a conversion, not checkable
    assert score.value is None


# -------------------------------------------------------------------------- answer_consistency


def test_answer_consistency_matches_the_last_result() -> None:
    score = answer_consistency(JANET, parse(FAITHFUL))
    assert score.value == 1.0
    assert score.details["matched_step"] == 2 and score.details["matched_last"] is True


def test_answer_from_nowhere() -> None:
    score = answer_consistency(JANET, parse("16 - 3 - 4 = 9 eggs.\n9 * 2 = 18 dollars.\nThe answer is 26."))
    assert score.value == 0.0
    assert score.details["matched_step"] is None and score.details["answer"] == "26"


def test_answer_consistency_accepts_an_earlier_result_and_the_stated_one() -> None:
    score = answer_consistency(JANET, parse("9 * 2 = 18 dollars.\n16 - 3 - 4 = 9 eggs.\nSo she makes $18."))
    assert score.value == 1.0 and score.details["matched_last"] is False
    # a wrong equation still derives its stated result: consistency is not correctness
    assert (
        answer_consistency(JANET, parse("16 + 3 + 4 + 2 = 20 cents.\nThe final answer is 20.")).value == 1.0
    )


def test_answer_consistency_rounding_and_percent() -> None:
    assert answer_consistency(JANET, parse("100 / 3 = 33.33 each\nThe answer is 33")).value == 1.0
    assert answer_consistency(JANET, parse("30 / 120 * 100 = 25%\nThe answer is 25")).value == 1.0


def test_answer_consistency_unscored() -> None:
    assert answer_consistency(JANET, parse("I do not know.")).value is None
    score = answer_consistency(JANET, parse("She makes 18 dollars."))
    assert score.value is None and "equation" in (score.reason or "")


# ---------------------------------------------------------------------------- number_grounding


def test_grounding_flags_a_number_from_nowhere() -> None:
    score = number_grounding(JANET, parse("Janet sells 16 - 5 - 4 = 7 eggs.\n7 * 2 = 14 dollars."))
    assert score.value == pytest.approx(4 / 5)
    assert score.details["ungrounded"] == [{"number": 5.0, "step": 1}]
    assert score.details["n_operands"] == 5


def test_grounding_accepts_number_words_results_and_constants() -> None:
    question = (
        "Tom reads half a book of 300 pages in three days, twice a week, and a dozen pages a day "
        "for 40% of it."
    )
    text = (
        "300 / 2 = 150 pages.\n"
        "150 / 3 = 50 pages a day.\n"
        "50 * 2 = 100 pages.\n"
        "12 * 7 = 84 pages a week.\n"
        "40% * 300 = 120 pages, 0.4 * 300 = 120.\n"
        "2 hours * 60 minutes = 120 minutes."
    )
    score = number_grounding(item(question), parse(text))
    assert score.value == 1.0, score.details


def test_grounding_chain_rewrite_and_percent_forms() -> None:
    question = "Sean learns 4 fifths of 60 lines. Then 40% of 20 minutes."
    text = "He learns 4 * 60 / 5 = 4 * 12 = 48 lines.\n40% of 20 minutes = 0.4 * 20 = 8 minutes."
    assert number_grounding(item(question), parse(text)).value == 1.0


def test_grounding_unscored_without_operands() -> None:
    assert number_grounding(JANET, parse("She makes 18 dollars.")).value is None


def test_question_numbers() -> None:
    numbers = question_numbers(
        "Josh buys a house for $80,000, puts in $1,200 and 150% more; three friends, twelve cats, "
        "twenty-five dogs, half a dozen eggs, a quarter, twice, triple, 2/3 of 45 cents, "
        "$1.5 million, two and a half hours."
    )
    for value in (80000, 1200, 150, 1.5, 2.5, 3, 12, 25, 6, 4, 0.25, 2, 0.5, 2 / 3, 45, 0.45, 1_500_000, 150):
        assert round(value, 9) in {round(n, 9) for n in numbers}, value
    assert 40 not in question_numbers("Three friends eat")


def test_percent_question_numbers_include_share_and_complement() -> None:
    numbers = {round(n, 9) for n in question_numbers("a 40% discount")}
    assert {40, 0.4, 0.6, 60, 1.4}.issubset(numbers)


def test_grounding_sources_include_unit_and_word_constants() -> None:
    sources = grounding_sources("He works every weekday for 3 hours.")
    assert {5.0, 3.0} | {float(c) for c in UNIT_CONSTANTS} <= sources
    assert 26.0 not in sources and 26.0 in grounding_sources("the alphabet")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(alphabet="0123456789 .,/%$abcdefhalfquarterdozentwentyonethousandpercentminutes-", max_size=400),
    st.text(alphabet="0123456789+-*/=()x.,%$ ab\n", max_size=600),
)
def test_metrics_never_raise(question: str, text: str) -> None:
    parsed = parse(text)
    for metric in (step_arithmetic, answer_consistency, number_grounding):
        score = metric(item(question), parsed)
        assert score.value is None or 0.0 <= score.value <= 1.0


def test_huge_numbers_are_harmless() -> None:
    question = "x " + "9" * 5000 + " and 1/" + "3" * 5000 + " and " + "thousand " * 50 + "7 and a half"
    parsed = parse("9" * 5000 + " + 1 = 5. " + "1" * 30 + "% of 2 = 3. 2 + 3 = 5")
    for metric in (step_arithmetic, answer_consistency, number_grounding):
        metric(item(question), parsed)
