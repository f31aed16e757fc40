"""LLM-as-judge scorers (DeepSeek and any OpenAI-compatible endpoint). Planned: issue 4; nothing here yet."""
