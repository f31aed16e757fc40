"""The numbers a text states, in every form a solution may compute with them: digits, percentages,
cents, fractions, scales (`1.5 million`) and number words (`twenty-five`, `half`, `a dozen`).

`question_numbers` is the one code path for "numbers of the question": metrics and rewards share it.
"""

from __future__ import annotations

import re
from fractions import Fraction

from faithbench.parsing.arith import MAX_MAGNITUDE

_NUMBER_RE = re.compile(
    r"(?<![\w.])(?:\$\s?)?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d{1,3}(?: \d{3})+(?![\d,]|\.\d)|\d+)(?:\.\d+)?"
    r"(?:\s?%|\s+percent\b|\s?(?:cents?|¢)(?!\w))?"
    r"|(?<![\w.])(?:\$\s?)?\.\d+(?:\s?%|\s+percent\b)?",
    re.IGNORECASE,
)
_DURATION_RE = re.compile(
    r"(?<![\d.])(\d{1,15}(?:\.\d{1,15})?)[\s-]*(minutes?|mins?|seconds?|hours?)\b", re.IGNORECASE
)
_FRACTION_RE = re.compile(r"(?<![\w.])(?:(\d{1,15})\s+)?(\d{1,15})\s*/\s*(\d{1,15})(?![\d.])")
_SCALE_RE = re.compile(
    r"(?<![\d.])(\d{1,15}(?:\.\d{1,15})?)\s*(hundred|thousand|million|billion|k\b)", re.IGNORECASE
)
_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9, "k": 1000}
# A word that stands for a number: its values (a fraction word gives the denominator and the fraction).
_WORD_VALUES: dict[str, tuple[Fraction, ...]] = {
    "half": (Fraction(2), Fraction(1, 2)),
    "halves": (Fraction(2), Fraction(1, 2)),
    "quarter": (Fraction(4), Fraction(1, 4)),
    "quarters": (Fraction(4), Fraction(1, 4)),
    "once": (Fraction(1),),
    "twice": (Fraction(2),),
    "thrice": (Fraction(3),),
    "double": (Fraction(2),),
    "doubled": (Fraction(2),),
    "doubles": (Fraction(2),),
    "triple": (Fraction(3),),
    "tripled": (Fraction(3),),
    "triples": (Fraction(3),),
    "quadruple": (Fraction(4),),
    "quadrupled": (Fraction(4),),
    "dozen": (Fraction(12),),
    "dozens": (Fraction(12),),
    "pair": (Fraction(2),),
    "pairs": (Fraction(2),),
    "couple": (Fraction(2),),
    "both": (Fraction(2),),
    "single": (Fraction(1),),
    "hundreds": (Fraction(100),),
    "thousands": (Fraction(1000),),
}
_ORDINALS = {
    "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
    "eleventh": 11, "twelfth": 12, "twentieth": 20, "hundredth": 100,
}  # fmt: skip
_WORD_RE = re.compile(r"[a-z]+")


def number_words(text: str) -> set[Fraction]:
    """Values of the number words in `text`: `three`, `twenty-five`, `two hundred`, `two thirds`,
    `half` (2 and 1/2), `a quarter` (4 and 1/4), `twice`, `a dozen`, `half a dozen` (6), `twenties`..."""
    found: set[Fraction] = set()
    words = _WORD_RE.findall(text.lower())
    current: int | None = None  # a cardinal being read: "two hundred fifty", "twenty five"
    last = ""  # "unit", "ten" or "scale": what the cardinal read last
    previous: Fraction | None = None  # the number just before this word, for "two thirds"
    for word in [*words, ""]:
        plural_ten = word[:-3] + "y" if word.endswith("ies") and word[:-3] + "y" in _TENS else ""
        if word in _UNITS or word in _TENS:
            value = _UNITS.get(word, _TENS.get(word, 0))
            found.add(Fraction(value))
            kind = "ten" if word in _TENS else "unit"
            if current is not None and (last == "scale" or (last == "ten" and kind == "unit" and value < 10)):
                current += value
            else:
                if current is not None:
                    found.add(Fraction(current))
                current = value
            last = kind
            continue
        if word in _SCALES and word != "k" and current is not None and current <= MAX_MAGNITUDE:
            current *= _SCALES[word]
            last = "scale"
            continue
        if current is not None:
            found.add(Fraction(current))
            if word == "percent":  # fifty percent
                share = Fraction(current, 100)
                found.update({share, 1 - share, 1 + share})
            previous, current = Fraction(current), None
        else:
            previous = Fraction(1) if word in ("a", "an", "one") else None
        if plural_ten:
            found.add(Fraction(_TENS[plural_ten]))  # ten twenties
        singular = word[:-1] if word.endswith("s") else word
        if singular in _ORDINALS:
            denominator = _ORDINALS[singular]
            found.update({Fraction(denominator), Fraction(1, denominator)})
            if previous is not None and previous > 0:
                found.add(previous / denominator)  # two thirds, three fourths
        if word in _WORD_VALUES:
            found.update(_WORD_VALUES[word])
            if word in ("half", "quarter") and previous is not None:
                found.add(previous / (2 if word == "half" else 4))
            if word.startswith("dozen") and previous is not None:
                found.add(previous * 12)
    lower = text.lower()
    if re.search(r"half\s+(?:a\s+)?dozen", lower):
        found.add(Fraction(6))
    for match in re.finditer(
        r"(\d{1,15}(?:\.\d{1,15})?|[a-z]+)\s+(?:[a-z]+\s+)?and\s+(?:a\s+)?half\b", lower
    ):
        word = match.group(1)
        whole = Fraction(word) if word[0].isdigit() else _UNITS.get(word, 1 if word in ("a", "an") else None)
        if whole is not None:
            found.add(whole + Fraction(1, 2))  # two and a half, an hour and a half, a pound and half
    return found


def question_numbers(question: str) -> frozenset[float]:
    """Every number a question states, in every form a solution may compute with it.

    Digits (`$1,200` -> 1200, `$400 000`), percentages (`40%` -> 40 and 0.4; `150%` -> 150 and
    1.5), cents (`45 cents` -> 45 and 0.45), fractions (`3/4` -> 3, 4, 0.75; `2 1/2` -> 2.5), scales
    (`1.5 million` -> 1.5 and 1500000, `25k`) and number words (`three`, `twelve`, `half` -> 2 and
    0.5, `twice`/`double` -> 2, `triple` -> 3, `quarter` -> 4 and 0.25, `a third` -> 3 and 1/3,
    `dozen` -> 12, `twenties` -> 20, `two and a half` -> 2.5) and durations in the next unit
    (`30 minutes` -> 0.5 hours, `2 hours` -> 120 minutes). A percentage also stands for its
    complement and its growth factor (a 40% discount: pay 60%, 0.6; a 50% raise: times 1.5),
    which solutions use without writing the subtraction. This is the one code path for "numbers of
    the question": metrics and rewards share it.
    """
    values: set[Fraction] = set(number_words(question))
    for match in _NUMBER_RE.finditer(question):
        raw = match.group(0).lower()
        percent = raw.rstrip().endswith("%") or raw.endswith("percent")
        cents = raw.rstrip().endswith(("cent", "cents", "¢"))
        digits = re.sub(r"percent|cents?|[$,%¢\s]", "", raw)
        if len(digits) > 30:
            continue  # no question states a 30-digit number; its text is not worth the work
        try:
            value = Fraction(digits)
        except (ValueError, ZeroDivisionError):
            continue
        values.add(value)
        if percent:
            share = value / 100
            values.update({share, 1 - share, 1 + share, 100 - value, 100 + value})
        if cents:
            values.add(value / 100)
    for match in _FRACTION_RE.finditer(question):
        whole, numerator, denominator = match.groups()
        if int(denominator) != 0:
            fraction = Fraction(int(numerator), int(denominator))
            values.update({fraction, Fraction(int(numerator)), Fraction(int(denominator))})
            if whole is not None:
                values.add(int(whole) + fraction)
    for match in _SCALE_RE.finditer(question):
        values.add(Fraction(match.group(1)) * _SCALES[match.group(2).lower()])
    for match in _DURATION_RE.finditer(question):
        value, unit = Fraction(match.group(1)), match.group(2).lower()
        values.add(value / 60 if unit.startswith(("minute", "min", "second")) else value * 60)
    return frozenset(float(v) for v in values if abs(v) <= MAX_MAGNITUDE and v.denominator < 10**12)


# ------------------------------------------------------------------------ rewriting for equations

_CARDINAL = "|".join(sorted([*_UNITS, *_TENS, "hundred", "thousand", "million"], key=len, reverse=True))
_NUMBER_WORDS_RE = re.compile(
    rf"(?<![\w-])(?:{_CARDINAL})(?:(?:[\s-]+(?:and\s+)?)(?:{_CARDINAL}))*(?![\w-])", re.IGNORECASE
)
_MAX_WORD_RUN = 8  # number words read as one number (`one hundred and twenty five`)


def _cardinal(words: list[str]) -> int | None:
    """The value of a run of cardinal words, None when the run is no one number (`five six`)."""
    total, current, last = 0, 0, ""
    for word in words:
        if word in _UNITS or word in _TENS:
            value = _UNITS.get(word, _TENS.get(word, 0))
            if last == "unit" or (last == "ten" and (word in _TENS or value >= 10)):
                return None  # `five six`, `twenty thirty`: two numbers
            current += value
            last = "ten" if word in _TENS else "unit"
        elif word == "hundred":
            if current == 0 or current >= 100:
                return None
            current *= 100
            last = "scale"
        else:  # thousand, million
            if current == 0:
                return None
            total += current * _SCALES[word]
            current, last = 0, "scale"
    return total + current


def words_to_digits(text: str) -> str:
    """Cardinal number words written as digits: `three times four is twelve` -> `3 times 4 is 12`,
    `twenty-five` -> `25`, `one hundred and five` -> `105`. A run that is no single number, or a
    word joined by a hyphen to a non-number (`two-thirds`, `one-way`), stays as written."""

    def replace(match: re.Match[str]) -> str:
        words = [w for w in re.split(r"[\s-]+", match.group(0).lower()) if w != "and"]
        value = _cardinal(words) if len(words) <= _MAX_WORD_RUN else None
        return match.group(0) if value is None else str(value)

    return _NUMBER_WORDS_RE.sub(replace, text)


_NUM = r"\$?(?:\d[\d,]*(?:\.\d+)?|\.\d+)%?"
# `multiply 5 apples by 3`, `multiply 150 miles/train by 2`
_UNIT = r"(?:\s*/\s*[a-z]+|\s+(?!by\b|and\b|from\b|to\b)[a-z]+){0,5}?"
# Computations written in words, rewritten as symbols before equations are read. Infix forms
# (`12 divided by 3`, `3 times 4`) are read by the tokenizer; these put the operator first.
_VERBAL: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"\b(?:multiply|multiplying)\s+({_NUM}){_UNIT}\s+by\s+({_NUM})", re.I), r"\1 * \2"),
    (re.compile(rf"\b(?:divide|dividing)\s+({_NUM}){_UNIT}\s+by\s+({_NUM})", re.I), r"\1 / \2"),
    (re.compile(rf"\b(?:add|adding)\s+({_NUM}){_UNIT}\s+(?:and|to)\s+({_NUM})", re.I), r"\1 + \2"),
    (
        re.compile(
            rf"\b(?:subtract|subtracting|take away|taking away)\s+({_NUM}){_UNIT}\s+from\s+({_NUM})", re.I
        ),
        r"\2 - \1",
    ),
    (re.compile(rf"\b(?:the\s+)?sum of\s+({_NUM}){_UNIT}\s+and\s+({_NUM})", re.I), r"\1 + \2"),
    (re.compile(rf"\b(?:the\s+)?product of\s+({_NUM}){_UNIT}\s+and\s+({_NUM})", re.I), r"\1 * \2"),
    (re.compile(rf"\b(?:the\s+)?difference between\s+({_NUM}){_UNIT}\s+and\s+({_NUM})", re.I), r"\1 - \2"),
    (re.compile(r"\b(?:one\s+|a\s+)?half of\s+(?=\$?\d)", re.I), "1/2 of "),
    (re.compile(r"\b(?:one\s+|a\s+)?third of\s+(?=\$?\d)", re.I), "1/3 of "),
    (re.compile(r"\b(?:one\s+|a\s+)?quarter of\s+(?=\$?\d)", re.I), "1/4 of "),
    (re.compile(r"\b(?:double|twice)\s+(?=\$?\d)", re.I), "2 * "),
    (re.compile(r"\b(?:triple|thrice)\s+(?=\$?\d)", re.I), "3 * "),
]


def rewrite_verbal(text: str) -> str:
    """Computations written operator first, in words, as symbols: `multiply 5 by 3` -> `5 * 3`,
    `subtract 5 from 12` -> `12 - 5`, `half of 20` -> `1/2 of 20`, `the sum of 3 and 4` -> `3 + 4`."""
    for pattern, replacement in _VERBAL:
        text = pattern.sub(replacement, text)
    return text
