"""Final-answer extraction with lm-eval's GSM8K conventions.

* strict: lm-eval's `strict-match` filter, the first `#### <number>` (regex `#### (\\-?[0-9\\.\\,]+)`).
* flexible: the last number in the visible answer text (lm-eval's `flexible-extract` takes the last
  match of `(-?[$0-9.,]{2,})|(-?[0-9]+)`; we take the last match that is actually a number, so a
  stray "..." or "," is never an answer).

Both are normalised the way lm-eval's `exact_match` ignores `,`, `$` and a trailing `.`, and further
to a canonical number, so that `29.00`, `$29` and `29` compare equal.
"""

from __future__ import annotations

import re

STRICT_RE = re.compile(r"#### (\-?[0-9\.\,]+)")
NUMBER_RE = re.compile(r"-?\$?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\$?\.\d+")
_PLAIN_NUMBER_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")


def normalize_number(raw: str) -> str | None:
    """Canonical text of a number: no `$`, commas or trailing `.`; `29.00` -> `29`; None if not a number."""
    text = raw.strip().replace(",", "").replace("$", "").replace(" ", "").rstrip(".")
    if not _PLAIN_NUMBER_RE.fullmatch(text):
        return None
    # Pure string surgery: exact at any length, unlike Decimal's 28-digit context.
    negative = text.startswith("-")
    whole, _, fraction = text.lstrip("-").partition(".")
    whole, fraction = whole.lstrip("0") or "0", fraction.rstrip("0")
    number = f"{whole}.{fraction}" if fraction else whole
    return f"-{number}" if negative and number != "0" else number


def numbers_equal(a: str | None, b: str | None) -> bool:
    """Equality of two numbers given as text, after normalisation; None never equals anything."""
    na, nb = (
        (normalize_number(a) if a is not None else None),
        (normalize_number(b) if b is not None else None),
    )
    return na is not None and na == nb


def extract_strict(text: str) -> str | None:
    match = STRICT_RE.search(text)
    return normalize_number(match.group(1)) if match else None


def extract_flexible(text: str) -> str | None:
    for match in reversed(NUMBER_RE.findall(text)):
        number = normalize_number(match)
        if number is not None:
            return number
    return None
