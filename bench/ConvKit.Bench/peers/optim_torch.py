"""Peer for OptimBench: one optimiser step over the same parameter layout in PyTorch.
Arguments: threads, then one 'name:tensors:size' per case. Prints 'name seconds' (median per step) per case."""
import statistics
import sys
import time

import torch

threads = int(sys.argv[1])
torch.set_num_threads(threads)
torch.manual_seed(0)
make = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9),
    "adam": lambda ps: torch.optim.Adam(ps, lr=1e-3),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=1e-3, weight_decay=1e-2),
}
for case in sys.argv[2:]:
    name, tensors, size = case.split(":")
    params = [torch.randn(int(size), requires_grad=True) for _ in range(int(tensors))]
    for p in params:
        p.grad = torch.randn(int(size))
    optimizer = make[name.split("/")[0]](params)
    for _ in range(50):
        optimizer.step()
    times = []
    for _ in range(51):
        start = time.perf_counter()
        optimizer.step()
        times.append(time.perf_counter() - start)
    print(name, statistics.median(times))
print(torch.__version__, torch.get_num_threads(), file=sys.stderr)
