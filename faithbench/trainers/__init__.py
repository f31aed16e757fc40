"""Trainer plug-ins: distillation (`distill`), LoRA-SFT (`sft`) and GRPO (`grpo`) whose rewards are the
registered metrics (`rewards`). Recipes live in configs/; see docs/training.md."""
