"""Intervention tests of chain-of-thought faithfulness: does the reasoning drive the answer?

Early answering, adding mistakes and filler tokens (Lanham et al. 2023), and wrong-answer hints
(Turpin et al. 2023; Chen et al. 2025). They need a model to answer new prompts, so they run on a
finished run with `faithbench intervene` (or `intervene` here) rather than in `eval` or `score`.
Definitions: docs/interventions.md.
"""

from faithbench.interventions.run import REPORT_FILE, InterventionConfig, intervene
from faithbench.specs import INTERVENTION_METRICS

__all__ = [
    "INTERVENTION_METRICS",
    "REPORT_FILE",
    "InterventionConfig",
    "intervene",
]
