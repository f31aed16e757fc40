"""The tokenizer equations are read with: numbers, operators, parentheses, `=`, words, punctuation;
LaTeX and unicode fractions normalised first; operator words (`times`, `divided by`) and single-letter
variables classified. See `parsing.equations` for the reading rules built on these tokens."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from faithbench.parsing.numbers import rewrite_verbal, words_to_digits
from faithbench.parsing.steps import UNIT_ABBREVIATIONS

_TOKEN_RE = re.compile(
    r"(?P<num>"
    r"(?:\$\s?)?\d{1,3}(?: \d{3})+(?![\d,]|\.\d)"  # $350 000
    r"|(?:\$\s?)?\d+ \d{1,2}/\d{1,2}(?![\d/])"  # a mixed number: 3 1/2
    r"|(?:\$\s?)?\d+/\d+(?!\d|[/.,]\d)"  # a glued fraction: 1/2
    r"|(?:\$\s?)?(?:(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|\.\d+)(?:\.\.\.|…)?(?:\s?%)?"
    r")"
    r"|(?P<eq>(?<![<>!=])==?(?![>=])|≈)"
    r"|(?P<op>\*\*|[-+*/^×·⋅÷−–])"
    r"|(?P<lp>\()|(?P<rp>\))"
    r"|(?P<word>[A-Za-z]+(?:['’-][A-Za-z]+)*\.?)"
    r"|(?P<ws>\s+)"
    r"|(?P<punct>.)",
    re.DOTALL,
)
_OP_CANON = {"**": "^", "×": "*", "·": "*", "⋅": "*", "÷": "/", "−": "-", "–": "-"}
_WORD_OPS = {"times": "*", "plus": "+", "minus": "-", "of": "*"}
_TWO_WORD_OPS = {"multiplied": "*", "divided": "/"}  # followed by "by"
_UNICODE_FRACTIONS = {"½": "1/2", "¼": "1/4", "¾": "3/4", "⅓": "1/3", "⅔": "2/3", "⅛": "1/8"}
_LATEX: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"\{,\}"), ","),  # 9{,}300, also inside \frac{...}
    (re.compile(r"\s*\\(?:text|mathrm)\s*\{\s*([A-Za-z])\s*\}"), r"\1"),  # 300 \text{g}: a unit, glued
    (re.compile(r"\\(?:text|mathrm|textbf|textit|mbox|operatorname|boxed|mathbf)\s*\{([^{}]*)\}"), r" \1 "),
    (re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}"), r"(\1)/(\2)"),
    (re.compile(r"\\[dt]?frac\s*(\d)\s*(\d)"), r"(\1)/(\2)"),  # \frac12
]
_LATEX_SYMBOLS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"\\times|\\cdot|\\ast"), " × "),
    (re.compile(r"\\div"), " ÷ "),
    (re.compile(r"\\approx"), " ≈ "),
    (re.compile(r"\\left|\\right|\\[()\[\]]|\\,|\\!|\\;|\\quad|\\qquad"), " "),
    (re.compile(r"\\([$%])"), r"\1"),
    (re.compile(r"\{,\}"), ","),
    (re.compile(r"(?<=\d)\\?\s*\^\s*\{?\\circ\}?"), " degrees"),
    (re.compile(r"(\d)\s*(?:percent|per cent)\b", re.IGNORECASE), r"\1%"),
    (re.compile(r"(\d?)([½¼¾⅓⅔⅛])"), lambda m: f"{m.group(1)} {_UNICODE_FRACTIONS[m.group(2)]}".strip()),
    # markdown emphasis: `**9** eggs`; `2**3` (digits on both sides) stays a power
    (re.compile(r"(?<![\d)])\*\*|\*\*(?![\d(])|(?<!\w)__|__(?!\w)"), " "),
    (re.compile(r"[{}]"), " "),  # braces LaTeX left behind: `{48}`
]
_MAX_NESTING = 4  # `\frac{\text{...}}{...}`: inner commands are rewritten first, this many levels


@dataclass
class Tok:
    kind: str  # num, op, lp, rp, eq, word, var, per, punct
    text: str
    start: int
    end: int
    canon: str = ""  # num: as arith reads it ("1200", "40%", "(1/2)"); op: + - * / ^
    parts: tuple[float, ...] = ()  # num: the numbers written (40 for 40%; 1 and 2 for 1/2)
    glued: bool = False  # no white space before it


def normalize(text: str) -> str:
    """The text with LaTeX math and markdown emphasis rewritten as plain arithmetic, verbal
    computations (`multiply 5 by 3`) as symbols and number words as digits (`parsing.numbers`)."""
    for _ in range(_MAX_NESTING):
        before = text
        for pattern, replacement in _LATEX:
            text = pattern.sub(replacement, text)
        if text == before:
            break
    for pattern, replacement in _LATEX_SYMBOLS:
        text = pattern.sub(replacement, text)
    return rewrite_verbal(words_to_digits(text))


def _number(tok: Tok) -> None:
    raw = tok.text.replace("$", "").replace(",", "").strip()
    if "/" in raw:
        whole, _, fraction = raw.rpartition(" ")
        numerator, denominator = fraction.split("/")
        tok.canon = f"({whole}+{fraction})" if whole else f"({fraction})"
        tok.parts = tuple(float(n) for n in (whole, numerator, denominator) if n)
        return
    tok.canon = raw.replace(" ", "")
    tok.parts = (float(tok.canon.rstrip("%").replace("...", "").replace("…", "")),)


def tokenize(text: str) -> list[Tok]:
    tokens: list[Tok] = []
    last_end = -1
    for match in _TOKEN_RE.finditer(text):
        kind = match.lastgroup or "punct"
        if kind == "ws":
            continue
        raw, start, end = match.group(0), match.start(), match.end()
        period = kind == "word" and raw.endswith(".")
        if period:  # a word with its period: `lbs.` abbreviates (`3 lbs. * 40`), `day.` ends a sentence
            raw = raw[:-1]
            if raw.lower() not in UNIT_ABBREVIATIONS:
                end -= 1
            else:
                period = False
        tok = Tok(kind, raw, start, end, glued=start == last_end)
        if kind == "num":
            _number(tok)
        elif kind == "op":
            tok.canon = _OP_CANON.get(raw, raw)
        tokens.append(tok)
        if period:
            tokens.append(Tok("punct", ".", end, end + 1, glued=True))
            end += 1
        last_end = end
    return tokens


def find_variables(token_lists: list[list[Tok]]) -> set[str]:
    """Single letters the rationale uses as variables: standing alone, not as `x` the operator."""
    letters: set[str] = set()
    for tokens in token_lists:
        for i, tok in enumerate(tokens):
            if tok.kind == "word" and len(tok.text) == 1 and tok.text not in "aAI":
                glued_to_number = tok.glued and i > 0 and tokens[i - 1].kind == "num"
                if not glued_to_number and not _is_times_x(tokens, i):
                    letters.add(tok.text.lower())
    return letters


def _is_times_x(tokens: list[Tok], i: int) -> bool:
    tok = tokens[i]
    if tok.text not in ("x", "X") or i == 0 or i + 1 >= len(tokens):
        return False
    return tokens[i - 1].kind in ("num", "rp", "word", "per") and tokens[i + 1].kind in ("num", "lp")


# Words that state a computation's result (`12 divided by 3 is 4`, `5 * 3 to get 15`): read as `=`
# when a computation ends right before them and a number follows (see `_verbal_equals`).
_EQ_PHRASES: tuple[tuple[str, ...], ...] = (
    ("for", "a", "total", "of"),
    ("which", "is"),
    ("that", "is"),
    ("gives", "us"),
    ("gives", "you"),
    ("to", "get"),
    ("we", "get"),
    ("you", "get"),
    ("equal", "to"),
    ("is", "equal", "to"),
    ("results", "in"),
    ("is",),
    ("are",),
    ("was",),
    ("equals",),
    ("gives",),
    ("makes",),
    ("yields",),
    ("leaves",),
    ("leaving",),
    ("totals",),
)
_MAX_EXPR_LOOKBACK = 40  # tokens looked back for the computation before a result word
_MAX_UNIT_RUN = 6  # unit words after the computation's last number (`5 * 3 boxes of apples is 15`)


def _verbal_equals(tokens: list[Tok], i: int, out: list[Tok]) -> int:
    """How many word tokens from `i` state a result as `=` (0: none). The phrase must follow a
    computation (an operator between numbers, unit words allowed after them) and precede a number."""
    for phrase in _EQ_PHRASES:
        end = i + len(phrase)
        if end >= len(tokens) or tokens[end].kind != "num":
            continue
        if not all(
            tokens[i + k].kind == "word" and tokens[i + k].text.lower() == w for k, w in enumerate(phrase)
        ):
            continue
        if _starts_computation(tokens, end):
            return 0  # `is 1.5*8 = 12`: the words introduce another computation, not its result
        return len(phrase) if _ends_with_computation(out) else 0
    return 0


def _starts_computation(tokens: list[Tok], i: int) -> bool:
    """Whether the number at `i` is followed by an operator (not `/unit`: `$700/week`)."""
    if i + 1 >= len(tokens) or tokens[i + 1].kind != "op":
        return False
    per_unit = tokens[i + 1].text == "/" and i + 2 < len(tokens) and tokens[i + 2].kind == "word"
    hyphenated = tokens[i + 1].text == "-" and i + 2 < len(tokens) and tokens[i + 2].kind == "word"
    return not (per_unit or hyphenated)


def _ends_with_computation(out: list[Tok]) -> bool:
    """Whether the classified tokens end with a computation: numbers joined by an operator, unit
    words allowed after a number, no `=` or clause punctuation in between."""
    j, units = len(out) - 1, 0
    while j >= 0 and out[j].kind in ("word", "per") and units < _MAX_UNIT_RUN:
        j, units = j - 1, units + 1
    if j < 0 or out[j].kind not in ("num", "rp"):
        return False
    for tok in reversed(out[max(0, j - _MAX_EXPR_LOOKBACK) : j + 1]):
        if tok.kind == "op":
            return True
        if tok.kind not in ("num", "lp", "rp", "per", "word"):  # words: `25 classmates + his 1 teacher`
            return False
    return False


def _after_unit(out: list[Tok]) -> bool:
    """Whether the classified tokens end with a number and at most four unit words after it
    (`90 pieces of straw divided by 3`)."""
    tail = out[-5:]
    for k in range(len(tail) - 1, -1, -1):
        if tail[k].kind in ("num", "rp"):
            return k < len(tail) - 1
        if tail[k].kind not in ("word", "per") or tail[k].text.lower() in _NOT_UNITS:
            return False
    return False


_NOT_UNITS = frozenset({"is", "are", "was", "and", "so", "then", "which", "that", "to", "by"})


def classify(tokens: list[Tok], variables: set[str]) -> list[Tok]:
    """Turn operator words into operators, result words into `=`, variables into `var`, `/unit`
    into one `per` token."""
    out: list[Tok] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind == "word" and (n_words := _verbal_equals(tokens, i, out)):
            out.append(Tok("eq", "=", tok.start, tokens[i + n_words - 1].end))
            i += n_words
            continue
        prev = out[-1] if out else None
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        after_number = prev is not None and prev.kind in ("num", "rp")
        after_unit = after_number or _after_unit(out)  # `12 miles divided by 4 mph`
        if tok.kind == "word":
            low = tok.text.lower()
            if _is_times_x(tokens, i):
                tok.kind, tok.canon = "op", "*"
            elif (
                low in _WORD_OPS
                and (after_number or (after_unit and low != "of"))
                and nxt is not None
                and nxt.kind in ("num", "lp")
            ):
                tok.kind, tok.canon = "op", _WORD_OPS[low]
            elif (
                low in _TWO_WORD_OPS
                and after_unit
                and i + 2 < len(tokens)
                and tokens[i + 1].text.lower() == "by"
                and tokens[i + 2].kind in ("num", "lp")
            ):
                tok.kind, tok.canon, tok.end = "op", _TWO_WORD_OPS[low], tokens[i + 1].end
                out.append(tok)
                i += 2
                continue
            elif len(tok.text) == 1 and tok.text not in "aI":
                glued_to_number = tok.glued and prev is not None and prev.kind == "num"
                if low == "x" or low in variables or tok.text.isupper() or not glued_to_number:
                    tok.kind = "var"
        if tok.kind == "lp" and prev is not None and prev.kind in ("num", "rp", "word", "per"):
            close = next((j for j in range(i + 1, min(i + 6, len(tokens))) if tokens[j].kind == "rp"), None)
            if close is not None and close > i + 1 and all(t.kind == "word" for t in tokens[i + 1 : close]):
                out.append(
                    Tok("per", "".join(t.text for t in tokens[i : close + 1]), tok.start, tokens[close].end)
                )
                i = close + 1  # 93 (average): a unit
                continue
        if (
            tok.kind == "word"
            and tok.glued
            and prev is not None
            and prev.kind == "op"
            and prev.text == "-"
            and prev.glued
            and len(out) >= 2
            and out[-2].kind == "num"
        ):
            out[-1] = Tok("per", prev.text + tok.text, prev.start, tok.end)  # a 15-minute encore
            i += 1
            continue
        if tok.kind == "word" and prev is not None and prev.kind == "op" and prev.canon == "/":
            out[-1] = Tok("per", prev.text + tok.text, prev.start, tok.end)  # $20/hour
            i += 1
            continue
        out.append(tok)
        i += 1
    return out


def split_at_equals(tokens: list[Tok], max_links: int | None = None) -> list[list[Tok]]:
    """The tokens between `=` signs (after `max_links` of them, the rest of the text is dropped)."""
    segments: list[list[Tok]] = [[]]
    for tok in tokens:
        if tok.kind == "eq":
            if max_links is not None and len(segments) > max_links:
                break
            segments.append([])
        else:
            segments[-1].append(tok)
    return segments
