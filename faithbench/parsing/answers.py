"""Final-answer extraction: lm-eval's two GSM8K filters and the field's final-answer order.

Extractors (name -> `text -> normalised answer or None`, in `EXTRACTORS`):

* `strict-match`: lm-eval's `strict-match` filter, the first `#### <number>` (regex
  `#### (\\-?[0-9\\.\\,]+)`).
* `flexible-extract`: the last number in the visible answer text (lm-eval's `flexible-extract` takes
  the last match of `(-?[$0-9.,]{2,})|(-?[0-9]+)`; we take the last match that is actually a number,
  so a stray "..." or "," is never an answer).
* `final-answer` (`extract_final`): the order math-verify, lighteval and Qwen's evaluator read a final
  answer in: the last `\\boxed{...}`, else the last `#### N`, else the last "the (final) answer is N" /
  "Answer: N", else the last number of the text (the last number of the last sentence with one).
  See `extract_final` for the number forms it reads.

All answers are normalised (`normalize_number`) the way lm-eval's `exact_match` ignores `,`, `$` and
a trailing `.`, and further to a canonical number, so that `29.00`, `$29` and `29` compare equal. No
float is involved anywhere: every conversion is string surgery or integer arithmetic, exact at any
length, and every extractor runs in time linear in its input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from faithbench.registry import Registry

STRICT_RE = re.compile(r"#### (\-?[0-9\.\,]+)")
NUMBER_RE = re.compile(r"-?\$?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\$?\.\d+")
_PLAIN_NUMBER_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
_FRACTION_RE = re.compile(r"(-?)(\d+)/(\d+)")
MAX_DIGITS = 1000  # longer numbers (or a 10**n this wide) are not answers; also keeps int() cheap


def normalize_number(raw: str) -> str | None:
    """Canonical text of a number: no `$`, commas or trailing `.`; `29.00` -> `29`; a fraction `a/b`
    -> its decimal when that terminates (`1/2` -> `0.5`), else the reduced `a/b`; None if not a number."""
    text = raw.strip().replace(",", "").replace("$", "").replace(" ", "").rstrip(".")
    if fraction := _FRACTION_RE.fullmatch(text):
        return _fraction(fraction.group(1) == "-", fraction.group(2), fraction.group(3))
    if not _PLAIN_NUMBER_RE.fullmatch(text):
        return None
    # Pure string surgery: exact at any length, unlike Decimal's 28-digit context.
    negative = text.startswith("-")
    whole, _, fraction_part = text.lstrip("-").partition(".")
    whole, fraction_part = whole.lstrip("0") or "0", fraction_part.rstrip("0")
    number = f"{whole}.{fraction_part}" if fraction_part else whole
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


# ------------------------------------------------------------------------ the field's final answer

_MINUS = "-\u2212\u2013"  # hyphen-minus, U+2212 minus sign, en dash (as a sign, not between numbers)
_SCALES = {"thousand": 3, "million": 6, "billion": 9, "trillion": 12}
_PLAIN = r"(?:\d{1,3}(?:(?:,|\{,\}|\\,)\d{3})+(?!\d)|\d+)(?:\.\d+)?|\.\d+"
_SIMPLE = rf"[{_MINUS}]?\s*(?:{_PLAIN})"
# One number as written, in one of four shapes; a sign only where it cannot be a binary minus or a
# range dash (`10-5`, `pages 10–20`), and never a number glued to a word (`x2`, the `540` of `1e540`)
# or a label (`horse #12`; `####12` still reads).
_NUMBER_TOKEN_RE = re.compile(
    rf"(?:(?<![\w)\]}}.])(?P<sign>[{_MINUS}]))?(?:\\?\$\s*(?P<sign2>[{_MINUS}])?)?"
    rf"(?:"
    rf"\\[dt]?frac\s*(?:\{{\s*(?P<fnum>{_SIMPLE})\s*\}}\s*\{{\s*(?P<fden>{_SIMPLE})\s*\}}"
    rf"|(?P<fnum1>\d)(?P<fden1>\d))"
    rf"|(?<![\w.])(?<![^#]#)(?P<num>\d+)/(?P<den>\d+)(?![\d.,/])"
    rf"|(?<![\w.])(?<![^#]#)(?P<mantissa>{_PLAIN})"
    rf"(?:[eE](?P<exp>[+-]?\d+)(?!\w)|\s*(?P<scale>(?i:thousand|million|billion|trillion))\b)?"
    rf")"
)
_BOXED_RE = re.compile(r"\\(?:boxed|fbox)\s*\{")
_HASH_RE = re.compile(r"####")
# "the (final) answer is", "Answer:", "**Answer:**", "final answer: ... is" -> the number right after
_PHRASE_RE = re.compile(
    r"(?i:\banswer\b)[\s*]*(?:(?:(?i:is|was|would be|will be|should be)\b|=)[\s*]*:?|:)[\s*:]*"
)
_LEAD_RE = re.compile(
    r"(?:\s|\*\*?|\$\$?|\\\(|\\\[|\\boxed\s*\{|\\text\w*\s*\{|\\math\w*\s*\{|\{|(?i:about|approximately"
    r"|roughly|exactly|only|just|a total of|equal to)\b)*"
)
_CHAIN_OP_RE = re.compile(r"\s*(=|\\approx|≈|\\times|\\cdot|\\div|[+*/×x÷·⋅−–-])\s*(?:\\?\$\s*)?")
_LATEX_NOISE_RE = re.compile(r"\\(?:left|right|!|;|quad)|\\?%|~")
_SENTENCE_STOPS = ("\n", ". ", "! ", "? ", ".\t")
_PHRASE_WINDOW = 300  # characters read after an answer phrase (one sentence or equation chain)
_BOXED_WINDOW = 1000  # characters of one \boxed{...} body


def extract_final(text: str) -> str | None:
    """The final answer in the field's order (math-verify, lighteval, Qwen's math evaluator):

    1. the last `\\boxed{...}` (nested braces; after its last `=` if it holds an equation);
    2. else the last `#### N` (a completion reciting few-shot exemplars ends with its own);
    3. else the last "the (final) answer is N" / "Answer: N" / "**Answer:** N", the number right after
       the phrase (`... is 42 apples, but 40` -> 42; `is 20 * 2 = 40` -> the chain's last result, 40);
    4. else the last number of the text, or, when the sentence it ends states an equation, that
       equation's result (`3 x 12 = 36 hours in 4 weeks` -> 36).

    Numbers: `$`, `\\$`, thousands separators (`8,000`, `70{,}000`, `70\\,000`), a trailing `.`,
    `29.00` = 29, `−18` and `–18` are negative (a dash between two numbers is not a sign), `1/2` and
    `\\frac{1}{2}` = 0.5 (a fraction that does not terminate stays `a/b`, reduced), `1 million` and
    `2.5 thousand` are scaled, `1e5` is 100000, `\\text{...}`, `\\%` and `%` are ignored. A number
    wider than `MAX_DIGITS` is no answer (never a part of it). Nothing is evaluated: `\\boxed{2 \\times 3}`
    reads 2, as an unfinished computation. Linear time, no float, exact at any length.
    """
    for rule in (_last_boxed, _last_hash, _last_phrase, _last_sentence):
        found, answer = rule(text)
        if found:
            return answer
    return None


def _last_boxed(text: str) -> tuple[bool, str | None]:
    start = text.rfind("\\boxed")
    start = max(start, text.rfind("\\fbox"))
    if start < 0:
        return False, None
    match = _BOXED_RE.match(text, start)
    if match is None:
        return False, None
    body = _braced(text, match.end())
    if body is None:
        return False, None
    answer_text = _LATEX_NOISE_RE.sub(" ", body)
    answer_text = _after_last_equals(answer_text)
    token = _NUMBER_TOKEN_RE.search(answer_text)
    if token is None:
        return False, None  # `\boxed{A}`: not a number; the next rule reads on
    return True, _token_value(token)


def _braced(text: str, at: int) -> str | None:
    """The body of the brace group opened just before `at`, nested braces balanced; None if it does
    not close within `_BOXED_WINDOW` characters."""
    depth = 1
    end = min(len(text), at + _BOXED_WINDOW)
    for i in range(at, end):
        char = text[i]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[at:i]
    return None


def _after_last_equals(text: str) -> str:
    for sign in ("=", "\\approx", "≈"):
        at = text.rfind(sign)
        if at >= 0 and text[at - 1 : at] not in ("<", ">", "!"):
            text = text[at + len(sign) :]
    return text


def _last_hash(text: str) -> tuple[bool, str | None]:
    for match in reversed(list(_HASH_RE.finditer(text))):
        found, answer = _chain_at(text, match.end())
        if found:
            return True, answer
    return False, None


def _last_phrase(text: str) -> tuple[bool, str | None]:
    for match in reversed(list(_PHRASE_RE.finditer(text))):
        found, answer = _chain_at(text, match.end())
        if found:
            return True, answer
    return False, None


def _chain_at(text: str, at: int) -> tuple[bool, str | None]:
    """The answer written at `at`: a number, or an equation chain `20 * 2 = 40` whose last result is
    the answer. (False, None) when no number starts there (after decoration such as `$` or `**`).
    Reads at most `_PHRASE_WINDOW` characters, in place (no copy), so many candidates stay cheap."""
    end = min(len(text), at + _PHRASE_WINDOW)
    at = _LEAD_RE.match(text, at, end).end()  # type: ignore[union-attr]  # `*`-only: always matches
    token = _NUMBER_TOKEN_RE.match(text, at, end)
    if token is None:
        return False, None
    result = token
    while (op := _CHAIN_OP_RE.match(text, token.end(), end)) and (
        following := _NUMBER_TOKEN_RE.match(text, op.end(), end)
    ):
        token = following
        if op.group(1) in ("=", "\\approx", "≈"):
            result = token
    return True, _token_value(result)


def _last_sentence(text: str) -> tuple[bool, str | None]:
    """The last number of the text; but when the sentence it closes states an equation, that
    equation's result (`... 3 x 12 = 36 hours in 4 weeks` -> 36): numbers after the result are
    context (a span, a unit count), as in math-verify's `answer ... = N` rule."""
    last = None
    for last in _NUMBER_TOKEN_RE.finditer(text):  # noqa: B007 - the last one is wanted
        pass
    if last is None:
        return False, None
    start = max(text.rfind(stop, 0, last.start()) for stop in _SENTENCE_STOPS) + 1
    equals = _last_equals(text, start, last.start())
    if equals is not None:
        found, answer = _chain_at(text, equals)
        if found:
            return True, answer
    return True, _token_value(last)


def _last_equals(text: str, start: int, end: int) -> int | None:
    """Just after the last `=` (or `≈`, `\\approx`) in text[start:end]; `<=`, `>=`, `!=` are not one."""
    best = None
    for sign in ("=", "≈", "\\approx"):
        at = text.rfind(sign, start, end)
        while at > start and sign == "=" and text[at - 1] in "<>!=":
            at = text.rfind(sign, start, at - 1)
        if at >= start and (best is None or at + len(sign) > best):
            best = at + len(sign)
    return best


def _token_value(token: re.Match[str]) -> str | None:
    """The canonical value of one `_NUMBER_TOKEN_RE` match; None if too wide to be an answer."""
    negative = bool(token.group("sign")) != bool(token.group("sign2"))
    if token.group("fnum") is not None or token.group("fnum1") is not None:
        num = _plain(token.group("fnum") or token.group("fnum1"))
        den = _plain(token.group("fden") or token.group("fden1"))
        value = _divide(num, den) if num is not None and den is not None else None
    elif token.group("num") is not None:
        value = _fraction(False, token.group("num"), token.group("den"))
    else:
        value = _plain(token.group("mantissa"))
        if value is not None and (token.group("exp") or token.group("scale")):
            exp = token.group("exp")
            if exp is None:
                value = _shift(value, _SCALES[token.group("scale").lower()])
            else:  # an exponent too long to read is far past MAX_DIGITS either way
                value = _shift(value, int(exp)) if len(exp) <= 6 else None
    if value is None:
        return None
    if negative and value != "0":
        value = value[1:] if value.startswith("-") else f"-{value}"
    return value


def _plain(raw: str) -> str | None:
    text = raw.replace("{,}", "").replace("\\,", "").replace(" ", "")
    for minus in _MINUS[1:]:
        text = text.replace(minus, "-")
    if len(text) > MAX_DIGITS:
        return None
    return normalize_number(text)


def _shift(number: str, places: int) -> str | None:
    """`number` (canonical) times 10**places, by moving the decimal point."""
    if abs(places) > MAX_DIGITS:
        return None
    negative = number.startswith("-")
    whole, _, fraction = number.lstrip("-").partition(".")
    digits, point = whole + fraction, len(whole) + places
    if point > MAX_DIGITS:
        return None
    if point >= len(digits):
        digits, point = digits + "0" * (point - len(digits)), point
    elif point <= 0:
        digits, point = "0" * (1 - point) + digits, 1
    return normalize_number(f"{'-' if negative else ''}{digits[:point]}.{digits[point:]}")


def _divide(num: str, den: str) -> str | None:
    """Exact quotient of two canonical decimals, through `_fraction` on scaled integers."""
    places = max(len(n.partition(".")[2]) for n in (num, den))
    a, b = _shift(num, places), _shift(den, places)
    if a is None or b is None:
        return None
    negative = a.startswith("-") != b.startswith("-")
    return _fraction(negative, a.lstrip("-"), b.lstrip("-"))


def _fraction(negative: bool, numerator: str, denominator: str) -> str | None:
    """`numerator/denominator` (digit strings) exactly: its decimal if it terminates, else `a/b` reduced."""
    if len(numerator) > MAX_DIGITS or len(denominator) > MAX_DIGITS:
        return None
    p, q = int(numerator), int(denominator)
    if q == 0:
        return None
    g = math.gcd(p, q)
    p, q = p // g, q // g
    sign = "-" if negative and p != 0 else ""
    twos = fives = 0
    rest = q
    while rest % 2 == 0:
        rest, twos = rest // 2, twos + 1
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    if rest != 1:
        return f"{sign}{p}/{q}"
    places = max(twos, fives)
    digits = str(p * 10**places // q).rjust(places + 1, "0")
    return normalize_number(f"{sign}{digits[: len(digits) - places]}.{digits[len(digits) - places :]}")


# ------------------------------------------------------------------------------------ the registry

AnswerExtractor = Callable[[str], "str | None"]
EXTRACTORS: Registry[AnswerExtractor] = Registry("answer extractor")
EXTRACTORS.add("final-answer", extract_final)
EXTRACTORS.add("strict-match", extract_strict)
EXTRACTORS.add("flexible-extract", extract_flexible)
DEFAULT_EXTRACTOR = "final-answer"


def get_extractor(name: str) -> AnswerExtractor:
    """The extractor registered as `name`; `RegistryError` ("did you mean ...") if there is none."""
    return EXTRACTORS.get(name)
