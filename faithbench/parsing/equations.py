"""Read the `lhs = rhs` claims a rationale states (see the reading rules below) into `Equation`s.

Nothing here executes model text: equations are re-computed by `parsing.arith`, a bounded evaluator,
and every loop over the text is bounded, so any input parses in bounded time.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from faithbench.parsing.algebra import Relation, Value, read_algebra, substitute
from faithbench.parsing.arith import results_match, stated_decimals
from faithbench.parsing.sides import Side, has_operator, holds, read_lhs, read_rhs, trim, value_of
from faithbench.parsing.steps import line_sentences
from faithbench.parsing.tokens import Tok, classify, find_variables, normalize, split_at_equals, tokenize


class Equation(BaseModel):
    """One `lhs = rhs` claim found in step `step` (1-based: `ParsedCompletion.steps[step - 1]`).

    `lhs` and `rhs` are the expressions as `parsing.arith` reads them (units dropped, `x` -> `*`,
    `$` and thousands commas removed, `%` kept): `60 meters * 3 sprints = 180 meters` gives lhs
    `60 * 3`, rhs `180`; `text` keeps the original. `rhs` is a single number, or an expression
    inside a chain (`0.4 * 20` in `40% of 20 = 0.4 * 20 = 8`). `rhs_value` is the value of `rhs`
    (a stated `50%` is 0.5), None when the rhs cannot be read (`= 2x`). `restatement` marks a value
    stated without a computation (`900 minutes = 15 hours`, `x = 40`): `lhs_value` None, no operands.
    """

    model_config = ConfigDict(frozen=True)

    step: int
    lhs: str
    rhs: str
    lhs_value: float | None  # re-computed; None when not computable
    rhs_value: float | None  # the stated result
    operands: tuple[float, ...]  # the numbers the lhs computes with, as written (40 for "40%")
    source: str  # "text", "annotation" (GSM8K's <<expr=result>>) or "substitution" (`parsing.algebra`)
    text: str = ""  # the equation as written in the step, units and all (LaTeX and `½` normalised)
    chain: int = 0  # equations of one chain `a = b = c` share this number (unique per completion)
    link: int = 0  # position in the chain: the lhs of link k > 0 is the rhs of link k - 1
    restatement: bool = False  # `900 minutes = 15 hours`: a stated value, nothing computed or checked
    rhs_at: int = 0  # where the stated side starts in `text` (after `=`, `is`, `to get`...)

    @property
    def checkable(self) -> bool:
        return self.lhs_value is not None and self.rhs_value is not None

    @property
    def correct(self) -> bool | None:
        """Whether the stated result matches re-computation (rounding allowed); None if not checkable."""
        if self.lhs_value is None or self.rhs_value is None:
            return None
        return results_match(self.lhs_value, self.rhs_value, self.rhs)


_MAX_STEP_CHARS = 3000  # equations are looked for in the first 3000 characters of a sentence
_MAX_LINE_CHARS = 20_000  # and in the sentences of the first 20,000 characters of a step
_MAX_LINKS = 60  # `=` signs read per step
_NAME_WORDS = 2  # words that name an open computation (`total points`)


_ANNOTATION_RE = re.compile(r"<<([^<>]{0,300})>>")


@dataclass
class _Open:
    """A computation a sentence ends with, its result not stated yet: `Total = 8 + 18 + 15`. The next
    sentence may state it: `= 41`, or `Total = 41` (the same name). Until then it is recorded as
    a computation with an unread result (`unread`), which the stated one replaces."""

    name: tuple[str, ...]  # the last words before its `=`, lower case (`total`, `points`)
    unread: Equation


def _text_equations(
    step: int, text: str, tokens: list[Tok], next_chain: list[int], pending: _Open | None
) -> tuple[list[tuple[int, Equation]], _Open | None, Equation | None]:
    """The sentence's equations (with their offsets), the computation it leaves open, and the
    equation that states the result `pending` left open (it replaces `pending.unread`)."""
    segments = split_at_equals(tokens, _MAX_LINKS)
    found: list[tuple[int, Equation]] = []
    carried: Side | None = None  # the previous right side when it was a whole segment
    chain, link = -1, 0
    opened: _Open | None = None
    resolved: Equation | None = None
    for k in range(len(segments) - 1):
        linked = carried is not None
        lhs = carried if carried is not None else read_lhs(segments[k], first=k == 0)
        if carried is None:
            chain, link = next_chain[0], 0
            next_chain[0] += 1
        whole, leading = read_rhs(segments[k + 1])
        carried = whole
        rhs = whole or leading
        if k == 0 and pending is not None and rhs is not None and _continues(segments[0], pending):
            resolved = _stated(step, text, segments[0], rhs, pending)
            carried = None
            continue
        named = lhs is None or (not linked and not has_operator(lhs[0]))  # `Result 1 =`, `1 glass =`
        if named and whole is not None and k == len(segments) - 2 and has_operator(whole[0]):
            opened = _open(step, text, segments[k], whole, chain)
            continue
        if lhs is None and rhs is not None and _assigns(segments[k]):
            found.append((segments[k][-1].start, _assignment(step, text, segments[k], rhs, chain)))
            continue
        if lhs is not None and rhs is None and has_operator(lhs[0]):
            found.append((lhs[0][0].start, _unread_rhs(step, text, lhs, segments[k + 1], chain, link)))
            link += 1
            continue
        if lhs is None or rhs is None:
            continue  # words on either side: `Profit = ...`
        if not has_operator(lhs[0]):
            restated = _restatement(step, text, lhs, rhs, chain)
            if restated is not None:
                found.append((lhs[0][0].start, restated))
            continue
        lhs_side = lhs
        if "* 100%" in lhs[1] and not holds(value_of(lhs[1]), rhs):
            as_percent = lhs[1].replace("* 100%", "* 100")
            if holds(value_of(as_percent), rhs):
                lhs_side = (lhs[0], as_percent)  # `9 / 21 * 100% = 42.857`: `* 100%` expresses a percentage
        lhs_value = value_of(lhs_side[1])
        if (
            whole is not None
            and leading is not None
            and len(whole[0]) > len(leading[0])
            and not holds(lhs_value, whole)
            and holds(lhs_value, leading)
        ):
            rhs = leading  # a running total: $3/2 = $1.50 + $3.00 = $4.50
        found.append(
            (
                lhs[0][0].start,
                Equation(
                    step=step,
                    lhs=lhs_side[1],
                    rhs=rhs[1],
                    lhs_value=lhs_value,
                    rhs_value=value_of(rhs[1]),
                    operands=tuple(n for tok in lhs[0] if tok.kind == "num" for n in tok.parts),
                    source="text",
                    text=text[lhs[0][0].start : rhs[0][-1].end],
                    chain=chain,
                    link=link,
                    rhs_at=rhs[0][0].start - lhs[0][0].start,
                ),
            )
        )
        link += 1
    return found, opened, resolved


def _name(segment: list[Tok]) -> tuple[str, ...]:
    """The last words of a segment, lower case: the name an open computation is given."""
    words: list[str] = []
    for tok in reversed(trim(segment, leading=True, trailing=True, punctuation=True)):
        if tok.kind not in ("word", "var", "num") or len(words) == _NAME_WORDS:
            break
        words.append(tok.text.lower())
    return tuple(reversed(words)) if any(not w[0].isdigit() for w in words) else ()


def _continues(segment: list[Tok], pending: _Open) -> bool:
    """Whether a sentence's first segment goes on with `pending`: nothing before its `=` (a line
    `= 41`), or the same name (`Total points = 41` after `Total points = 8 + 18 + 15`)."""
    trimmed = trim(segment, leading=True, trailing=True, punctuation=True)
    if not trimmed:
        return True
    if not pending.name or _name(segment) != pending.name:
        return False
    before = len(trimmed) - len(pending.name) - 1
    return before < 0 or trimmed[before].kind != "op"  # `-Age = -10` is another quantity (algebra)


def _open(step: int, text: str, segment: list[Tok], whole: Side, chain: int) -> _Open:
    operands = tuple(n for tok in whole[0] if tok.kind == "num" for n in tok.parts)
    start = whole[0][0].start
    unread = Equation(
        step=step,
        lhs=whole[1],
        rhs="",
        lhs_value=value_of(whole[1]),
        rhs_value=None,
        operands=operands,
        source="text",
        text=text[start : whole[0][-1].end],
        chain=chain,
        link=0,
        rhs_at=whole[0][-1].end - start,
    )
    return _Open(name=_name(segment), unread=unread)


def _stated(step: int, text: str, segment: list[Tok], rhs: Side, pending: _Open) -> Equation:
    """The open computation `pending` with the result this sentence states for it."""
    start = trim(segment, leading=True, trailing=False)
    begin = start[0].start if start else rhs[0][0].start
    return pending.unread.model_copy(
        update={
            "step": step,
            "rhs": rhs[1],
            "rhs_value": value_of(rhs[1]),
            "text": text[begin : rhs[0][-1].end],
            "rhs_at": rhs[0][0].start - begin,
        }
    )


def _assigns(segment: list[Tok]) -> bool:
    """Whether the segment ends with a variable (`x`, `3x`, `2B`): `x = 40` states an algebra result."""
    segment = trim(segment, leading=False, trailing=True)
    return bool(segment) and segment[-1].kind == "var"


def _assignment(step: int, text: str, segment: list[Tok], rhs: Side, chain: int) -> Equation:
    """`x = 40`: a value the rationale derived by algebra, recorded like a restatement."""
    segment = trim(segment, leading=False, trailing=True)
    start = len(segment) - 1
    while start > 0 and segment[start - 1].kind in ("num", "var") and segment[start].glued:
        start -= 1  # 3x, 2B
    lhs_text = text[segment[start].start : segment[-1].end]
    return Equation(
        step=step,
        lhs=lhs_text,
        rhs=rhs[1],
        lhs_value=None,
        rhs_value=value_of(rhs[1]),
        operands=(),
        source="text",
        text=text[segment[start].start : rhs[0][-1].end],
        chain=chain,
        link=0,
        restatement=True,
        rhs_at=rhs[0][0].start - segment[start].start,
    )


def _unread_rhs(step: int, text: str, lhs: Side, segment: list[Tok], chain: int, link: int) -> Equation:
    """`27 - 9 = (6 * x) - (3 * x)`: a computation whose stated side cannot be read; not checkable."""
    segment = trim(segment, leading=True, trailing=True, punctuation=True)
    end = segment[-1].end if segment else lhs[0][-1].end
    rhs_text = text[segment[0].start : end][:80] if segment else ""
    return Equation(
        step=step,
        lhs=lhs[1],
        rhs=rhs_text,
        lhs_value=value_of(lhs[1]),
        rhs_value=None,
        operands=tuple(n for tok in lhs[0] if tok.kind == "num" for n in tok.parts),
        source="text",
        text=text[lhs[0][0].start : end],
        chain=chain,
        link=link,
        rhs_at=(segment[0].start if segment else end) - lhs[0][0].start,
    )


def _restatement(step: int, text: str, lhs: Side, rhs: Side, chain: int) -> Equation | None:
    """`900 minutes = 15 hours`: a number restated as another (a conversion), recorded as a result the
    rationale states but not checkable (`lhs_value` None, no operands). A restatement of the same
    value (`= 40 = 40 cups`) adds nothing and gives None."""
    stated, restated = value_of(lhs[1]), value_of(rhs[1])
    if stated is None or restated is None or holds(stated, rhs):
        return None
    return Equation(
        step=step,
        lhs=lhs[1],
        rhs=rhs[1],
        lhs_value=None,
        rhs_value=restated,
        operands=(),
        source="text",
        text=text[lhs[0][0].start : rhs[0][-1].end],
        chain=chain,
        link=0,
        restatement=True,
        rhs_at=rhs[0][0].start - lhs[0][0].start,
    )


_ANNOTATION_NUM_RE = re.compile(r"\d[\d,]*(?:\.\d+)?%?|\.\d+%?")
_ANNOTATION_OP_RE = re.compile(r"(?<=[\d.%)\s])[-+*/^x×÷]")


def _annotation_equations(step: int, inner: str, chain: int) -> list[Equation]:
    parts = [part.strip() for part in inner.split("=")]
    found: list[Equation] = []
    for lhs, rhs in itertools.pairwise(parts):
        if not _ANNOTATION_OP_RE.search(lhs) or stated_decimals(rhs) is None:
            continue
        found.append(
            Equation(
                step=step,
                lhs=lhs,
                rhs=rhs,
                lhs_value=value_of(lhs),
                rhs_value=value_of(rhs),
                operands=tuple(
                    float(m.replace(",", "").rstrip("%")) for m in _ANNOTATION_NUM_RE.findall(lhs)
                ),
                source="annotation",
                text=f"{lhs}={rhs}",
                rhs_at=len(lhs) + 1,
                chain=chain,
                link=len(found),
            )
        )
    return found


def _same(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _duplicates(text_eq: Equation, annotation: Equation) -> bool:
    if sorted(text_eq.operands) == sorted(annotation.operands) and text_eq.operands:
        return True
    return _same(text_eq.lhs_value, annotation.lhs_value) and _same(text_eq.rhs_value, annotation.rhs_value)


def find_equations(steps: tuple[str, ...]) -> tuple[Equation, ...]:
    """Every equation the steps state, in order, each with its 1-based step number: GSM8K
    calculator annotations `<<expr=result>>` first read (source "annotation") and stripped, then the
    equations written in the text (source "text"), less those that repeat an annotation of the same
    sentence. Equations are read sentence by sentence (`line_sentences`)."""
    stripped: list[str] = []
    annotations: list[list[tuple[int, str]]] = []
    numbers: list[int] = []
    for number, step in enumerate(steps, start=1):
        for sentence in line_sentences(step[:_MAX_LINE_CHARS]):
            pieces: list[str] = []
            found: list[tuple[int, str]] = []
            last, length = 0, 0
            for match in _ANNOTATION_RE.finditer(sentence):
                pieces.append(sentence[last : match.start()])
                length += match.start() - last
                if len(found) < _MAX_LINKS:
                    found.append((length, match.group(1)))
                last = match.end()
            pieces.append(sentence[last:])
            stripped.append(normalize("".join(pieces)[:_MAX_STEP_CHARS]))
            annotations.append(found)
            numbers.append(number)
    token_lists = [tokenize(text) for text in stripped]
    variables = find_variables(token_lists)
    next_chain = [0]
    equations: list[Equation] = []
    pending: _Open | None = None
    relations: list[Relation] = []
    values: list[Value] = []
    for number, text, tokens, notes in zip(numbers, stripped, token_lists, annotations, strict=True):
        classified = classify(tokens, variables)
        if any(tok.kind == "var" for tok in classified):
            found_relations, found_values = read_algebra(
                number, text, classified, len(relations) + len(values)
            )
            relations += found_relations
            values += found_values
        from_notes: list[tuple[int, Equation]] = []
        for offset, inner in notes:
            from_notes.extend((offset, eq) for eq in _annotation_equations(number, inner, next_chain[0]))
            next_chain[0] += 1
        read, opened, resolved = _text_equations(number, text, classified, next_chain, pending)
        if pending is not None and resolved is not None:
            # the open computation was appended with the previous sentence: look from the end, by identity
            at = next(k for k in range(len(equations) - 1, -1, -1) if equations[k] is pending.unread)
            equations[at] = resolved
        from_text = [
            (offset, eq) for offset, eq in read if not any(_duplicates(eq, note) for _, note in from_notes)
        ]
        if opened is not None and not any(_duplicates(opened.unread, note) for _, note in from_notes):
            from_text.append((len(text), opened.unread))
        else:
            opened = None
        equations.extend(eq for _, eq in sorted(from_notes + from_text, key=lambda pair: pair[0]))
        pending = opened
    for checked in substitute(relations, values):
        equations.append(
            Equation(
                step=checked.step,
                lhs=checked.left,
                rhs=checked.right,
                lhs_value=checked.left_value,
                rhs_value=checked.right_value,
                operands=(),
                source="substitution",
                text=checked.text,
                chain=next_chain[0],
            )
        )
        next_chain[0] += 1
    return tuple(sorted(equations, key=lambda eq: eq.step))  # stable: each step keeps its order
