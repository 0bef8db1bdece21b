"""Peer for SegmentBench: the PyTorch 1.13 twin of
`convkit segment train unet-small --dataset fashion-scenes --epochs EPOCHS --batch-size 32 [--limit LIMIT]`.

Network: ConvKit's UNet(numClasses 11, inChannels 1, depth 4, width 16), layer for layer and built in the same order
(encoder levels, bottleneck, then per level the up-sampling and the decoder, then the head): each level two
ConvBnRelu (3x3 conv without bias, BatchNorm2d eps 1e-5 momentum 0.1, ReLU), 2x2 max-pool; ConvTranspose2d k2 s2
with bias; decoder input = concat([skip, upsampled]); 1x1 head with bias. Initialisation: PyTorch's defaults, which
are the distributions ConvKit's Init.LayerDefault draws from (weight Kaiming-uniform a=sqrt(5), i.e.
U(-1/sqrt(fan_in), 1/sqrt(fan_in)), bias from the same range, fan_in from weight.shape[1] for both conv kinds; batch
norm weight 1, bias 0) — the same distributions, not the same numbers (other generators).

Recipe (ConvKit's Trainer): Adam lr 2e-3 (betas 0.9/0.999, eps 1e-8), CosineAnnealingLR(T_max=EPOCHS) stepped after
each epoch, batch 32, a new seeded shuffle each epoch, the last short batch kept (ConvKit's DataLoader does not drop
it), a horizontal flip with p 0.5 of picture and mask together, one draw per sample per epoch, then normalisation
with the mean and population std of the training pictures as Normalize.FromDataset(train, maxSamples: 2000) takes
them (sample s*N//S for s < S = min(2000, N)). Loss: F.cross_entropy, mean over pixels (ignore index 255, as
ConvKit's Sample.IgnoreIndex). The epoch's train loss is the batch losses weighted by batch size.

Evaluation after each epoch, eval mode, no grad, batches of 500 (as Trainer.Evaluate): loss weighted by batch size;
a confusion matrix over all test pixels; pixel accuracy = trace / total; IoU_c = TP / (TP + FP + FN); mIoU = mean over
classes present in the targets or the predictions. Best epoch = the first with the highest mIoU.

Epoch seconds: the training loop only (batching, augmentation, forward, backward, step), not the evaluation, as
ConvKit's EpochMetrics.Seconds. Data: the PNG folders read with PIL into uint8 arrays, all in memory.

Usage: segment_torch.py THREADS EPOCHS DATA_DIR [LIMIT]. Prints "key: value" lines (one "epoch:" line per epoch)."""
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

threads, epochs, data_dir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
limit = int(sys.argv[4]) if len(sys.argv) > 4 else None
torch.set_num_threads(threads)
SEED, BATCH, LR, IGNORE = 0, 32, 2e-3, 255
torch.manual_seed(SEED)

with open(os.path.join(data_dir, "classes.txt")) as f:
    classes = [line.strip() for line in f if line.strip()]
C = len(classes)


def load(split, count=None):
    """Pictures (N, H, W) and masks (N, H, W) as uint8, masks sorted by name (ordinal) as SegmentationFolderDataset."""
    masks_dir, images_dir = os.path.join(data_dir, split, "masks"), os.path.join(data_dir, split, "images")
    names = sorted(n for n in os.listdir(masks_dir) if n.endswith(".png"))
    if count is not None:
        names = names[:count]
    images = np.stack([np.asarray(Image.open(os.path.join(images_dir, n)).convert("L")) for n in names])
    masks = np.stack([np.asarray(Image.open(os.path.join(masks_dir, n)).convert("L")) for n in names])
    return torch.from_numpy(images), torch.from_numpy(masks)


train_images, train_masks = load("train", limit)
test_images, test_masks = load("test")
n_train = len(train_images)

# Normalize.FromDataset(train, maxSamples: 2000): evenly spread samples, population std over all their pixels.
samples = min(2000, n_train)
picked = train_images[[s * n_train // samples for s in range(samples)]].to(torch.float32) / 255
total = picked.to(torch.float64)
mean = float(np.float32(total.mean().item()))
std = float(np.float32(max((total * total).mean().item() - total.mean().item() ** 2, 1e-12) ** 0.5))
print(f"normalize: {mean!r} {std!r}", file=sys.stderr)


def conv_bn_relu(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1), nn.ReLU())


def double_conv(cin, cout):
    return nn.Sequential(conv_bn_relu(cin, cout), conv_bn_relu(cout, cout))


class UNet(nn.Module):
    def __init__(self, num_classes=11, in_channels=1, depth=4, width=16):
        super().__init__()
        self.depth = depth
        self.encoder = nn.ModuleList()
        channels = in_channels
        for level in range(depth):
            self.encoder.append(double_conv(channels, width << level))
            channels = width << level
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = double_conv(channels, width << depth)
        self.upsample, self.decoder = nn.ModuleList(), nn.ModuleList()
        for level in range(depth):
            below, here = width << (level + 1), width << level
            self.upsample.append(nn.ConvTranspose2d(below, here, 2, stride=2))
            self.decoder.append(double_conv(2 * here, here))
        self.head = nn.Conv2d(width, num_classes, 1)

    def forward(self, x):
        skips = []
        for level in range(self.depth):
            skips.append(self.encoder[level](x))
            x = self.pool(skips[level])
        x = self.bottleneck(x)
        for level in reversed(range(self.depth)):
            x = self.decoder[level](torch.cat([skips[level], self.upsample[level](x)], 1))
        return self.head(x)


model = UNet(num_classes=C)
print(f"parameters: {sum(p.numel() for p in model.parameters())}", file=sys.stderr)
optimizer = torch.optim.Adam(model.parameters(), lr=LR)
schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)


def prepare(images, masks, flips=None):
    x = images.to(torch.float32).unsqueeze(1) / 255
    y = masks.to(torch.int64)
    if flips is not None and flips.any():
        x[flips] = x[flips].flip(-1)
        y[flips] = y[flips].flip(-1)
    return (x - mean) / std, y


def evaluate():
    model.eval()
    confusion = torch.zeros(C * C, dtype=torch.int64)
    loss_sum = 0.0
    with torch.no_grad():
        for start in range(0, len(test_images), 500):
            x, y = prepare(test_images[start:start + 500], test_masks[start:start + 500])
            logits = model(x)
            loss_sum += F.cross_entropy(logits, y, ignore_index=IGNORE).item() * len(y)
            keep = y != IGNORE
            confusion += torch.bincount(y[keep] * C + logits.argmax(1)[keep], minlength=C * C)
    model.train()
    m = confusion.view(C, C).to(torch.float64)
    tp, labelled, predicted = m.diag(), m.sum(1), m.sum(0)
    union = labelled + predicted - tp
    present = union > 0
    miou = (tp[present] / union[present]).mean().item() if present.any() else float("nan")
    return loss_sum / len(test_images), (tp.sum() / m.sum()).item(), miou


best_epoch, best = 0, (float("nan"),) * 3
seconds = []
for epoch in range(epochs):
    model.train()
    generator = torch.Generator().manual_seed(SEED * 1_000_003 + epoch)  # the epoch's order and flips, as (seed, epoch) in ConvKit
    start_time = time.perf_counter()
    order = torch.randperm(n_train, generator=generator)
    flips = torch.rand(n_train, generator=generator) < 0.5  # indexed by sample, as ConvKit's per-(seed, epoch, sample) draw
    loss_sum = 0.0
    for start in range(0, n_train, BATCH):  # the last short batch kept
        batch = order[start:start + BATCH]
        x, y = prepare(train_images[batch], train_masks[batch], flips[batch])
        loss = F.cross_entropy(model(x), y, ignore_index=IGNORE)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(batch)
    seconds.append(time.perf_counter() - start_time)
    schedule.step()
    test_loss, accuracy, miou = evaluate()
    if best_epoch == 0 or best[2] != best[2] or miou > best[2]:  # as Trainer: a NaN best is always replaced
        best_epoch, best = epoch + 1, (test_loss, accuracy, miou)
    print(f"epoch: {epoch + 1} {loss_sum / n_train!r} {test_loss!r} {accuracy!r} {miou!r} {seconds[-1]!r}", flush=True)
    print(f"epoch {epoch + 1}: train loss {loss_sum / n_train:.4f} test loss {test_loss:.4f} pixel acc {accuracy:.4f} "
          f"mIoU {miou:.4f} {seconds[-1]:.1f} s", file=sys.stderr, flush=True)
print(torch.__version__, torch.get_num_threads(), file=sys.stderr)
print(f"train_pictures: {n_train}")
print(f"test_pictures: {len(test_images)}")
print(f"normalize: {mean!r} {std!r}")
print("epoch_seconds: " + " ".join(repr(s) for s in seconds))
print(f"best_epoch: {best_epoch}")
print(f"best_miou: {best[2]!r}")
print(f"best_pixel_accuracy: {best[1]!r}")
print(f"peak_rss_mb: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}")
