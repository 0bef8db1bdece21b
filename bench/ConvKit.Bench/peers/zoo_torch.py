"""Peer for ZooBench: trains the same ResNet (zoo_models.ResNetMnist, ConvKit's resnet-mnist) on Fashion-MNIST with the
same recipe as ConvKit's Trainer — inputs scaled to [0, 1] and standardised, batches of B reshuffled each epoch, Adam
with the learning rate annealed by a cosine over the epochs (stepped once per epoch), cross-entropy. Prints one line per epoch:
'epoch <i> <train seconds> <train loss> <test accuracy>'.
Arguments: data directory, epochs, batch size, learning rate, threads (torch.set_num_threads)."""
import gzip
import pathlib
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

import zoo_models

data, epochs, batch, lr, threads = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
torch.manual_seed(0)
MEAN, STD = 0.2860, 0.3530


def idx(name):
    with gzip.open(data / name) as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def images(name):
    return torch.from_numpy((idx(name).astype(np.float32) / 255 - MEAN) / STD).unsqueeze(1)


train_x, train_y = images("train-images-idx3-ubyte.gz"), torch.from_numpy(idx("train-labels-idx1-ubyte.gz").astype(np.int64))
test_x, test_y = images("t10k-images-idx3-ubyte.gz"), torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))

model = zoo_models.ResNetMnist()
optimizer = torch.optim.Adam(model.parameters(), lr=lr)
schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)

for epoch in range(1, epochs + 1):
    model.train()
    order = torch.randperm(len(train_x))
    start, total_loss = time.perf_counter(), 0.0
    for first in range(0, len(train_x), batch):
        chosen = order[first:first + batch]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(train_x[chosen]), train_y[chosen])
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(chosen)
    seconds = time.perf_counter() - start
    schedule.step()
    model.eval()
    correct = 0
    with torch.no_grad():
        for first in range(0, len(test_x), 1000):
            correct += (model(test_x[first:first + 1000]).argmax(1) == test_y[first:first + 1000]).sum().item()
    print(f"epoch {epoch} {seconds:.3f} {total_loss / len(train_x):.5f} {correct / len(test_x):.5f}", flush=True)
