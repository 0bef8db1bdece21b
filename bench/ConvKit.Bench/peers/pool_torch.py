"""Peer for PoolBench: the same ops in PyTorch on (32, 64, 56, 56). Prints one median time (seconds) per case, in order."""
import statistics
import sys
import time

import torch
import torch.nn.functional as F

threads = int(sys.argv[1])
torch.set_num_threads(threads)
torch.manual_seed(0)
x = torch.randn(32, 64, 56, 56, requires_grad=True)
pooled_grad = torch.randn(32, 64, 28, 28)
full_grad = torch.randn(32, 64, 56, 56)
bn = torch.nn.BatchNorm2d(64)


def max_forward():
    with torch.no_grad():
        F.max_pool2d(x, 2)


def max_both():
    x.grad = None
    F.max_pool2d(x, 2).backward(pooled_grad)


def bn_forward():
    with torch.no_grad():
        bn(x)


def bn_both():
    x.grad = None
    bn.zero_grad()
    bn(x).backward(full_grad)


def relu_both():
    x.grad = None
    F.relu(x).backward(full_grad)


for case in [max_forward, max_both, bn_forward, bn_both, relu_both]:
    for _ in range(3):
        case()
    times = []
    for _ in range(15):
        start = time.perf_counter()
        case()
        times.append(time.perf_counter() - start)
    print(statistics.median(times))
print(torch.__version__, torch.get_num_threads(), file=sys.stderr)
