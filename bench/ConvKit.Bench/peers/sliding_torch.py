"""Peer for SlidingBench: the same window classifier as ConvKit's WindowClassifier.Small (28x28 windows: two 3x3
conv-bn-relu of 32, 2x2 max-pool, two of 64, 2x2 max-pool, no padding; linear 1024 -> 256, ReLU, dropout, linear to
10) in evaluation mode, run over N random CANVAS x CANVAS pictures both ways: every window cropped (unfold, stride 4)
and classified in batches of BATCH, and one pass with the linear layers as convolutions (weights viewed as
(256, 64, 4, 4) and (10, 256, 1, 1)). Checks the two agree, then prints the median of 5 timed runs of each.
Usage: sliding_torch.py THREADS N CANVAS BATCH."""
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

threads, n, canvas, batch = (int(a) for a in sys.argv[1:5])
torch.set_num_threads(threads)
torch.manual_seed(0)


def block(a, b):
    return [nn.Conv2d(a, b, 3, bias=False), nn.BatchNorm2d(b), nn.ReLU()]


features = nn.Sequential(*block(1, 32), *block(32, 32), nn.MaxPool2d(2), *block(32, 64), *block(64, 64), nn.MaxPool2d(2)).eval()
fc1, fc2 = nn.Linear(64 * 4 * 4, 256), nn.Linear(256, 10)
pictures = torch.rand(n, 1, canvas, canvas)
window, stride = 28, 4


@torch.no_grad()
def naive():
    crops = pictures.unfold(2, window, stride).unfold(3, window, stride)  # (n, 1, rows, cols, 28, 28)
    rows, cols = crops.shape[2], crops.shape[3]
    crops = crops.permute(0, 2, 3, 1, 4, 5).reshape(-1, 1, window, window)
    scores = torch.cat([F.softmax(fc2(F.relu(fc1(features(crops[i:i + batch]).flatten(1)))), 1) for i in range(0, len(crops), batch)])
    return scores.view(n, rows, cols, 10).permute(0, 3, 1, 2)


@torch.no_grad()
def convolutional():
    x = features(pictures)
    x = F.relu(F.conv2d(x, fc1.weight.view(256, 64, 4, 4), fc1.bias))
    return F.softmax(F.conv2d(x, fc2.weight.view(10, 256, 1, 1), fc2.bias), 1)


assert torch.allclose(naive(), convolutional(), atol=1e-5), "the two ways must agree"


def median_seconds(f):
    f()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


print(f"naive_seconds: {median_seconds(naive)!r}")
print(f"convolutional_seconds: {median_seconds(convolutional)!r}")
