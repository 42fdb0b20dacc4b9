"""Benchmarks a `.tflite` like TFLite's `benchmark_model`, one subprocess per configuration.

For every thread count and XNNPACK on/off: init time, first inference, warm-up average, then
count/avg/std/min/max/p50/p90 of --num_runs runs (microseconds) and the peak RSS of that
configuration's process. Prints a table; --json_output also writes the results as JSON.

Example:
    python export/benchmark.py --model=runs/student_int8 --threads=1,2,4 --num_runs=200
    python export/benchmark.py --model=model.tflite --xnnpack=on --json_output=bench.json

The same command as `tfdistill benchmark` (the console script `pip install` puts on the
PATH); its code lives in tfdistill/cli/commands/benchmark.py.
"""

from absl import app

from tfdistill.cli.commands.benchmark import main
from tfdistill.cli.script import parse_flags

if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
