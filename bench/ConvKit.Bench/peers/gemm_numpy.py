"""Peer for GemmBench: float32 square matmul in NumPy (OpenBLAS). Prints '# config' lines, then 'size gflops'."""
import statistics
import sys
import time

import numpy as np

try:
    from threadpoolctl import threadpool_info
    for pool in threadpool_info():
        print(f"# numpy {np.__version__}: {pool.get('internal_api')} {pool.get('version')} "
              f"({pool.get('architecture')}, {pool.get('num_threads')} threads)")
except ImportError:
    import os
    print(f"# numpy {np.__version__} with OpenBLAS, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")

for size in map(int, sys.argv[1:]):
    rng = np.random.default_rng(size)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    repeats = 50 if size <= 512 else 15 if size <= 1024 else 5
    for _ in range(3):
        a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    print(size, 2.0 * size ** 3 / statistics.median(times) / 1e9)
