"""Peer for BoxBench: torchvision's box_iou, nms and batched_nms on the boxes BoxBench wrote (float32, in its order).
Prints, per case, the median seconds and the count (IoU values computed, or boxes kept)."""
import statistics
import sys
import time

import numpy as np
import torch
import torchvision.ops as ops

torch.set_num_threads(int(sys.argv[1]))
values = torch.from_numpy(np.fromfile(sys.argv[2], dtype="<f4"))
sizes = [4000, 40000, 10000, 40000, 10000, 10000]
pairs, spread, spread_scores, crowded, crowded_scores, classes = torch.split(values, sizes)
pairs, spread, crowded = pairs.view(-1, 4), spread.view(-1, 4), crowded.view(-1, 4)
classes = classes.long()

cases = [
    lambda: ops.box_iou(pairs, pairs).numel(),
    lambda: len(ops.nms(spread, spread_scores, 0.5)),
    lambda: len(ops.nms(crowded, crowded_scores, 0.5)),
    lambda: len(ops.batched_nms(crowded, crowded_scores, classes, 0.5)),
]
for case in cases:
    for _ in range(3):
        case()
    times = []
    for _ in range(15):
        start = time.perf_counter()
        case()
        times.append(time.perf_counter() - start)
    print(statistics.median(times), case())
print(torch.__version__, torch.get_num_threads(), file=sys.stderr)
