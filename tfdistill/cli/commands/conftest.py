"""pytest (`--doctest-modules`) does not import the command modules: each defines its absl flags
at import, and two in one process clash (DuplicateFlagError: both define --model, --output_dir...).
tests/test_cli.py and the script tests run them in subprocesses instead."""

collect_ignore_glob = ["[!_]*.py"]  # every command module; not __init__.py
