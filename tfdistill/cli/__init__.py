"""Support for the absl-flag scripts in `recipes/` and `export/`: shared flags and checks."""
