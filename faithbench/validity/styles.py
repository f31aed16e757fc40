"""The same reasoning written the ways models write it: one renderer per style, from a `Reference`.

Every style writes the reference's computations with the same numbers, as the reference wrote them
(`$` and thousands commas kept; `\\$` and `1{,}200` in LaTeX), and the final answer in its own form.
A line with a computation that could not be located (`Line.located` False) is written unchanged, in
every style. Styles:

* `plain`: the reference, annotations removed; final `#### N`;
* `latex_inline`: each computation as `\\( 48 \\div 2 = 24 \\)`; final `The answer is \\(72\\).`;
* `latex_display`: each computation on its own line `\\[ \\frac{48}{2} = 24 \\text{ clips} \\]` (the
  unit word after the result moves inside), the sentence kept around it; final `\\[ \\boxed{72} \\]`;
* `boxed`: plain, final `The final answer is $\\boxed{72}$.`;
* `markdown`: a `### Step k` heading per line, results bold, a `---` rule, `**Answer:** 72`;
* `markdown_list`: the same with a numbered list `1. ` per line;
* `chained`: the line's sentence, then each computation as a named assignment, alternately
  `Clips = 48 / 2. Clips = 24.` and `Total = 48 + 24` / `= 72` on the next line; final `#### N`;
* `verbal`: one-operator computations in words (`48 divided by 2 is 24`, `half of 20 is 10`,
  `multiply 5 by 3 to get 15`, `add 48 and 24 to get 72`, `12 minus 5 equals 7`); final `#### N`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from faithbench.validity.references import Computation, Line, Num, Op, Piece, Reference

# Words that do not name a quantity: a name is not taken from them (`9 every day`, `24 in May`).
_STOPWORD_TEXT = """
a an the and or but so then in on at to for from by with per each every this that these those is are
was were be will would can could he she it they we you his her its their our which who if as than after
before during when while because left out up off over into about not all also only just now
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'’]*(?:-[A-Za-z]+)*")
_NAME_BEFORE_RE = re.compile(
    r"\b(?:the|a|an|his|her|their|its|of)\s+((?:[A-Za-z][A-Za-z'’-]*\s+){0,4}[A-Za-z][A-Za-z'’-]*)\s+"
    r"(?:is|are|was|were|will be|would be|(?:comes?|came) (?:out )?to|adds? up to|costs?|equals?|of)"
    r"\s*[:,]?\s*$"
)
_PUNCT_ONLY_RE = re.compile(r"^[\s.,;:!?)]*$")


# ------------------------------------------------------------------------------------------ numbers


def _latex_number(text: str) -> str:
    return text.replace(",", "{,}")


def _latex_num(num: Num) -> str:
    dollar, percent = ("\\$" if num.dollar else ""), ("\\%" if num.percent else "")
    return f"{dollar}{_latex_number(num.text)}{percent}"


def _latex_unit(unit: str) -> str:
    return f" \\text{{{unit}}}" if unit else ""


def _escape_dollars(text: str) -> str:
    return re.sub(r"(?<!\\)\$", r"\\$", text)


def _result(c: Computation) -> Num:
    assert c.result is not None  # only located computations are rendered their style's way
    return c.result


# ------------------------------------------------------------------------------------ expressions


def _spaced(pieces: tuple[Piece, ...]) -> str:
    """A written left side with one space between tokens (`48 / 2`, `2 teams * 1 coach per team`)."""
    out: list[str] = []
    glue = False
    for index, piece in enumerate(pieces):
        token = piece.token
        text = (token.plain if isinstance(token, Num) else token.symbol) + piece.unit
        unary = isinstance(token, Op) and token.kind == "-" and _is_prefix(pieces, index)
        out.append(text if glue or not out else " " + text)
        glue = unary or (isinstance(token, Op) and token.kind == "(")
        if isinstance(token, Op) and token.kind == ")" and out:
            out[-1] = out[-1].lstrip()
    return "".join(out)


def _is_prefix(pieces: tuple[Piece, ...], index: int) -> bool:
    before = pieces[index - 1].token if index else None
    return before is None or (isinstance(before, Op) and before.kind != ")")


def _latex_expr(pieces: tuple[Piece, ...], fractions: bool) -> str:
    items, _ = _latex_items(pieces, 0)
    return _join_latex(items, fractions)


# An item is ("atom", latex, inner) with inner the latex without its parentheses, or ("op", kind).
_Item = tuple[str, str, str]


def _latex_items(pieces: tuple[Piece, ...], pos: int) -> tuple[list[_Item], int]:
    items: list[_Item] = []
    while pos < len(pieces):
        piece = pieces[pos]
        token = piece.token
        if isinstance(token, Num):
            text = _latex_num(token) + _latex_unit(piece.unit)
            items.append(("atom", text, text))
            pos += 1
        elif token.kind == "(":
            inner, pos = _latex_items(pieces, pos + 1)
            unit = pieces[pos - 1].unit if pos - 1 < len(pieces) else ""
            inner_text = _join_latex(inner, fractions=True)
            items.append(("atom", f"({inner_text}){_latex_unit(unit)}", inner_text if not unit else ""))
        elif token.kind == ")":
            return items, pos + 1
        else:
            items.append(("op", token.kind, ""))
            pos += 1
    return items, pos


def _join_latex(items: list[_Item], fractions: bool) -> str:
    if fractions:  # a / b -> \frac{a}{b}, left to right, on the atoms either side
        merged: list[_Item] = []
        index = 0
        while index < len(items):
            item = items[index]
            if (
                item == ("op", "/", "")
                and merged
                and merged[-1][0] == "atom"
                and index + 1 < len(items)
                and items[index + 1][0] == "atom"
            ):
                a, b = merged.pop(), items[index + 1]
                frac = f"\\frac{{{a[2] or a[1]}}}{{{b[2] or b[1]}}}"
                merged.append(("atom", frac, ""))
                index += 2
                continue
            merged.append(item)
            index += 1
        items = merged
    out: list[str] = []
    glue = False
    for index, (kind, text, _) in enumerate(items):
        if kind == "op":
            symbol = {"*": r"\times", "/": r"\div"}.get(text, text)
            prefix = text == "-" and (index == 0 or items[index - 1][0] == "op")
            out.append(symbol if not out or glue else " " + symbol)
            glue = prefix
        else:
            out.append(text if not out or glue else " " + text)
            glue = False
    return "".join(out)


# ------------------------------------------------------------------------------------------- styles


def render_plain(reference: Reference) -> str:
    return reference.plain


def render_boxed(reference: Reference) -> str:
    lines = [line.plain for line in reference.lines]
    return "\n".join([*lines, f"The final answer is $\\boxed{{{reference.answer}}}$."])


def render_latex_inline(reference: Reference) -> str:
    lines = [_line_map(line, _inline, _escape_dollars) for line in reference.lines]
    return "\n".join([*lines, f"The answer is \\({_latex_number(reference.answer)}\\)."])


def _inline(c: Computation) -> str:
    return f"\\( {_latex_expr(c.lhs or (), fractions=False)} = {_latex_num(_result(c))} \\)"


def render_latex_display(reference: Reference) -> str:
    lines = [_display_line(line) for line in reference.lines]
    return "\n".join([*lines, "So the answer is", f"\\[ \\boxed{{{_latex_number(reference.answer)}}} \\]"])


def _display_line(line: Line) -> str:
    if not line.located:
        return line.plain
    out: list[str] = []
    parts = list(line.parts)
    text = ""
    for index, part in enumerate(parts):
        if isinstance(part, str):
            text += part
            continue
        _add_text(out, text)
        text = ""
        unit = ""
        following = parts[index + 1] if index + 1 < len(parts) else None
        if isinstance(following, str):
            unit, rest = _unit_words(following)
            parts[index + 1] = rest
        lhs = _latex_expr(part.lhs or (), fractions=True)
        out.append(f"\\[ {lhs} = {_latex_num(_result(part))}{_latex_unit(unit)} \\]")
    _add_text(out, text)
    return "\n".join(out)


def _unit_words(text: str) -> tuple[str, str]:
    """The unit right after a result (up to 3 words, none a stopword: `clips`, `duck eggs`) and the
    text after it."""
    words = re.match(r"(?:\s+[A-Za-z][A-Za-z'’-]*){1,3}", text)
    if not words:
        return "", text
    kept = []
    for word in words.group(0).split():
        if word.lower() in _STOPWORDS:
            break
        kept.append(word)
    if not kept:
        return "", text
    end = re.match(r"\s+" + r"\s+".join(map(re.escape, kept)), text)
    assert end is not None
    return " " + " ".join(kept), text[end.end() :]


def _add_text(out: list[str], text: str) -> None:
    """Text between displays: on its own line, or after the last display when only punctuation."""
    text = text.strip()
    if not text:
        return
    if out and _PUNCT_ONLY_RE.match(text):
        out[-1] += text
    else:
        out.append(_escape_dollars(text))


def _bold(c: Computation) -> str:
    return f"{c.lhs_plain}{c.equals.replace('$', '')}**{_result(c).plain}**"


def render_markdown(reference: Reference) -> str:
    steps = [f"### Step {k}\n{_line_map(line, _bold)}" for k, line in enumerate(reference.lines, 1)]
    return "\n\n".join([*steps, f"---\n**Answer:** {reference.answer}"])


def render_markdown_list(reference: Reference) -> str:
    items = [f"{k}. {_line_map(line, _bold)}" for k, line in enumerate(reference.lines, 1)]
    return "\n".join([*items, "", "---", f"**Answer:** {reference.answer}"])


def render_chained(reference: Reference) -> str:
    lines = [_chained_line(line) for line in reference.lines]
    return "\n".join([*lines, f"#### {reference.answer}"])


def _chained_line(line: Line) -> str:
    if not line.located or not line.computations:
        return line.plain
    prose = re.sub(r"\s+", " ", "".join(p if isinstance(p, str) else " " for p in line.parts)).strip()
    prose = re.sub(r"\s+([.,;:!?])", r"\1", prose)
    out = []
    if _WORD_RE.search(prose):
        out.append(prose if prose[-1] in ".!?:" else prose + ":")
    for index, part in enumerate(line.parts):
        if not isinstance(part, Computation):
            continue
        before = "".join(p for p in line.parts[:index] if isinstance(p, str))
        following = line.parts[index + 1] if index + 1 < len(line.parts) else ""
        after = following if isinstance(following, str) else ""
        name = _name(before, after) or f"Result {part.index + 1}"
        lhs, result = _spaced(part.lhs or ()), _result(part).plain
        if part.index % 2 == 0:
            out.append(f"{name} = {lhs}. {name} = {result}.")
        else:
            out.append(f"{name} = {lhs}\n= {result}")
    joined = out[0]
    for piece in out[1:]:
        joined += (" " if joined.endswith((".", ":")) else ". ") + piece
    return joined


def _name(before: str, after: str) -> str | None:
    """A name for a computation from its line's words: the words naming its result right after it
    (`24 clips in May` -> `Clips`), else the noun phrase it is stated as (`the total cost is`)."""
    words: list[str] = []
    position = 0
    while len(words) < 4 and (word := re.compile(r"\s*(" + _WORD_RE.pattern + ")").match(after, position)):
        if word.group(1).lower() in _STOPWORDS and word.group(1).lower() != "of":
            break
        words.append(word.group(1))
        position = word.end()
    while words and words[-1].lower() == "of":
        words.pop()
    if not words and (phrase := _NAME_BEFORE_RE.search(before)):
        words = phrase.group(1).split()
    if not words:
        return None
    name = " ".join(words)
    return name[0].upper() + name[1:]


def render_verbal(reference: Reference) -> str:
    lines = [_line_map(line, _verbal) for line in reference.lines]
    return "\n".join([*lines, f"#### {reference.answer}"])


def _verbal(c: Computation) -> str:
    """One-operator computations in words; others as written."""
    pieces = c.lhs or ()
    if len(pieces) != 3:
        return c.plain
    a, op, b = pieces
    if not (isinstance(a.token, Num) and isinstance(op.token, Op) and isinstance(b.token, Num)):
        return c.plain
    kind = op.token.kind
    if kind not in ("+", "-", "*", "/"):
        return c.plain
    x, y, r = a.token.plain + a.unit, b.token.plain + b.unit, _result(c).plain
    if kind == "/" and b.token.value == 2 and not b.unit:
        return f"half of {x} is {r}"
    return {
        "/": f"{x} divided by {y} is {r}",
        "*": f"multiply {x} by {y} to get {r}",
        "+": f"add {x} and {y} to get {r}",
        "-": f"{x} minus {y} equals {r}",
    }[kind]


def _line_map(line: Line, computation: Callable[[Computation], str], text: Callable[[str], str] = str) -> str:
    """The line with each computation written by `computation` and the text around by `text`; a line
    with a computation not located stays as written."""
    if not line.located:
        return line.plain
    return "".join(text(p) if isinstance(p, str) else computation(p) for p in line.parts)


STYLES: dict[str, Callable[[Reference], str]] = {
    "plain": render_plain,
    "latex_inline": render_latex_inline,
    "latex_display": render_latex_display,
    "boxed": render_boxed,
    "markdown": render_markdown,
    "markdown_list": render_markdown_list,
    "chained": render_chained,
    "verbal": render_verbal,
}


def render(reference: Reference, style: str) -> str:
    """`reference` written in `style` (a key of `STYLES`)."""
    if style not in STYLES:
        raise KeyError(f"unknown style {style!r}; styles: {', '.join(STYLES)}")
    return STYLES[style](reference)
