"""Benchmarks a `.tflite` like TFLite's `benchmark_model`, one subprocess per configuration.

For every thread count and XNNPACK on/off: init time, first inference, warm-up average, then
count/avg/std/min/max/p50/p90 of --num_runs runs (microseconds) and the peak RSS of that
configuration's process. Prints a table; --json_output also writes the results as JSON.

Example:
    tfdistill benchmark --model=runs/student_int8 --threads=1,2,4 --num_runs=200
    tfdistill benchmark --model=model.tflite --xnnpack=on --json_output=bench.json
"""

from absl import flags

from tfdistill.cli.commands import list_flags_in_help
from tfdistill.cli.script import INPUT_ERRORS, run_or_exit

flags.DEFINE_string("model", None, "A .tflite file or a model package folder.")
flags.DEFINE_list("threads", ["1", "2", "4"], "Thread counts to run.")
flags.DEFINE_list("xnnpack", ["on", "off"], "XNNPACK settings to run: on, off or both.")
flags.DEFINE_integer("num_runs", 50, "Timed runs per configuration.")
flags.DEFINE_integer("warmup_runs", 5, "Untimed runs after the first inference.")
flags.DEFINE_string("json_output", None, "Also write the results to this JSON file.")
flags.mark_flag_as_required("model")
FLAGS = flags.FLAGS
list_flags_in_help(__name__)
_SWITCH = {"on": True, "off": False}


def run(values):
    """Benchmarks every configuration, prints the table; returns the results."""
    from tfdistill.export.benchmark import benchmark_tflite, format_table
    from tfdistill.utils import atomic

    threads = [_int_flag("threads", value) for value in values.threads]
    unknown = [value for value in values.xnnpack if value not in _SWITCH]
    if unknown:
        raise ValueError(f"--xnnpack takes on and/or off, got {unknown}.")
    results = benchmark_tflite(values.model, threads=threads,
                               xnnpack=[_SWITCH[value] for value in values.xnnpack],
                               num_runs=values.num_runs, warmup_runs=values.warmup_runs)
    print(f"{values.model}\n{format_table(results)}")
    if values.json_output:
        atomic.write_json(values.json_output, [result.to_dict() for result in results])
    return results


def _int_flag(name, value):
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"--{name} takes integers, got {value!r}.") from None


def main(argv):
    del argv
    run_or_exit(run, FLAGS, INPUT_ERRORS + (RuntimeError,))
