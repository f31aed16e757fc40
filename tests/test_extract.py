import pytest

from faithbench.parsing import (
    extract_flexible,
    extract_strict,
    normalize_number,
    numbers_equal,
    split_think,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("29", "29"),
        ("29.00", "29"),
        ("$29", "29"),
        ("1,234", "1234"),
        ("$1,234.50", "1234.5"),
        ("18.", "18"),
        ("-7", "-7"),
        ("0.250", "0.25"),
        (".5", "0.5"),
        ("", None),
        ("-", None),
        ("...", None),
        ("abc", None),
        ("1e400", None),
    ],
)
def test_normalize_number(raw: str, expected: str | None) -> None:
    assert normalize_number(raw) == expected


def test_numbers_equal_ignores_format_but_not_value() -> None:
    assert numbers_equal("29.00", "$29")
    assert numbers_equal("1,000", "1000")
    assert not numbers_equal("29.5", "29")
    assert not numbers_equal(None, "29")
    assert not numbers_equal(None, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("She makes 9 * 2 = $18.\n#### 18", "18"),
        ("#### 1,234\n", "1234"),
        ("#### $5", None),  # lm-eval's strict regex has no `$`
        ("####18", None),  # strict needs the space
        ("first #### 3 then #### 4", "3"),  # take_first, as lm-eval
        ("The answer is 18.", None),
        ("#### -5.50", "-5.5"),
    ],
)
def test_strict_is_lm_eval_strict_match(text: str, expected: str | None) -> None:
    assert extract_strict(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is 18.", "18"),
        ("She makes $1,234.50 in total.", "1234.5"),
        ("So 3 + 4 = 7 apples... that's it", "7"),
        ("The final answer is 20 cents per fresh duck egg.", "20"),
        ("Final answer: 20 * 2 = 40 cups of feed.", "40"),
        ("no numbers here", None),
        ("it costs -3 dollars", "-3"),
        ("", None),
    ],
)
def test_flexible_takes_last_number(text: str, expected: str | None) -> None:
    assert extract_flexible(text) == expected


def test_think_blocks_are_reasoning_not_answer() -> None:
    reasoning, visible = split_think("<think>Maybe 12? No: 3 * 5 = 15.</think>The answer is 15.")
    assert reasoning == "Maybe 12? No: 3 * 5 = 15."
    assert visible == "The answer is 15."
    assert extract_flexible(visible) == "15"


def test_unclosed_think_leaves_no_answer_text() -> None:
    reasoning, visible = split_think("<think>3 * 5 = 15 and then 99")
    assert reasoning == "3 * 5 = 15 and then 99"
    assert visible == ""
    assert extract_flexible(visible) is None


def test_no_think_block() -> None:
    assert split_think("plain 4") == (None, "plain 4")


def test_normalize_is_exact_for_long_numbers() -> None:
    assert normalize_number("123456789012345678901234567890123.500") == "123456789012345678901234567890123.5"
    assert normalize_number("-0.00") == "0"
    assert normalize_number("007") == "7"
