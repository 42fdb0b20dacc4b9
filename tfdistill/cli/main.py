"""The `tfdistill` console script: `tfdistill <command> [--flags]` runs one command.

Each command is a module with absl flags (defined when it is imported), `run` and `main`. Only
the chosen one is imported: two commands in one process would define the same flags twice.

Example:
    tfdistill --help
    tfdistill distill --teacher=runs/teacher --output_dir=runs/student
    tfdistill predict --model=runs/student --text="A gripping drama."
    tfdistill distill --helpfull
"""

import importlib
import sys

PROGRAM = "tfdistill"
# command -> (module, one-line description); in the order a run uses them.
COMMANDS = {
    "pipeline": ("tfdistill.cli.pipeline", "Every stage below in one resumable run, with a report."),
    "finetune": ("tfdistill.cli.commands.finetune", "Fine-tune a BERT teacher on a text classification dataset."),
    "general_distill": ("tfdistill.cli.commands.general_distill",
                        "General distillation: a task-agnostic student from a pretrained teacher and unlabeled text."),
    "distill": ("tfdistill.cli.commands.distill", "Distil a fine-tuned teacher into a smaller student."),
    "prune": ("tfdistill.cli.commands.prune", "Prune a student (magnitude or N:M sparsity), teacher-guided."),
    "qat": ("tfdistill.cli.commands.qat", "Quantization-aware training of a student, teacher-guided."),
    "export": ("tfdistill.cli.commands.export", "Export a classifier as a validated .tflite model package."),
    "evaluate": ("tfdistill.cli.commands.evaluate", "Measure a .tflite classifier's accuracy on a dataset split."),
    "benchmark": ("tfdistill.cli.commands.benchmark", "Benchmark a .tflite's latency per thread count and XNNPACK."),
    "predict": ("tfdistill.cli.commands.predict", "Classify texts with a student folder or a .tflite package."),
}
# absl's help flags; `tfdistill --help` (or `-h`, `help`, no command) lists the commands.
HELP_FLAGS = ("--help", "-?", "--helpshort", "--helpfull")


def usage():
    """The text of `tfdistill --help`: the commands with one line each."""
    width = max(len(name) for name in COMMANDS)
    lines = [f"usage: {PROGRAM} <command> [--flags] [--flagfile=FILE]", "", "commands:"]
    lines += [f"  {name:<{width}}  {description}" for name, (_, description) in COMMANDS.items()]
    lines += ["", f"`{PROGRAM} <command> --help` lists a command's flags (--helpfull: every flag)."]
    return "\n".join(lines)


def main(argv=None):
    """Runs the command `argv[1]` with the rest of `argv` as its flags.

    Args:
        argv: list of str, the command line (default `sys.argv`).

    Returns:
        int, the exit status when no command ran (0 after `--help`).

    Raises:
        SystemExit: with the command's exit status; 2 for an unknown command.
    """
    argv = sys.argv if argv is None else argv
    if len(argv) < 2 or argv[1] in (*HELP_FLAGS, "-h", "help"):
        print(usage())
        return 0
    name = argv[1]
    if name not in COMMANDS:
        print(f"{PROGRAM}: unknown command {name!r}; the commands are {', '.join(COMMANDS)} "
              f"(`{PROGRAM} --help` describes them).", file=sys.stderr)
        sys.exit(2)
    run_command(name, argv[2:])


def run_command(name, args):
    """Imports the command's module and runs its `main` through absl with `args` as flags."""
    from absl import app

    from tfdistill.cli.commands import list_flags_in_help
    from tfdistill.cli.script import parse_flags

    module = importlib.import_module(COMMANDS[name][0])
    list_flags_in_help(module)
    # absl's --help prints the __main__ module's docstring: here the console script's, which has none.
    sys.modules["__main__"].__doc__ = module.__doc__
    try:
        app.run(module.main, argv=[f"{PROGRAM} {name}", *args], flags_parser=parse_flags)
    except SystemExit as done:
        # absl 1.x (pinned by tfmot) exits 1 after printing the help it was asked for.
        if done.code == 1 and any(arg.split("=")[0] in HELP_FLAGS for arg in args):
            sys.exit(0)
        raise


if __name__ == "__main__":
    sys.exit(main())
