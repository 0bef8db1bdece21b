"""Peer for GemmBench: float32 C = op(A)·op(B) with numpy's BLAS (Debian: OpenBLAS, pthread build).

Usage: gemm_numpy.py M,N,K,TA,TB,WARMUP,REPEATS [...]  (TA/TB are 0 or 1: a transposed operand is a transposed view,
which numpy hands to sgemm as a transpose flag, as ConvKit's callers do).
Prints one line describing numpy and its BLAS, then the median GFLOP/s of each shape, one per line.
Threads: set OPENBLAS_NUM_THREADS in the environment.
"""
import ctypes
import statistics
import sys
import time

import numpy as np


def blas_description():
    """numpy's version and the BLAS it loaded (libblas.so.3 is an alternatives link; name the real library)."""
    with open("/proc/self/maps") as maps:
        libraries = sorted({line.split()[-1] for line in maps if "blas" in line and ".so" in line})
    for path in libraries:
        try:
            get_config = ctypes.CDLL(path).openblas_get_config
        except (OSError, AttributeError):
            continue
        get_config.restype = ctypes.c_char_p
        return f"numpy {np.__version__}, {get_config().decode()} ({path})"
    return f"numpy {np.__version__}, BLAS: {', '.join(libraries) or 'unknown'}"


def gflops(m, n, k, trans_a, trans_b, warmup, repeats):
    rng = np.random.default_rng(1)
    a = rng.random((k, m) if trans_a else (m, k), dtype=np.float32)
    b = rng.random((n, k) if trans_b else (k, n), dtype=np.float32)
    op_a, op_b = (a.T if trans_a else a), (b.T if trans_b else b)
    c = np.empty((m, n), dtype=np.float32)
    for _ in range(warmup):
        np.matmul(op_a, op_b, out=c)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(op_a, op_b, out=c)
        times.append(time.perf_counter() - start)
    return 2.0 * m * n * k / statistics.median(times) / 1e9


print(blas_description())
for case in sys.argv[1:]:
    m, n, k, ta, tb, warmup, repeats = (int(v) for v in case.split(","))
    print(f"{gflops(m, n, k, ta == 1, tb == 1, warmup, repeats):.2f}")
