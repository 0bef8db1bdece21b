"""Peer for AutogradBench: the same 1,000-op chain in PyTorch. Prints the median seconds per chain."""
import statistics
import sys
import time

import torch

ops, size, threads = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
x = torch.rand(size, requires_grad=True)
c = torch.rand(size) * 0.01 + 1


def chain():
    x.grad = None
    y = x
    for i in range(ops):
        k = i % 4
        y = y * c if k == 0 else y + c if k == 1 else y - c if k == 2 else y / c
    y.sum().backward()


for _ in range(20):
    chain()
times = []
for _ in range(51):
    start = time.perf_counter()
    chain()
    times.append(time.perf_counter() - start)
print(torch.__version__, torch.get_num_threads(), file=sys.stderr)
print(statistics.median(times))
