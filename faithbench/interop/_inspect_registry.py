"""inspect-ai entry point (`[project.entry-points.inspect_ai] faithbench = ...`): importing this
module registers `faithbench/gsm8k_faithfulness` and the `faithbench/faithfulness` scorer."""

from faithbench.interop.inspect_task import faithfulness, gsm8k_faithfulness

__all__ = ["faithfulness", "gsm8k_faithfulness"]
