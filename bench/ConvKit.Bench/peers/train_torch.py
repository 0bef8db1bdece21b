"""Peer for TrainBench: LeNet-5 (zoo_models.LeNet5, the twin of ConvKit's `lenet5`) trained on Fashion-MNIST padded
to 32x32, batch 64, Adam 1e-3, with the loop a PyTorch user writes (loss.item() and accuracy per batch).
Usage: train_torch.py THREADS EPOCHS DATA_DIR. Prints each epoch's seconds and the peak RSS."""
import gzip
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from zoo_models import LeNet5

threads, epochs, data_dir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
torch.set_num_threads(threads)
torch.manual_seed(0)


def idx(name):
    with gzip.open(f"{data_dir}/{name}.gz") as f:
        data = f.read()
    rank = data[3]
    shape = [int.from_bytes(data[4 + 4 * d:8 + 4 * d], "big") for d in range(rank)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(shape)


images = torch.from_numpy(idx("train-images-idx3-ubyte").astype(np.float32) / 255).unsqueeze(1)
images = (F.pad(images, (2, 2, 2, 2)) - 0.2860) / 0.3530  # centred in 32x32, as ConvKit's PadTo, then normalised
labels = torch.from_numpy(idx("train-labels-idx1-ubyte").astype(np.int64))
loader = DataLoader(TensorDataset(images, labels), batch_size=64, shuffle=True)

model = LeNet5()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
seconds = []
for epoch in range(epochs):
    model.train()
    start = time.perf_counter()
    loss_sum, correct = 0.0, 0
    for x, y in loader:
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(y)
        correct += (logits.argmax(1) == y).sum().item()
    seconds.append(time.perf_counter() - start)
    print(f"epoch {epoch + 1}: loss {loss_sum / len(labels):.4f} accuracy {correct / len(labels):.4f}", file=sys.stderr)
print(torch.__version__, torch.get_num_threads(), file=sys.stderr)
print("epoch_seconds: " + " ".join(repr(s) for s in seconds))
print(f"peak_rss_mb: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}")
