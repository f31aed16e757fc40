"""LLM judges: a rubric judge (any backend spec) that grades rationales as data, its planted-error
check (`faithbench judge-check`) and the prompt-injection cases it is tested against.
See docs/judges.md."""
