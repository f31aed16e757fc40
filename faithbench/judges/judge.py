"""The rubric judge: any backend (`load_backend(spec)`) grading rationales with `rubric_prompt`.

One path for `eval --judge`, `score --judge` and `judge-check`: `open_judge` loads the backend behind
the response cache, `RubricJudge.judge` grades (item, parse) pairs in one batch, and
`RubricJudge.judge_records` writes the verdicts into sample records. A reply that is not a valid
verdict is asked for once more (with what was wrong, so a greedy judge can answer differently); a
second failure, or a call that failed after the backend's own retries (`Completion.error`), leaves
the sample unscored with the reason. Nothing is ever scored by default.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from tqdm import tqdm

from faithbench.core import Score
from faithbench.errors import FaithbenchError
from faithbench.harness.backends import Backend, Completion, GenerationConfig, Request, load_backend
from faithbench.harness.cache import CachedBackend, ResponseCache
from faithbench.harness.schema import JudgeInfo, SampleRecord
from faithbench.harness.scoring import completion_of, item_of
from faithbench.judges.rubric import (
    PREFILL,
    PROMPT_VERSION,
    RATINGS,
    Verdict,
    VerdictError,
    parse_verdict,
    retry_prompt,
    rubric_prompt,
    split_reasoning,
)
from faithbench.judges.screen import Screening, screen
from faithbench.parsing import ParsedCompletion, parse_completion
from faithbench.specs import JUDGE_METRICS
from faithbench.tasks.base import Item, Prompt

# The verdict (first_error_step, explanation, ...) is kept once, in judge_validity's Score.details.
VERDICT_METRIC = JUDGE_METRICS[0]


@dataclass(frozen=True)
class JudgeConfig:
    """How to judge: the judge's model spec and its decoding. `gold` shows the gold answer."""

    spec: str
    gold: bool = True
    temperature: float = 0.0
    seed: int = 0
    max_new_tokens: int = 256
    batch_size: int = 8


class JudgeOutcome(BaseModel):
    """One sample's judgement: a verdict, or the reason there is none."""

    verdict: Verdict | None
    reason: str | None = None
    reply: str  # the last reply as the judge wrote it, prefill included
    reasoning: str | None = None  # the judge's own reasoning (`<think>` or a reasoning channel)
    attempts: int  # replies asked for: 0 (nothing to judge), 1, or 2 after an unreadable one
    unreadable: bool = False  # the reply was no valid verdict (`reason` says why)
    screening: Screening | None = None  # what the judge was shown (None: nothing was asked)


class RubricJudge:
    """An LLM judge; as a scoring stage (harness.scoring.Stage) it writes the judge_* metrics."""

    def __init__(self, backend: Backend, config: JudgeConfig, *, cached: bool = False) -> None:
        self.backend = backend
        self.config = config
        self.is_cached = cached  # its calls go through the response cache already
        # A local model continues a prefilled `{"validity": `; chat APIs refuse to continue a reply.
        self.prefill = PREFILL if backend.accepts_prefill else None
        self.generation = GenerationConfig(
            max_new_tokens=config.max_new_tokens, temperature=config.temperature, seed=config.seed
        )

    @property
    def info(self) -> JudgeInfo:
        return JudgeInfo(
            spec=self.config.spec,
            identity=self.backend.identity,
            prompt_version=PROMPT_VERSION,
            gold=self.config.gold,
            temperature=self.config.temperature,
            seed=self.config.seed,
            max_new_tokens=self.config.max_new_tokens,
            prefill=self.prefill,
            metrics=list(JUDGE_METRICS),
        )

    @property
    def metrics(self) -> list[str]:
        return list(JUDGE_METRICS)

    def run_info(self) -> dict[str, Any]:
        return {"judge": self.info}

    def __call__(self, records: list[SampleRecord], progress: bool = False) -> list[SampleRecord]:
        return self.judge_records(records, progress=progress)

    def cached(self, cache: ResponseCache) -> RubricJudge:
        """This judge with its calls going through `cache` (when its backend allows caching)."""
        if not self.backend.cacheable or self.is_cached:
            return self
        return RubricJudge(CachedBackend(self.backend, cache), self.config, cached=True)

    def prompt(self, item: Item, screening: Screening) -> Prompt:
        gold = item.target if self.config.gold else None
        return rubric_prompt(item.question, screening.steps, gold, self.prefill)

    def judge(self, cases: Sequence[tuple[Item, ParsedCompletion]]) -> list[JudgeOutcome]:
        """One outcome per (item, parse), in order; every case is asked for in one batch, and the
        unreadable replies once more in a second."""
        outcomes: list[JudgeOutcome | None] = [None] * len(cases)
        screenings: list[Screening | None] = [None] * len(cases)
        asked: list[tuple[int, Prompt]] = []
        for index, (item, parsed) in enumerate(cases):
            if parsed.unparsed is not None:
                outcomes[index] = _failed(parsed.unparsed, 0)
            elif not parsed.steps:
                outcomes[index] = _failed("the rationale has no steps to judge", 0)
            else:
                screening = screenings[index] = screen(parsed.rationale, parsed.steps)
                if len(screening.withheld) == len(screening.steps):
                    reason = "every step addressed the grader, so none was shown to the judge"
                    outcomes[index] = _failed(reason, 0, screening)
                else:
                    asked.append((index, self.prompt(item, screening)))
        retries: list[tuple[int, Prompt]] = []
        for (index, prompt), completion in zip(asked, self._ask(cases, asked), strict=True):
            outcome = self._read(completion, prompt, screenings[index], attempt=1)
            if outcome.unreadable:
                assert outcome.reason is not None
                retries.append((index, retry_prompt(prompt, outcome.reply, outcome.reason)))
            outcomes[index] = outcome
        for (index, prompt), completion in zip(retries, self._ask(cases, retries), strict=True):
            outcome = self._read(completion, prompt, screenings[index], attempt=2)
            if outcome.unreadable:
                outcome = outcome.model_copy(
                    update={"reason": f"judge reply unreadable twice; last: {outcome.reason}"}
                )
            outcomes[index] = outcome
        assert all(o is not None for o in outcomes)
        return [o for o in outcomes if o is not None]

    def judge_many(
        self, cases: Sequence[tuple[Item, ParsedCompletion]], progress: bool = False
    ) -> list[JudgeOutcome]:
        """`judge`, `batch_size` cases at a time, with a progress bar."""
        out: list[JudgeOutcome] = []
        size = self.config.batch_size
        with tqdm(
            total=len(cases), desc="judging", unit="sample", disable=not progress, file=sys.stderr
        ) as bar:
            for start in range(0, len(cases), size):
                out += self.judge(cases[start : start + size])
                bar.update(min(size, len(cases) - start))
        return out

    def judge_records(self, records: Sequence[SampleRecord], progress: bool = False) -> list[SampleRecord]:
        """The records with the judge's scores, reasons and verdict replacing any earlier ones."""
        cases = [(item_of(r), parse_completion(completion_of(r))) for r in records]
        return [with_judgement(r, o) for r, o in zip(records, self.judge_many(cases, progress), strict=True)]

    def _ask(
        self, cases: Sequence[tuple[Item, ParsedCompletion]], asked: list[tuple[int, Prompt]]
    ) -> list[Completion]:
        if not asked:
            return []
        requests = [Request(id=cases[i][0].id, prompt=prompt) for i, prompt in asked]
        return self.backend.generate(requests, self.generation)

    def _read(
        self, completion: Completion, prompt: Prompt, screening: Screening | None, attempt: int
    ) -> JudgeOutcome:
        assert screening is not None  # every asked case was screened
        if completion.error is not None:
            return _failed(f"judge call failed: {completion.error}", attempt, screening)
        think, _ = split_reasoning(completion.text)
        reasoning = "\n".join(r for r in (completion.reasoning, think) if r) or None
        reply = (prompt.prefill or "") + completion.text
        verdict: Verdict | None = None
        reason: str | None = None
        try:
            verdict = parse_verdict(reply, len(screening.steps))
        except VerdictError as exc:
            reason = str(exc)
        return JudgeOutcome(
            verdict=verdict,
            reason=reason,
            reply=reply,
            reasoning=reasoning,
            attempts=attempt,
            unreadable=verdict is None,
            screening=screening,
        )


def _failed(reason: str, attempts: int, screening: Screening | None = None) -> JudgeOutcome:
    return JudgeOutcome(verdict=None, reason=reason, reply="", attempts=attempts, screening=screening)


def with_judgement(record: SampleRecord, outcome: JudgeOutcome) -> SampleRecord:
    """`record` with the judge metrics set from `outcome` (scores in [0, 1], or unscored with the
    reason), `judge_validity`'s details holding the verdict; everything else is kept."""
    verdict = outcome.verdict
    facts: dict[str, Any] = {"attempts": outcome.attempts, "reasoning": outcome.reasoning}
    if outcome.screening is not None and outcome.screening.withheld:
        facts["withheld_steps"] = list(outcome.screening.withheld)
        facts["screen_patterns"] = list(outcome.screening.patterns)
    if verdict is not None:
        facts.update(verdict.model_dump())
    else:
        facts["reply"] = outcome.reply
    scores = {
        name: Score(
            value=verdict.scaled(rating) if verdict is not None else None,
            reason=outcome.reason,
            details=facts if name == VERDICT_METRIC else {},
        )
        for rating, name in zip(RATINGS, JUDGE_METRICS, strict=True)
    }
    return record.with_scores(scores)


def load_judge(config: JudgeConfig, backend: Backend | None = None) -> RubricJudge:
    """A judge on `config.spec` (or on `backend`, already loaded for it), not yet cached."""
    if config.spec.strip().startswith("predictions:"):
        raise FaithbenchError("a predictions: file cannot judge; name a model (smollm2, hf:, openai:, ...)")
    if config.temperature < 0:
        raise FaithbenchError("--judge-temperature must be at least 0")
    if config.max_new_tokens < 1:
        raise FaithbenchError("--judge-max-new-tokens must be at least 1")
    return RubricJudge(backend or load_backend(config.spec, batch_size=config.batch_size), config)


@contextlib.contextmanager
def open_judge(
    config: JudgeConfig, use_cache: bool = True, backend: Backend | None = None
) -> Iterator[RubricJudge]:
    """`load_judge` behind the response cache (closed on exit). `backend`: the model already loaded
    for `config.spec` (a model judging its own rationales is loaded once)."""
    judge = load_judge(config, backend)
    cache = ResponseCache() if use_cache else None
    try:
        yield judge.cached(cache) if cache else judge
    finally:
        if cache:
            cache.close()
