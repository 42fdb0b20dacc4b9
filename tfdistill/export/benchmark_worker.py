"""Subprocess entry of `benchmark_tflite`: one configuration, its result as JSON on stdout.

Usage: python -m tfdistill.export.benchmark_worker MODEL THREADS XNNPACK(0|1) NUM_RUNS WARMUP_RUNS
"""

import json
import sys

from tfdistill.export.benchmark import measure


def main(argv):
    """Parses the positional arguments, benchmarks, prints one JSON line."""
    model, threads, xnnpack, num_runs, warmup_runs = argv[1:6]
    result = measure(model, threads=int(threads), xnnpack=bool(int(xnnpack)),
                     num_runs=int(num_runs), warmup_runs=int(warmup_runs))
    print(json.dumps(result.to_dict()))


if __name__ == "__main__":
    main(sys.argv)
