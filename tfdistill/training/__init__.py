"""Training shared by teacher fine-tuning, distillation and compression: the one training loop
(`loop.train_model`), its datasets, schedules, optimizer and callbacks."""
