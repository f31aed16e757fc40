"""Steps and equations read from text as models (and GSM8K references) write it."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faithbench.harness.backends.base import Completion
from faithbench.parsing import Equation, find_equations, parse_completion, split_sentences, split_steps


def equations(text: str) -> tuple[Equation, ...]:
    return find_equations(split_steps(text))


def only(text: str) -> Equation:
    found = [eq for eq in equations(text) if not eq.restatement]
    assert len(found) == 1, found
    return found[0]


# ------------------------------------------------------------------------------------------ steps


def test_steps_are_lines_and_sentences() -> None:
    text = "Janet has 16 eggs. She eats 3!\n\n  Is that 13? Yes.\n---\n```\nThe answer is 13."
    assert split_steps(text) == ("Janet has 16 eggs. She eats 3!", "Is that 13? Yes.", "The answer is 13.")
    assert split_sentences(text) == (
        "Janet has 16 eggs.",
        "She eats 3!",
        "Is that 13?",
        "Yes.",
        "The answer is 13.",
    )


@pytest.mark.parametrize(
    "line",
    [
        "It costs $2.50 each and 3.5 hours of work.",
        "1. Janet lays 16 eggs per day.",
        "Step 2. Multiply 3 by 4.",
        "Mr. Smith pays 5 * 3 = 15 dollars.",
        "Use e.g. 3 cups.",
        "He runs 3.5 km in 0.5 h.",
    ],
)
def test_no_split_inside_numbers_markers_and_abbreviations(line: str) -> None:
    assert split_steps(line) == (line,)


def test_unit_abbreviation_does_not_end_a_sentence() -> None:
    assert split_steps("He buys 3 lbs. of coffee * 40 cups = 120 cups.") == (
        "He buys 3 lbs. of coffee * 40 cups = 120 cups.",
    )


def test_empty_rationale_has_no_steps() -> None:
    assert split_steps("") == ()
    assert split_steps("\n \n---\n") == ()
    assert find_equations(()) == ()


# -------------------------------------------------------------------------------- equations: basics


@pytest.mark.parametrize(
    ("text", "lhs", "rhs", "lhs_value", "rhs_value", "operands", "correct"),
    [
        ("Janet sells 16 - 3 - 4 = 9 duck eggs a day.", "16 - 3 - 4", "9", 9, 9, (16, 3, 4), True),
        ("She makes 9 * 2 = $18 every day.", "9 * 2", "18", 18, 18, (9, 2), True),
        ("9*2=19", "9 * 2", "19", 18, 19, (9, 2), False),
        ("Total distance = 60 meters * 3 sprints = 180 meters", "60 * 3", "180", 180, 180, (60, 3), True),
        (
            "That is (150 x 100) + 150 = 15150",
            "(150 * 100) + 150",
            "15150",
            15150,
            15150,
            (150, 100, 150),
            True,
        ),
        ("which is 3 cups * 3 = 9 cups of feed.", "3 * 3", "9", 9, 9, (3, 3), True),
        ("He pays $1,200 + $300 = $1,500.", "1200 + 300", "1500", 1500, 1500, (1200, 300), True),
        ("So 100/3 = 33.33 each", "(100/3)", "33.33", 100 / 3, 33.33, (100, 3), True),
        ("So 100 / 3 = 33 each", "100 / 3", "33", 100 / 3, 33, (100, 3), True),
        ("$20/hour * 35 hours/week = $700/week", "20 * 35", "700", 700, 700, (20, 35), True),
        ("3 books/person x 2 people = 6 books total", "3 * 2", "6", 6, 6, (3, 2), True),
        ("10 years * 5% = 50%", "10 * 5%", "50%", 0.5, 0.5, (10, 5), True),
        ("The discount is 20% of $50 = $10.", "20% * 50", "10", 10, 10, (20, 50), True),
        ("3 times 4 = 12", "3 * 4", "12", 12, 12, (3, 4), True),
        ("12 divided by 4 = 3", "12 / 4", "3", 3, 3, (12, 4), True),
        ("It took 84/12 = 7 dozen eggs", "(84/12)", "7", 7, 7, (84, 12), True),
        (
            "After Thursday, 5 - 1 - 1/2 = 3 1/2 hours",
            "5 - 1 - (1/2)",
            "(3+1/2)",
            3.5,
            3.5,
            (5, 1, 1, 2),
            True,
        ),
        ("W = 1 1/2 / 1/2 = 3 episodes", "(1+1/2) / (1/2)", "3", 3, 3, (1, 1, 2, 1, 2), True),
        (
            "25 classmates + his 1 teacher + 1 himself = 27 people",
            "25 + 1 + 1",
            "27",
            27,
            27,
            (25, 1, 1),
            True,
        ),
        ("The room's perimeter is 2(40+9) = 98", "2 * (40 + 9)", "98", 98, 98, (2, 40, 9), True),
        ("65-minute concert – 15-minute encore = 50 minutes", "65 - 15", "50", 50, 50, (65, 15), True),
        ("93 (average) * 5 (tests) = 465 points", "93 * 5", "465", 465, 465, (93, 5), True),
        (
            "The house is $350 000 + $17500 = $367 500.",
            "350000 + 17500",
            "367500",
            367500,
            367500,
            (350000, 17500),
            True,
        ),
        ("32 / 96 * 100% = 33.333...%", "32 / 96 * 100%", "33.333...%", 1 / 3, 0.33333, (32, 96, 100), True),
        (
            "9 teaspoons / 21 teaspoons * 100% = 42.857",
            "9 / 21 * 100",
            "42.857",
            300 / 7,
            42.857,
            (9, 21, 100),
            True,
        ),
    ],
)
def test_equations_as_written(
    text: str,
    lhs: str,
    rhs: str,
    lhs_value: float,
    rhs_value: float,
    operands: tuple[float, ...],
    correct: bool,
) -> None:
    eq = only(text)
    assert (eq.lhs, eq.rhs) == (lhs, rhs)
    assert eq.lhs_value == pytest.approx(lhs_value)
    assert eq.rhs_value == pytest.approx(rhs_value)
    assert eq.operands == operands
    assert eq.correct is correct
    assert eq.source == "text"


def test_model_written_wrong_sum() -> None:
    eq = only("5. She makes a total of 16 + 3 + 4 + 2 = 20 cents per fresh duck egg.")
    assert eq.lhs_value == 25 and eq.rhs_value == 20 and eq.correct is False
    assert eq.text == "16 + 3 + 4 + 2 = 20 cents per fresh duck egg"


def test_percent_of_chain() -> None:
    text = "Then we multiply by 100%: 40% of 20 minutes = 0.4 * 20 = 8 minutes."
    first, second = equations(text)
    assert (first.lhs, first.rhs, first.correct, first.operands) == ("40% * 20", "0.4 * 20", True, (40, 20))
    assert (second.lhs, second.rhs, second.correct, second.operands) == ("0.4 * 20", "8", True, (0.4, 20))
    assert first.chain == second.chain and (first.link, second.link) == (0, 1)


def test_chains_check_every_link() -> None:
    first, second = equations("Profit = (150 x 100) + 150 = 150 + 150 = 250")
    assert (first.lhs_value, first.rhs_value, first.correct) == (15150, 300, False)
    assert (second.lhs_value, second.rhs_value, second.correct) == (300, 250, False)
    # the word-only link is skipped; 250 + 150 = 350 is a wrong equation
    eq = only("Total Profit = Profit + Profit = 250 + 150 = 350")
    assert (eq.lhs, eq.rhs, eq.correct) == ("250 + 150", "350", False)


def test_restatement_links_are_not_equations() -> None:
    eq = only("Final answer: 20 * 2 = 40 = 40 cups of feed.")
    assert (eq.lhs, eq.rhs, eq.correct) == ("20 * 2", "40", True)


def test_conversions_and_algebra_results_are_recorded_unchecked() -> None:
    (conversion,) = equations("900 minutes = 15 hours")
    assert conversion.restatement and not conversion.checkable and conversion.operands == ()
    assert conversion.rhs_value == 15
    found = equations("Let x be her age. 7x = 329, so x = 47")
    stated = [(eq.lhs, eq.rhs_value, eq.restatement) for eq in found if eq.source != "substitution"]
    assert stated == [("7x", 329, True), ("x", 47, True)]
    # and the stated value is put back into the relation it solves (parsing.algebra)
    assert [(eq.lhs, eq.correct) for eq in found if eq.source == "substitution"] == [("7 * (47)", True)]


@pytest.mark.parametrize(
    "text",
    [
        "2x + 4x = 6x",
        "3r + 5w = 42, where r is red",
        "X*6 + 9 = 87 years old",
        "3x +4 - 4 = 28 – 4",
        "Nikita gets 1/2 (68 + 10 = 78",
        "From 6:00 + 18 hours = 00:00",
    ],
)
def test_algebra_and_clock_times_are_never_false_alarms(text: str) -> None:
    assert all(eq.correct is not False for eq in equations(text))


def test_unreadable_right_side_is_kept_uncheckable() -> None:
    (eq,) = equations("We get 27 - 9 = (6 * x) - (3 * x).")
    assert eq.lhs_value == 18 and eq.rhs_value is None and not eq.checkable and eq.correct is None


def test_running_total_reads_as_two_steps() -> None:
    first, second = equations("So 1/2 off of 1 pound is $3/2 = $1.50+$3.00=$4.50")
    assert (first.rhs, first.correct) == ("1.50", True)
    assert (second.lhs, second.rhs, second.correct) == ("1.50 + 3.00", "4.50", True)


def test_parenthetical_remark_is_not_a_product() -> None:
    eq = only("In one hour, there are 60 / 15 = 4 (15 minutes).")
    assert (eq.rhs_value, eq.correct) == (4, True)


def test_two_equations_in_one_sentence() -> None:
    first, second = equations("She makes 16+3 = 19 cookies and then 19 * 2 = 38 for the sale.")
    assert (first.lhs, first.rhs, second.lhs, second.rhs) == ("16 + 3", "19", "19 * 2", "38")
    assert first.chain != second.chain


def test_markdown_latex_and_bullets() -> None:
    assert only("James runs **9 × 60 = 540** meters").lhs == "9 * 60"
    assert only(r"Increase: \( 80000 \times 1.5 = 120000 \)").correct
    assert only(r"\[ \frac{120000}{2} = 60000 \]").lhs_value == 60000
    assert only("- 16 - 3 - 4 = 9").lhs_value == 9  # a bullet, not a minus sign
    assert only("* 9 * 2 = 18").lhs_value == 18
    assert only("She ate ¾ x 12 = 9 slices").lhs_value == 9
    assert only("She pays 10 percent of $50 = $5").correct


# ---------------------------------------------------------------------------------- annotations


def test_annotations_are_equations_and_deduplicate_the_text() -> None:
    found = equations("Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.")
    assert len(found) == 1
    eq = found[0]
    assert (eq.source, eq.lhs, eq.rhs, eq.correct, eq.operands) == (
        "annotation",
        "16-3-4",
        "9",
        True,
        (16, 3, 4),
    )


def test_wrong_annotation_is_caught() -> None:
    (eq,) = equations("He has <<80000*1.5=130000>>130000.")
    assert eq.source == "annotation" and eq.correct is False


def test_text_equation_beside_a_different_annotation_stays() -> None:
    found = equations("So 2 + 2 = 4 and <<3*3=9>>9 more.")
    assert sorted(eq.source for eq in found) == ["annotation", "text"]


# ------------------------------------------------------------------------------- completions


def test_think_block_is_reasoned_over_and_answer_read_outside() -> None:
    parsed = parse_completion(
        Completion(text="<think>3 * 4 = 12, then 12 + 1 = 13.</think>The answer is 13 apples.")
    )
    assert parsed.reasoning == "3 * 4 = 12, then 12 + 1 = 13."
    assert parsed.answer == "13"
    assert [eq.lhs for eq in parsed.equations] == ["3 * 4", "12 + 1"]
    assert parsed.equations[0].step == 1


def test_reasoning_channel_and_visible_text_both_count() -> None:
    parsed = parse_completion(Completion(text="So 5 * 2 = 10.\n#### 10", reasoning="First 2 + 3 = 5."))
    assert [eq.lhs for eq in parsed.equations] == ["2 + 3", "5 * 2"]
    assert parsed.steps[0] == "First 2 + 3 = 5."
    assert parsed.strict_answer == "10"


def test_smollm2_style_completion() -> None:
    text = (
        "Profit = (150 x 100) + 150 = 150 + 150 = 250\n"
        "Total Profit = Profit + Profit = 250 + 150 = 350\n"
        "So, Josh made a profit of 350 dollars.\n"
        "The answer is: 350"
    )
    parsed = parse_completion(Completion(text=text))
    assert len(parsed.steps) == 4
    assert [eq.correct for eq in parsed.equations] == [False, False, False]
    assert parsed.answer == "350"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="0123456789+-*/=()x.,%$ abn\n<>", max_size=3000))
def test_any_text_parses_quickly(text: str) -> None:
    start = time.perf_counter()
    parsed = parse_completion(Completion(text=text))
    assert time.perf_counter() - start < 2
    for eq in parsed.equations:
        assert 1 <= eq.step <= len(parsed.steps)
        assert eq.correct in (True, False, None)
