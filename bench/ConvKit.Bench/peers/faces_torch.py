"""Peer for FaceTrainBench: the PyTorch 1.13 twin of
`convkit faces train triplet|siamese --dataset fashion-mnist --epochs EPOCHS` (defaults: P 10 × K 12, 64-d
embeddings, width 16, Adam 2e-3 with a cosine schedule; triplet: semi-hard mining, margin 0.3, plain Euclidean).

Network: ConvKit's EmbeddingNetwork(64, 1, 28, width 16), layer for layer: three ConvBnRelu blocks (3x3 conv without
bias, BatchNorm2d eps 1e-5 momentum 0.1, ReLU) of 16, 32, 64 channels, each followed by a 2x2 max-pool (28 -> 14 -> 7 ->
3), flatten, Linear(576, 128), ReLU, Linear(128, 64), F.normalize. Siamese: a head Linear(64, 1) on |e_a - e_b|.
Initialisation: PyTorch's defaults, the distributions ConvKit's Init.LayerDefault draws from (not the same numbers).

Batches (ConvKit's PKBatchSampler): each batch draws P different identities (classes) and K different pictures of each
from the identity's own shuffled queue, refilled with a new shuffle when it runs short; N // (P*K) batches an epoch.
Triplet loss (ConvKit's TripletLoss, TF Addons' triplet_semihard_loss): d = sqrt(|a - b|^2 + 1e-12); for every
anchor-positive pair (a != p), the nearest negative with d(a,n) > d(a,p), else the farthest negative; mean of
relu(d(a,p) - d(a,n) + margin) over the pairs. Siamese loss (ConvKit's SiameseTask.PairLoss): every pair i < j of the
batch, BCE with logits, same pairs weighted 1/(2 #same) and different ones 1/(2 #different), summed.

The split, the normalisation and the pairs are ConvKit's, read from SPLIT_JSON (written by the bench): the training
and validation indices into the training set, mean and std, the validation pairs (indices into the validation
pictures) and the test pairs. After the last epoch: embeddings of the validation and test pictures (eval mode),
scores (-distance, or the head's sigmoid), the threshold of best accuracy on the validation pairs (halfway between
neighbouring scores), the test pairs' accuracy at it and their ROC AUC (ties counting half).

Epoch seconds: the training loop only (sampling, batching, forward, backward, step), as ConvKit's EpochMetrics.Seconds.

Usage: faces_torch.py KIND THREADS EPOCHS DATA_DIR SPLIT_JSON. Prints "key: value" lines (one "epoch:" line per epoch)."""
import collections
import gzip
import json
import os
import random
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

kind, threads, epochs, data_dir, split_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
torch.set_num_threads(threads)
P, K, EMBEDDING, WIDTH, LR, MARGIN, SEED = 10, 12, 64, 16, 2e-3, 0.3, 0
torch.manual_seed(SEED)
rng = random.Random(SEED)


def idx(name):
    with gzip.open(os.path.join(data_dir, name)) as f:
        data = f.read()
    if data[2] == 8 and data[3] == 3:
        return np.frombuffer(data, np.uint8, offset=16).reshape(-1, 28, 28)
    return np.frombuffer(data, np.uint8, offset=8)


split = json.load(open(split_path))
train_all = torch.from_numpy(idx("train-images-idx3-ubyte.gz").copy()).float().div_(255)
train_labels_all = torch.from_numpy(idx("train-labels-idx1-ubyte.gz").astype(np.int64))
test_images = torch.from_numpy(idx("t10k-images-idx3-ubyte.gz").copy()).float().div_(255)
mean, std = split["mean"], split["std"]


def prepare(images):
    return ((images - mean) / std).unsqueeze(1)


train_index = torch.tensor(split["train"])
val_index = torch.tensor(split["validation"])
train_images, train_labels = prepare(train_all[train_index]), train_labels_all[train_index]
val_images = prepare(train_all[val_index])
test_images = prepare(test_images)


def conv_bn_relu(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1), nn.ReLU(), nn.MaxPool2d(2))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(conv_bn_relu(1, WIDTH), conv_bn_relu(WIDTH, 2 * WIDTH), conv_bn_relu(2 * WIDTH, 4 * WIDTH))
        self.embedding = nn.Sequential(nn.Linear(4 * WIDTH * 9, 8 * WIDTH), nn.ReLU(), nn.Linear(8 * WIDTH, EMBEDDING))

    def forward(self, x):
        return F.normalize(self.embedding(self.features(x).flatten(1)), dim=1)


encoder = Encoder()
head = nn.Linear(EMBEDDING, 1) if kind == "siamese" else None
parameters = list(encoder.parameters()) + (list(head.parameters()) if head is not None else [])
optimizer = torch.optim.Adam(parameters, lr=LR)
schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)

by_class = [torch.nonzero(train_labels == c).flatten().tolist() for c in range(10)]
usable = [c for c in range(10) if len(by_class[c]) >= K]
queues = {c: collections.deque() for c in usable}
batches_per_epoch = len(train_labels) // (P * K)


def pk_batch():
    identities = rng.sample(usable, P)
    batch = []
    for c in identities:
        queue, taken = queues[c], []
        while len(taken) < K:
            if not queue:
                refill = by_class[c][:]
                rng.shuffle(refill)
                queue.extend(refill)
            picture = queue.popleft()
            if picture in taken:  # a refill in the middle of a batch brought it back: take the next one
                queue.append(picture)
                continue
            taken.append(picture)
        batch.extend(taken)
    return torch.tensor(batch)


def semi_hard_loss(e, labels):
    d = torch.sqrt(((e[:, None, :] - e[None, :, :]) ** 2).sum(-1) + 1e-12)
    same = labels[:, None] == labels[None, :]
    positive = same & ~torch.eye(len(labels), dtype=torch.bool)
    negative = ~same
    a, p = torch.nonzero(positive, as_tuple=True)
    d_ap = d[a, p]
    d_an = d[a]  # (pairs, N)
    farther = negative[a] & (d_an > d_ap[:, None])
    inf = torch.tensor(float("inf"))
    nearest_farther = torch.where(farther, d_an, inf).min(1).values
    farthest = torch.where(negative[a], d_an, -inf).max(1).values
    d_neg = torch.where(farther.any(1), nearest_farther, farthest)
    return F.relu(d_ap - d_neg + MARGIN).mean()


def siamese_loss(e, labels):
    i, j = torch.triu_indices(len(labels), len(labels), offset=1)
    target = (labels[i] == labels[j]).float()
    same, different = target.sum(), (1 - target).sum()
    weight = torch.where(target == 1, 0.5 / same, 0.5 / different)
    logits = head((e[i] - e[j]).abs()).squeeze(1)
    return F.binary_cross_entropy_with_logits(logits, target, weight=weight, reduction="sum")


def embed(images):
    encoder.eval()
    with torch.no_grad():
        out = torch.cat([encoder(images[s:s + 500]) for s in range(0, len(images), 500)])
    encoder.train()
    return out


def scores(e, pairs):
    first, second = torch.tensor(pairs["first"]), torch.tensor(pairs["second"])
    with torch.no_grad():
        if head is not None:
            return torch.sigmoid(head((e[first] - e[second]).abs()).squeeze(1)).double().numpy()
        return (-torch.sqrt(((e[first] - e[second]) ** 2).sum(1))).double().numpy()


def best_threshold(s, same):
    order = np.argsort(-s, kind="stable")
    right = int((~same).sum())
    best, threshold = right, s[order[0]] + 1
    for k in range(len(order)):
        right += 1 if same[order[k]] else -1
        if k + 1 < len(order) and s[order[k + 1]] == s[order[k]]:
            continue
        if right > best:
            best = right
            threshold = (s[order[k]] + s[order[k + 1]]) / 2 if k + 1 < len(order) else s[order[k]] - 1
    return threshold, best / len(s)


def auc(s, same):
    # The chance a same pair outscores a different one, ties half: the Mann-Whitney statistic from average ranks.
    ranks = np.empty(len(s))
    order = np.argsort(s, kind="stable")
    sorted_s = s[order]
    k = 0
    while k < len(s):
        end = k
        while end + 1 < len(s) and sorted_s[end + 1] == sorted_s[k]:
            end += 1
        ranks[order[k:end + 1]] = (k + end) / 2 + 1
        k = end + 1
    n_same, n_diff = same.sum(), (~same).sum()
    return (ranks[same].sum() - n_same * (n_same + 1) / 2) / (n_same * n_diff)


loss_fn = siamese_loss if kind == "siamese" else semi_hard_loss
for epoch in range(1, epochs + 1):
    start = time.perf_counter()
    total = 0.0
    for _ in range(batches_per_epoch):
        batch = pk_batch()
        e = encoder(train_images[batch])
        loss = loss_fn(e, train_labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    seconds = time.perf_counter() - start
    schedule.step()
    print(f"epoch: {epoch} {total / batches_per_epoch:.6f} {seconds:.3f}", flush=True)

val_pairs, test_pairs = split["validation_pairs"], split["test_pairs"]
val_same, test_same = np.array(val_pairs["same"]), np.array(test_pairs["same"])
threshold, val_accuracy = best_threshold(scores(embed(val_images), val_pairs), val_same)
test_scores = scores(embed(test_images), test_pairs)
print(f"validation_accuracy: {val_accuracy:.6f}")
print(f"test_accuracy: {((test_scores >= threshold) == test_same).mean():.6f}")
print(f"test_auc: {auc(test_scores, test_same):.6f}")
print(f"threshold: {threshold:.6f}")
print(f"peak_rss_mb: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")
