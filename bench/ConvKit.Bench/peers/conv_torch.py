"""Peer for ConvBench: the same convolutions in PyTorch (oneDNN on this CPU). Prints one line per case:
'<case> <median seconds>'. Argument: the number of threads (PyTorch starts with 1 here, so it is set explicitly)."""
import statistics
import sys
import time

import torch
import torch.nn.functional as F

threads = int(sys.argv[1])
torch.set_num_threads(threads)
torch.manual_seed(0)


def median_seconds(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def forward(x, w, b, warmup, repeats, **kw):
    with torch.no_grad():
        return median_seconds(lambda: F.conv2d(x, w, b, **kw), warmup, repeats)


x = torch.randn(32, 64, 56, 56)
w = torch.randn(64, 64, 3, 3) * 0.05
b = torch.randn(64)
print("conv3x3_forward", forward(x, w, b, 3, 7, padding=1))

xg, wg, bg = x.clone().requires_grad_(), w.clone().requires_grad_(), b.clone().requires_grad_()
upstream = torch.randn(32, 64, 56, 56)


def forward_backward():
    xg.grad = wg.grad = bg.grad = None
    F.conv2d(xg, wg, bg, padding=1).backward(upstream)


print("conv3x3_forward_backward", median_seconds(forward_backward, 1, 5))

x = torch.randn(1, 3, 224, 224)
w = torch.randn(64, 3, 7, 7) * 0.1
print("conv7x7_stride2_forward", forward(x, w, torch.randn(64), 20, 51, stride=2, padding=3))

x = torch.randn(8, 32, 112, 112)
w = torch.randn(32, 1, 3, 3)
print("depthwise3x3_forward", forward(x, w, torch.randn(32), 20, 51, padding=1, groups=32))
print(torch.__version__, torch.get_num_threads(), file=sys.stderr)
