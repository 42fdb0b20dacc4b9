"""Latency and memory of a `.tflite`, reported as TFLite's `benchmark_model` does.

Each configuration (threads x XNNPACK on/off) runs in its own Python subprocess
(`tfdistill.export.benchmark_worker`, which imports only numpy and ai_edge_litert), so its peak
RSS is that configuration's alone and one configuration's caches do not warm the next.
"""

import dataclasses
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

DEFAULT_THREADS = (1, 2, 4)


@dataclasses.dataclass(frozen=True)
class BenchmarkResult:
    """One configuration's figures; times in microseconds except `init_ms`.

    Args:
        model: str, the `.tflite` path.
        threads: int.
        xnnpack: bool.
        init_ms: float, interpreter construction + `allocate_tensors` (XNNPACK set-up included).
        first_inference_us: float.
        warmup_runs: int; warmup_avg_us: float, their mean.
        count: int, timed runs; avg_us, std_us, min_us, max_us, p50_us, p90_us: float.
        peak_rss_mb: float, the process's peak resident memory.
        baseline_rss_mb: float, resident memory before the model was loaded (Python, numpy,
            LiteRT).
    """

    model: str
    threads: int
    xnnpack: bool
    init_ms: float
    first_inference_us: float
    warmup_runs: int
    warmup_avg_us: float
    count: int
    avg_us: float
    std_us: float
    min_us: float
    max_us: float
    p50_us: float
    p90_us: float
    peak_rss_mb: float
    baseline_rss_mb: float

    def to_dict(self):
        """Returns a JSON-serialisable dict."""
        return dataclasses.asdict(self)


def measure(model, threads=1, xnnpack=True, num_runs=50, warmup_runs=5, seed=0):
    """Benchmarks one configuration in this process (the worker calls it).

    Args:
        model: str, a `.tflite` path or package folder.
        threads: int >= 1.
        xnnpack: bool.
        num_runs: int >= 1, timed runs.
        warmup_runs: int >= 0, untimed runs after the first.
        seed: int, seeds the random token ids.

    Returns:
        `BenchmarkResult`.

    Example:
    >>> result = measure(package_dir, threads=1, num_runs=5)  # or its model.tflite
    >>> result.threads, result.xnnpack, result.count, result.p50_us > 0
    (1, True, 5, True)
    """
    from tfdistill.export.runtime import TFLiteClassifier, read_tflite

    _check_counts(num_runs, warmup_runs, threads)
    content = read_tflite(model)
    baseline = _peak_rss_mb()
    start = time.perf_counter()
    classifier = TFLiteClassifier(content, num_threads=threads, xnnpack=xnnpack)
    init_ms = (time.perf_counter() - start) * 1e3
    inputs = example_inputs(classifier, seed)
    first = _time_us(classifier, inputs)
    warmup = [_time_us(classifier, inputs) for _ in range(warmup_runs)]
    runs = np.array([_time_us(classifier, inputs) for _ in range(num_runs)])
    return BenchmarkResult(
        model=os.fspath(model), threads=threads, xnnpack=xnnpack, init_ms=init_ms,
        first_inference_us=first, warmup_runs=warmup_runs,
        warmup_avg_us=float(np.mean(warmup)) if warmup else float("nan"), count=num_runs,
        avg_us=float(runs.mean()), std_us=float(runs.std()), min_us=float(runs.min()),
        max_us=float(runs.max()), p50_us=float(np.percentile(runs, 50)),
        p90_us=float(np.percentile(runs, 90)), peak_rss_mb=_peak_rss_mb(), baseline_rss_mb=baseline)


def benchmark_tflite(model, threads=DEFAULT_THREADS, xnnpack=(True, False), num_runs=50,
                     warmup_runs=5, timeout=600):
    """Benchmarks every (threads, xnnpack) configuration, each in a fresh subprocess.

    Args:
        model: str, a `.tflite` path or package folder.
        threads: iterable of int.
        xnnpack: iterable of bool.
        num_runs: int, timed runs per configuration.
        warmup_runs: int.
        timeout: float, seconds allowed per configuration.

    Returns:
        list of `BenchmarkResult`, in (xnnpack, threads) order.

    Raises:
        FileNotFoundError, ValueError: not a readable TFLite model (checked up front).
        RuntimeError: a worker failed (its stderr is included).

    Example:
    >>> results = benchmark_tflite(package_dir, threads=(1,), xnnpack=(True, False), num_runs=5)
    >>> [(result.threads, result.xnnpack, result.count) for result in results]
    [(1, True, 5), (1, False, 5)]
    """
    from tfdistill.export.runtime import TFLiteClassifier, read_tflite

    TFLiteClassifier(read_tflite(model))  # fail here, with a clear message, not in a worker
    threads, xnnpack = list(threads), list(xnnpack)
    _check_counts(num_runs, warmup_runs, *threads)
    return [_run_worker(model, count, delegate, num_runs, warmup_runs, timeout)
            for delegate in xnnpack for count in threads]


def _run_worker(model, threads, xnnpack, num_runs, warmup_runs, timeout):
    command = [sys.executable, "-m", "tfdistill.export.benchmark_worker", os.fspath(model),
               str(threads), str(int(xnnpack)), str(num_runs), str(warmup_runs)]
    process = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if process.returncode != 0:
        raise RuntimeError(f"Benchmark worker failed for threads={threads} xnnpack={xnnpack}:\n"
                           f"{process.stderr.strip()[-2000:]}")
    return BenchmarkResult(**json.loads(process.stdout.strip().splitlines()[-1]))


def example_inputs(classifier, seed=0):
    """Returns one full-length input: random token ids, attention everywhere, segment 0.

    Example:
    >>> from tfdistill.export.runtime import TFLiteClassifier
    >>> inputs = example_inputs(TFLiteClassifier(package_dir))
    >>> {name: array.shape for name, array in inputs.items()}
    {'input_ids': (1, 16), 'attention_mask': (1, 16), 'token_type_ids': (1, 16)}
    """
    rng = np.random.default_rng(seed)
    shape = (1, classifier.seq_len)
    high = classifier.vocab_size or 2
    return {"input_ids": rng.integers(1, max(high, 2), shape, dtype=np.int32),
            "attention_mask": np.ones(shape, np.int32),
            "token_type_ids": np.zeros(shape, np.int32)}


def format_table(results):
    """Formats results as a fixed-width table (times in microseconds, memory in MB).

    Example:
    >>> print(format_table([measure(package_dir, num_runs=5)]))  # doctest: +ELLIPSIS
    threads xnnpack  init_ms  first_us warmup_us count    avg_us ...  p50_us    p90_us  peak_MB
          1      on ...
    """
    from tfdistill.export.table import text_table

    def number(field, width, digits):
        return (field, width, lambda r: f"{getattr(r, field):.{digits}f}")

    columns = [("threads", 7, lambda r: str(r.threads)),
               ("xnnpack", 7, lambda r: "on" if r.xnnpack else "off"),
               number("init_ms", 8, 1), ("first_us", 9, lambda r: f"{r.first_inference_us:.0f}"),
               ("warmup_us", 9, lambda r: f"{r.warmup_avg_us:.0f}"), ("count", 5, lambda r: str(r.count)),
               number("avg_us", 9, 1), number("std_us", 8, 1), number("min_us", 9, 1),
               number("max_us", 9, 1), number("p50_us", 9, 1), number("p90_us", 9, 1),
               ("peak_MB", 8, lambda r: f"{r.peak_rss_mb:.1f}")]
    return text_table(results, columns)


def _time_us(classifier, inputs):
    start = time.perf_counter()
    classifier(**inputs)
    return (time.perf_counter() - start) * 1e6


def _peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def _check_counts(num_runs, warmup_runs, *threads):
    for name, value, minimum in [("num_runs", num_runs, 1), ("warmup_runs", warmup_runs, 0)] + [
            ("threads", t, 1) for t in threads]:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")
