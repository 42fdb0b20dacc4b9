"""Training helpers shared by teacher fine-tuning and distillation: schedules, optimizers,
callbacks."""
