"""Peer for DetectBench: the PyTorch 1.13 twin of
`convkit detect train yolo-small --dataset fashion-scenes --epochs EPOCHS --batch-size 32 [--limit LIMIT]`.

Network: ConvKit's YoloV2(numClasses 10, inChannels 1), layer for layer and built in the same order: six 3x3 convs
without bias (16, 32, 64, 128, 256, 256 channels), each followed by BatchNorm2d (eps 1e-5, momentum 0.1) and
LeakyReLU(0.1), the first four by a 2x2 max-pool (stride 16); a 1x1 head with bias giving B*(5+C) channels per cell,
anchor-major (anchor b owns channels b*(5+C) + [tx, ty, tw, th, objectness, class logits]). Initialisation: PyTorch's
defaults, the distributions ConvKit's Init.LayerDefault draws from, then every objectness bias set to -4.6 as
YoloV2.ObjectnessPriorBias. The anchors are ConvKit's (k-means over the same training boxes, passed in), so both
networks regress against the same shapes.

Loss (ConvKit's YoloLoss, written out as tools/fixtures/gen_yolo.py checks it): each ground truth is given to the cell
holding its centre and the anchor of best shape IoU (later boxes win a shared position); box loss 5 * squared error of
(sigmoid(tx), sigmoid(ty), tw, th) against (x*, y*, log w/aw, log h/ah); objectness BCE-with-logits, target 1 at
responsible positions, 0 with weight 0.5 at the others except those whose decoded box (no gradient) has IoU > 0.6 with
a ground truth of their picture (ignored); class cross-entropy at responsible positions; each term summed and divided
by the batch size.

Recipe (ConvKit's Trainer and `convkit detect train` defaults): Adam lr LR (betas 0.9/0.999, eps 1e-8),
CosineAnnealingLR(T_max=EPOCHS) stepped after each epoch, batch 32, a new seeded shuffle each epoch, the last short batch
kept, a horizontal flip with p 0.5 of picture and boxes together (x1' = W - x2), then normalisation with the mean and
population std of the training pictures as Normalize.FromDataset(train, maxSamples: 2000) takes them.

Evaluation after each epoch, eval mode, no grad, batches of 500: decoding as YoloDecoder with its defaults (score >= 0.05,
per-class NMS at IoU 0.45 by torchvision's batched_nms, at most 100 per picture); the detections are written to
OUT_DIR/epoch{E}.json as [[picture, class, x1, y1, x2, y2, score], ...] and DetectBench scores them with ConvKit's
DetectionEvaluator, the same code that scores ConvKit's, so the metric cannot differ between the two.

Epoch seconds: the training loop only, as ConvKit's EpochMetrics.Seconds. Data: the COCO set (train/images,
train/annotations.json; test likewise) read with PIL and json, all in memory.

Usage: detect_torch.py THREADS EPOCHS DATA_DIR OUT_DIR LR ANCHORS [LIMIT], ANCHORS as "w,h;w,h;...".
Prints "key: value" lines (one "epoch:" line per epoch: number, train loss, test loss, seconds)."""
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from torchvision.ops import batched_nms, box_iou

threads, epochs, data_dir, out_dir, lr = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
anchors = torch.tensor([[float(v) for v in pair.split(",")] for pair in sys.argv[6].split(";")], dtype=torch.float32)
limit = int(sys.argv[7]) if len(sys.argv) > 7 else None
torch.set_num_threads(threads)
SEED, BATCH, STRIDE = 0, 32, 16
LAMBDA_COORD, LAMBDA_NOOBJ, IGNORE = 5.0, 0.5, 0.6
MAX_LOG_SCALE = math.log(1000 / 16)
SCORE, NMS_IOU, MAX_DETECTIONS = 0.05, 0.45, 100
torch.manual_seed(SEED)
os.makedirs(out_dir, exist_ok=True)


def load(split, count=None):
    """Pictures (N, H, W) uint8 and per picture (boxes (k, 4) xyxy pixels, labels (k)), in the json's image order."""
    with open(os.path.join(data_dir, split, "annotations.json")) as f:
        coco = json.load(f)
    images = coco["images"][:count] if count is not None else coco["images"]
    category = {c["id"]: k for k, c in enumerate(sorted(coco["categories"], key=lambda c: c["id"]))}
    per_image = {image["id"]: ([], []) for image in images}
    for a in coco["annotations"]:
        if a["image_id"] in per_image:
            x, y, w, h = a["bbox"]
            per_image[a["image_id"]][0].append([x, y, x + w, y + h])
            per_image[a["image_id"]][1].append(category[a["category_id"]])
    pictures = np.stack([np.asarray(Image.open(os.path.join(data_dir, split, "images", i["file_name"])).convert("L")) for i in images])
    truths = [(torch.tensor(b, dtype=torch.float32).view(-1, 4), torch.tensor(l, dtype=torch.long)) for b, l in
              (per_image[i["id"]] for i in images)]
    return torch.from_numpy(pictures), truths, len(category)


train_images, train_truths, C = load("train", limit)
test_images, test_truths, _ = load("test")
n_train, B = len(train_images), anchors.shape[0]
height, width = train_images.shape[1], train_images.shape[2]

samples = min(2000, n_train)
picked = train_images[[s * n_train // samples for s in range(samples)]].to(torch.float32) / 255
total = picked.to(torch.float64)
mean = float(np.float32(total.mean().item()))
std = float(np.float32(max((total * total).mean().item() - total.mean().item() ** 2, 1e-12) ** 0.5))


class YoloV2(nn.Module):
    def __init__(self, num_classes, in_channels=1):
        super().__init__()
        layers, channels = [], in_channels
        for out, pool in [(16, True), (32, True), (64, True), (128, True), (256, False), (256, False)]:
            layers += [nn.Conv2d(channels, out, 3, padding=1, bias=False), nn.BatchNorm2d(out, eps=1e-5, momentum=0.1), nn.LeakyReLU(0.1)]
            if pool:
                layers.append(nn.MaxPool2d(2))
            channels = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Conv2d(channels, B * (5 + num_classes), 1)
        with torch.no_grad():
            self.head.bias.view(B, 5 + num_classes)[:, 4] = -4.6

    def forward(self, x):
        return self.head(self.features(x))


def rows_of(out):
    """(N, B*H*W, 5+C): one row per position, positions ordered (b, i, j) within a picture."""
    N, channels, H, W = out.shape
    return out.view(N, B, channels // B, H, W).permute(0, 1, 3, 4, 2).reshape(N, B * H * W, channels // B)


def decode_boxes(rows, H, W):
    """Every position's box, xyxy pixels clipped to the picture: (N, B*H*W, 4)."""
    N = rows.shape[0]
    r = rows.view(N, B, H, W, -1)
    j = torch.arange(W, dtype=torch.float32).view(1, 1, 1, W)
    i = torch.arange(H, dtype=torch.float32).view(1, 1, H, 1)
    cx, cy = (j + torch.sigmoid(r[..., 0])) * STRIDE, (i + torch.sigmoid(r[..., 1])) * STRIDE
    w = anchors[:, 0].view(1, B, 1, 1) * torch.exp(r[..., 2].clamp(max=MAX_LOG_SCALE))
    h = anchors[:, 1].view(1, B, 1, 1) * torch.exp(r[..., 3].clamp(max=MAX_LOG_SCALE))
    boxes = torch.stack([(cx - w / 2).clamp(0, W * STRIDE), (cy - h / 2).clamp(0, H * STRIDE),
                         (cx + w / 2).clamp(0, W * STRIDE), (cy + h / 2).clamp(0, H * STRIDE)], dim=-1)
    return boxes.view(N, -1, 4)


def yolo_loss(out, truths):
    N, _, H, W = out.shape
    rows = rows_of(out)
    responsible = torch.zeros(N, B * H * W, dtype=torch.bool)
    target = torch.zeros(N, B * H * W, 4)
    cls = torch.zeros(N, B * H * W, dtype=torch.long)
    for n, (boxes, labels) in enumerate(truths):
        for box, label in zip(boxes.tolist(), labels.tolist()):
            x1, y1, x2, y2 = box
            w, h, cx, cy = x2 - x1, y2 - y1, (x1 + x2) / 2, (y1 + y2) / 2
            j, i = min(max(math.floor(cx / STRIDE), 0), W - 1), min(max(math.floor(cy / STRIDE), 0), H - 1)
            inter = torch.minimum(torch.tensor(w), anchors[:, 0]) * torch.minimum(torch.tensor(h), anchors[:, 1])
            b = int(torch.argmax(inter / (w * h + anchors[:, 0] * anchors[:, 1] - inter)))
            p = (b * H + i) * W + j
            responsible[n, p] = True
            target[n, p] = torch.tensor([cx / STRIDE - j, cy / STRIDE - i, math.log(w / anchors[b, 0]), math.log(h / anchors[b, 1])])
            cls[n, p] = label
    with torch.no_grad():
        predicted = decode_boxes(rows, H, W)
        ignored = torch.zeros_like(responsible)
        for n, (boxes, _) in enumerate(truths):
            if len(boxes):
                ignored[n] = box_iou(predicted[n], boxes).max(dim=1).values > IGNORE
    negative = ~responsible & ~ignored
    chosen, t = rows[responsible], target[responsible]
    box = LAMBDA_COORD * (((torch.sigmoid(chosen[:, :2]) - t[:, :2]) ** 2).sum() + ((chosen[:, 2:4] - t[:, 2:4]) ** 2).sum())
    weight = responsible.float() + LAMBDA_NOOBJ * negative.float()
    obj = F.binary_cross_entropy_with_logits(rows[..., 4], responsible.float(), weight=weight, reduction="sum")
    class_loss = F.cross_entropy(chosen[:, 5:], cls[responsible], reduction="sum")
    return (box + obj + class_loss) / N


def decode(out):
    N, _, H, W = out.shape
    rows = rows_of(out)
    boxes = decode_boxes(rows, H, W)
    best, classes = torch.softmax(rows[..., 5:], dim=-1).max(dim=-1)
    scores = torch.sigmoid(rows[..., 4]) * best
    result = []
    for n in range(N):
        keep = scores[n] >= SCORE
        b, s, c = boxes[n][keep], scores[n][keep], classes[n][keep]
        kept = batched_nms(b, s, c, NMS_IOU)[:MAX_DETECTIONS]
        result.append((b[kept], s[kept], c[kept]))
    return result


def prepare(images, truths, flips=None):
    x = images.to(torch.float32).unsqueeze(1) / 255
    truths = list(truths)
    if flips is not None:
        for k in flips.nonzero().flatten().tolist():
            x[k] = x[k].flip(-1)
            boxes, labels = truths[k]
            truths[k] = (torch.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], dim=1), labels)
    return (x - mean) / std, truths


model = YoloV2(C)
print(f"parameters: {sum(p.numel() for p in model.parameters())}", file=sys.stderr)
optimizer = torch.optim.Adam(model.parameters(), lr=lr)
schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)


def evaluate(epoch):
    model.eval()
    loss_sum, found = 0.0, []
    with torch.no_grad():
        for start in range(0, len(test_images), 500):
            x, truths = prepare(test_images[start:start + 500], test_truths[start:start + 500])
            out = model(x)
            loss_sum += yolo_loss(out, truths).item() * len(truths)
            for n, (b, s, c) in enumerate(decode(out)):
                found += [[start + n, int(k), *box, float(score)] for box, score, k in zip(b.tolist(), s.tolist(), c.tolist())]
    model.train()
    with open(os.path.join(out_dir, f"epoch{epoch}.json"), "w") as f:
        json.dump(found, f)
    return loss_sum / len(test_images)


seconds = []
for epoch in range(epochs):
    model.train()
    generator = torch.Generator().manual_seed(SEED * 1_000_003 + epoch)
    start_time = time.perf_counter()
    order = torch.randperm(n_train, generator=generator)
    flips = torch.rand(n_train, generator=generator) < 0.5
    loss_sum = 0.0
    for start in range(0, n_train, BATCH):
        batch = order[start:start + BATCH]
        x, truths = prepare(train_images[batch], [train_truths[k] for k in batch.tolist()], flips[batch])
        loss = yolo_loss(model(x), truths)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(batch)
    seconds.append(time.perf_counter() - start_time)
    schedule.step()
    test_loss = evaluate(epoch + 1)
    print(f"epoch: {epoch + 1} {loss_sum / n_train!r} {test_loss!r} {seconds[-1]!r}", flush=True)
    print(f"epoch {epoch + 1}: train loss {loss_sum / n_train:.4f} test loss {test_loss:.4f} {seconds[-1]:.1f} s", file=sys.stderr, flush=True)
print(torch.__version__, torch.get_num_threads(), file=sys.stderr)
print(f"train_pictures: {n_train}")
print(f"test_pictures: {len(test_images)}")
print(f"normalize: {mean!r} {std!r}")
print(f"peak_rss_mb: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}")
