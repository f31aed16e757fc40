"""Tasks: the GSM8K family, prompt building, answer extraction and rationale parsing."""
