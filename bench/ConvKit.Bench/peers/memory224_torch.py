"""Peer for Memory224Bench: peak memory of training steps at 224x224 in PyTorch 1.13.
Usage: memory224_torch.py MODEL BATCH STEPS THREADS (MODEL: vgg11 or resnet18, torchvision's, 10 classes).
Runs STEPS steps of forward, cross-entropy, backward and Adam on random pictures (3x224x224) and prints the
resident memory before the first step, each step's seconds and the peak (VmHWM, as ru_maxrss)."""
import resource
import sys
import time

import torch
import torch.nn.functional as F
import torchvision

name, batch, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)


def rss_mb(key):
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith(key)) / 1024


model = getattr(torchvision.models, name)(num_classes=10)
model.train()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.randn(batch, 3, 224, 224)
y = torch.randint(0, 10, (batch,))
print(f"rss_before_mb: {rss_mb('VmRSS:')}")
seconds = []
for _ in range(steps):
    start = time.perf_counter()
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    loss.item()
    seconds.append(time.perf_counter() - start)
print("step_seconds: " + " ".join(repr(s) for s in seconds))
print(f"peak_rss_mb: {rss_mb('VmHWM:')}")
