"""Trainer plug-ins: distillation, LoRA-SFT, GRPO. Planned: issue 5; nothing here yet."""
