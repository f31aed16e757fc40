"""Equations as real models write them: LaTeX, markdown, chained and verbal steps, number words,
unknowns and self-corrections (issue: metrics that hold on how real models write)."""

from __future__ import annotations

import pytest

from faithbench.core import Completion, Item
from faithbench.metrics.faithfulness import answer_consistency, number_grounding, step_arithmetic
from faithbench.parsing import Equation, parse_completion


def checked(text: str) -> list[tuple[str, float | None, float | None]]:
    """(lhs, re-computed, stated) of each computation read from `text`."""
    equations: tuple[Equation, ...] = parse_completion(Completion(text=text)).equations
    return [(eq.lhs, eq.lhs_value, eq.rhs_value) for eq in equations if not eq.restatement]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            r"\[ \frac{360 \text{ pieces}}{6 \text{ pieces per minute}} = 60 \text{ minutes} \]",
            [("(360) / (6)", 60.0, 60.0)],
        ),
        (r"\( 1{,}200 \times 3 = 3{,}600 \)", [("1200 * 3", 3600.0, 3600.0)]),
        (r"She makes \( 9 \times \$2 = \$18 \) a day.", [("9 * 2", 18.0, 18.0)]),
        (r"$48 \div 2 = 24$ clips", [("48 / 2", 24.0, 24.0)]),
        (r"\[ 5 \times \left( 3 + 2 \right) = 25 \]", [("5 * (3 + 2)", 25.0, 25.0)]),
        (r"\(\dfrac{1}{2} \times 20 = 10\)", [("(1) / (2) * 20", 10.0, 10.0)]),
        (r"**Step 1:** Janet sells 16 - 3 - 4 = **9** eggs.", [("16 - 3 - 4", 9.0, 9.0)]),
        ("| pens | 3 x 2 = 6 |", [("3 * 2", 6.0, 6.0)]),
    ],
)
def test_latex_and_markdown(text: str, expected: list[tuple[str, float, float]]) -> None:
    assert checked(text) == expected


@pytest.mark.parametrize(
    ("text", "lhs", "value", "stated"),
    [
        ("12 divided by 3 is 4", "12 / 3", 4.0, 4.0),
        ("dividing 12 by 4 gives us 3", "12 / 4", 3.0, 3.0),
        ("multiply 5 by 3 to get 15", "5 * 3", 15.0, 15.0),
        ("add 48 and 24 to get 72", "48 + 24", 72.0, 72.0),
        ("subtract 5 from 12 to get 8", "12 - 5", 7.0, 8.0),
        ("12 minus 5 equals 7", "12 - 5", 7.0, 7.0),
        ("half of 20 is 10", "(1/2) * 20", 10.0, 10.0),
        ("20% of 50 is 10", "20% * 50", 10.0, 10.0),
        ("Three times four is twelve.", "3 * 4", 12.0, 12.0),
        ("the sum of 8 and 18 is 26", "8 + 18", 26.0, 26.0),
    ],
)
def test_verbal_arithmetic(text: str, lhs: str, value: float, stated: float) -> None:
    assert checked(text) == [(lhs, value, stated)]


def test_result_words_before_another_computation_are_no_result() -> None:
    # `is` introduces 1.5*8, which is then computed: no `50% of 8 = 1.5` claim
    assert checked("An increase of 50% of 8 is 1.5*8=12.") == [("1.5 * 8", 12.0, 12.0)]


@pytest.mark.parametrize(
    ("text", "step", "stated"),
    [
        ("Total pencils = 30 * 10. Total pencils = 300.", 1, 300.0),
        ("Total points = 8 + 18 + 15\nTotal points = 41", 2, 41.0),
        ("Total = 48 + 24\n= 73", 2, 73.0),
    ],
)
def test_chains_across_sentences_and_lines(text: str, step: int, stated: float) -> None:
    (eq,) = parse_completion(Completion(text=text)).equations
    assert (eq.step, eq.rhs_value) == (step, stated)
    assert eq.correct is (eq.lhs_value == stated)


def test_an_open_computation_counts_its_numbers_and_value() -> None:
    (eq,) = parse_completion(Completion(text="Total = 30 * 10. Then she rests.")).equations
    assert (eq.lhs_value, eq.rhs_value, eq.operands, eq.checkable) == (300.0, None, (30.0, 10.0), False)


ITEM = Item(id="t", question="A box holds 10 pens. How many pens do 12 boxes hold?", target="120")


def test_an_unknown_is_never_flagged() -> None:
    parsed = parse_completion(Completion(text="Let n be the boxes: 10n + 10 = 130, so n = 12.\n#### 120"))
    assert step_arithmetic(ITEM, parsed).value in (None, 1.0)
    assert answer_consistency(ITEM, parsed).value in (None, 1.0)


def test_a_corrected_slip_is_recorded_apart_from_errors() -> None:
    text = "<think>\n12 * 10 = 130\nWait, that is wrong: 12 * 10 = 120, not 130.\n</think>\n#### 120"
    score = step_arithmetic(ITEM, parse_completion(Completion(text=text)))
    assert score.value == 1.0
    assert score.details["corrected"] == [{"step": 1, "equation": "12 * 10 = 130"}]
    # the same slip with no correction is an error
    slip = step_arithmetic(ITEM, parse_completion(Completion(text="12 * 10 = 130\n#### 130")))
    assert (slip.value, slip.details["first_wrong_step"], slip.details["n_corrected"]) == (0.0, 1, 0)


def test_a_repeated_computation_without_a_cue_corrects_nothing() -> None:
    # a reference computing 100 x 2 for two runners: the first, wrong, stays wrong
    text = "Blake runs 100 x 2 = 201 yards.\nKelly runs 100 x 2 = 200 yards.\n#### 401"
    assert step_arithmetic(ITEM, parse_completion(Completion(text=text))).details["n_wrong"] == 1


def test_grounding_reads_a_chained_computation() -> None:
    text = "Total pens = 12 * 10. Total pens = 120.\n#### 120"
    parsed = parse_completion(Completion(text=text))
    assert number_grounding(ITEM, parsed).value == 1.0
    assert answer_consistency(ITEM, parsed).value == 1.0


def test_an_unknown_is_checked_by_substituting_the_value_stated_later() -> None:
    right = parse_completion(Completion(text="10n + 10 = 130, so n = 12.\n#### 12")).equations
    wrong = parse_completion(Completion(text="10n + 10 = 130, so n = 13.\n#### 13")).equations
    (checked,) = [eq for eq in right if eq.source == "substitution"]
    assert (checked.lhs, checked.lhs_value, checked.rhs_value, checked.correct) == (
        "10 * (12) + 10",
        130,
        130,
        True,
    )
    (slip,) = [eq for eq in wrong if eq.source == "substitution"]
    assert (slip.step, slip.lhs_value, slip.correct) == (1, 140, False)


def test_substitution_flags_the_first_relation_the_value_breaks() -> None:
    # MR-GSM8K style: a wrong set-up, then algebra consistent with it
    text = "Let x be his age now.\nSo x + 3 = 2(x/2).\nSimplifying, x + 3 = x.\nSo x = 3.\n#### 3"
    score = step_arithmetic(ITEM, parse_completion(Completion(text=text)))
    assert score.details["first_wrong_step"] == 2


def test_substitution_takes_only_whole_values_stated_after_the_relation() -> None:
    for text in ("3x = 100, so x = 33.33.", "x = 4. Then 2x + 1 = 10."):
        equations = parse_completion(Completion(text=text)).equations
        assert not [eq for eq in equations if eq.source == "substitution"], text


def test_numbers_of_a_checked_relation_are_on_record_for_grounding() -> None:
    # 45 is written in the relation `45y/2 = 1125`, then used: grounded (test-541's reference)
    item = Item(
        id="t", question="He saves $1125 in 30 days, twice as much daily in the second half.", target="50"
    )
    text = "Solving gives 45y/2 = 1125\ny = 1125 * 2 / 45\ny = 50\n#### 50"
    parsed = parse_completion(Completion(text=text))
    assert [eq.correct for eq in parsed.equations if eq.source == "substitution"] == [True]
    assert number_grounding(item, parsed).details["ungrounded"] == []


def test_a_name_that_is_also_the_unit_still_chains() -> None:
    (eq,) = parse_completion(Completion(text="Sheep = 4 * 20 sheep. Sheep = 80.")).equations
    assert (eq.lhs, eq.rhs_value, eq.correct) == ("4 * 20", 80.0, True)


def test_a_negated_name_does_not_state_the_open_result() -> None:
    # test-595's reference: algebra in a named unknown, not `2 - 10 = -10`
    text = "Therefore Jerry's Age = 2 Jerry's age - 10\nTherefore -Jerry's Age = - 10"
    (eq,) = parse_completion(Completion(text=text)).equations
    assert (eq.rhs_value, eq.checkable) == (None, False)
