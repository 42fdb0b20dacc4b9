"""What one core of this CPU can do: single-thread float32 GEMM throughput with numpy.

Used by `bench/export_compare.py` to put a student's achieved FLOP/s in context. Run as a script
(`python bench/export_gemm.py M K N SECONDS`) it measures in a fresh process, as the models are.
"""

import json
import os
import subprocess
import sys
import time

import numpy as np


def gemm_flops_per_second(m, k, n, seconds=1.0, threads=1):
    """Measures `[m, k] @ [k, n]` float32 throughput with the BLAS limited to `threads`.

    Args:
        m, k, n: int, the GEMM shape.
        seconds: float, minimum measuring time (after one warm-up call).
        threads: int, BLAS threads (threadpoolctl).

    Returns:
        float, the best observed FLOP/s (2 m k n per call).

    Example:
    >>> gemm_flops_per_second(64, 384, 1536, seconds=0.1) > 1e9  # doctest: +SKIP
    True
    """
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    out = np.empty((m, n), np.float32)
    with threadpool_limits(limits=threads):
        np.matmul(a, b, out=out)
        best, deadline = float("inf"), time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            np.matmul(a, b, out=out)
            best = min(best, time.perf_counter() - start)
    return 2.0 * m * k * n / best


def blas_info():
    """Returns a short description of numpy's BLAS (library, architecture)."""
    from threadpoolctl import threadpool_info

    blas = [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]
    if not blas:
        return "unknown BLAS"
    pool = blas[0]
    return f"{pool.get('internal_api')} {pool.get('version')} ({pool.get('architecture')})"


def gemm_in_subprocess(m, k, n, seconds=0.5):
    """Runs `gemm_flops_per_second` in a fresh Python with OpenBLAS choosing its own kernels.

    `OPENBLAS_CORETYPE` is removed from the child's environment: this machine's environment pins
    it to Haswell (AVX2), which ran a 1024^3 GEMM at ~110 GFLOP/s against ~210 GFLOP/s with the
    autodetected SkylakeX (AVX-512) kernels, and XNNPACK uses AVX-512 too.

    Returns:
        dict with `flops_per_s` and `blas`.
    """
    command = [sys.executable, os.path.abspath(__file__), str(m), str(k), str(n), str(seconds)]
    env = {key: value for key, value in os.environ.items() if key != "OPENBLAS_CORETYPE"}
    process = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    if process.returncode != 0:
        raise RuntimeError(f"GEMM measurement failed:\n{process.stderr[-2000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    shape = [int(v) for v in sys.argv[1:4]]
    print(json.dumps({"flops_per_s": gemm_flops_per_second(*shape, seconds=float(sys.argv[4])),
                      "blas": blas_info()}))
