"""Reading model text: a completion's reasoning and visible parts, its steps, the equations it states,
the numbers a question gives, and the final answer. Depends on nothing of faithbench but `core`.

Modules, bottom up: `arith` (the bounded evaluator), `numbers` (number words and question numbers),
`steps`, `tokens`, `equations`, `answers`, `completion` (`parse_completion`, what every metric reads).
"""

from faithbench.parsing.answers import extract_flexible, extract_strict, normalize_number, numbers_equal
from faithbench.parsing.completion import ParsedCompletion, parse_completion, split_think
from faithbench.parsing.equations import Equation, find_equations
from faithbench.parsing.steps import split_sentences, split_steps

__all__ = [
    "Equation",
    "ParsedCompletion",
    "extract_flexible",
    "extract_strict",
    "find_equations",
    "normalize_number",
    "numbers_equal",
    "parse_completion",
    "split_sentences",
    "split_steps",
    "split_think",
]
