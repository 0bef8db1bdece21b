#!/usr/bin/python3
"""Exports torchvision 0.14 classification, segmentation and detection models with seeded random weights (nothing
downloaded) to ONNX with PyTorch's own exporter, batch 1: classification and segmentation take a 1×3×224×224 input
("input"; segmentation's output is the "out" map), detection one 3×320×320 image ("images"; outputs "boxes",
"labels", "scores" after the model's own resizing, thresholding and non-maximum suppression).

Usage: /usr/bin/python3 onnx_zoo_export.py OUT_DIR OPSETS MODEL...
  e.g. onnx_zoo_export.py artifacts/onnx-zoo 13,17 mobilenet_v3_small shufflenet_v2_x0_5 mnasnet0_5 convnext_tiny

Writes OUT_DIR/MODEL.opsetN.onnx (skipped when present) and prints one line per file: "exported PATH" or "cached PATH".
Batch-norm running statistics are randomised too, so folding them is not a no-op; SSDlite's are instead measured on
random pictures (see calibrate_batch_norm). The files are large
(convnext_tiny is about 110 MB) and are never committed: artifacts/ is ignored.
"""
import os
import sys

import torch
import torchvision


SEGMENTATION = {"fcn_resnet50", "fcn_resnet101", "deeplabv3_mobilenet_v3_large", "deeplabv3_resnet50", "lraspp_mobilenet_v3_large"}
DETECTION = {"ssdlite320_mobilenet_v3_large", "fasterrcnn_mobilenet_v3_large_320_fpn", "retinanet_resnet50_fpn"}
# Models whose batch-norm statistics are measured rather than drawn (see calibrate_batch_norm); the others match ONNX
# Runtime with drawn ones, and their files stay as they were.
CALIBRATED = {"ssdlite320_mobilenet_v3_large"}
# The layers that score classes (or objectness) in the detection models.
DETECTION_SCORERS = {f"head.classification_head.module_list.{i}.1" for i in range(6)} | {
    "head.classification_head.cls_logits", "rpn.head.cls_logits", "roi_heads.box_predictor.cls_score"}


def build(name):
    torch.manual_seed(0)
    if name in SEGMENTATION:
        model = getattr(torchvision.models.segmentation, name)(weights=None, weights_backbone=None)
    elif name in DETECTION:
        model = getattr(torchvision.models.detection, name)(weights=None, weights_backbone=None)
    else:
        model = getattr(torchvision.models, name)(weights=None)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    model.eval()
    if name in CALIBRATED:
        calibrate_batch_norm(model)
    if name in DETECTION:
        spread_scores(model)
    return model


def calibrate_batch_norm(model):
    """Sets every batch norm's running statistics to those of its inputs on 16 seeded random pictures in [0, 1), the
    benchmark's kind of input. With drawn statistics SSDlite's random MobileNetV3 shrinks the signal layer by layer
    until its deepest features are constant away from the borders (spatial standard deviation about 1e-7 against
    values of about 0.03), so an anchor and its copies 32 or 64 pixels away score alike to a few ulps and which of them
    top-k and suppression keep follows the last bit of each engine's sums. Measured statistics keep each layer's
    output at unit scale, so every anchor sees its own part of the picture."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in norms:
            # momentum None: a plain average over all the batches seen.
            m.reset_running_stats()
            m.momentum, m.training = None, True
        # Batches of 8, since the 1×1 extra layer needs more than one value per channel in training mode.
        for _ in range(2):
            model([torch.rand(3, 320, 320, generator=generator) for _ in range(8)])
        for m in norms:
            m.momentum, m.training = 0.1, False


def spread_scores(model):
    """torchvision initialises the class-scoring layers with tiny weights and a class prior, so that every box scores
    nearly alike and boxes tie to the last bit; scale each so that its logits have a standard deviation of 2 on a
    random picture, with biases in ±1, so that sorting, thresholds and suppression have real work to do."""
    scorers = {n: m for n, m in model.named_modules() if n in DETECTION_SCORERS}
    outputs = {}
    hooks = [m.register_forward_hook(lambda module, inputs, output, n=n: outputs.setdefault(n, []).append(output))
             for n, m in scorers.items()]
    with torch.no_grad():
        for m in scorers.values():
            m.bias.zero_()
        model([torch.rand(3, 320, 320)])
        for hook in hooks:
            hook.remove()
        for n, m in scorers.items():
            m.weight.mul_(2 / torch.cat([o.flatten() for o in outputs[n]]).std())
            m.bias.uniform_(-1, 1)


def main():
    out_dir, opsets, names = sys.argv[1], [int(o) for o in sys.argv[2].split(",")], sys.argv[3:]
    os.makedirs(out_dir, exist_ok=True)
    for name in names:
        model = None
        for opset in opsets:
            path = os.path.join(out_dir, f"{name}.opset{opset}.onnx")
            if os.path.exists(path):
                print(f"cached {path}", flush=True)
                continue
            model = model or build(name)
            if name in DETECTION:
                # Detection models take a list of images; the export traces one.
                # The result dictionary's entries, in its order (the export flattens it).
                labels_first = name.startswith("fasterrcnn")
                outputs = ["boxes", "labels", "scores"] if labels_first else ["boxes", "scores", "labels"]
                args, inputs = ([torch.rand(3, 320, 320)],), ["images"]
            else:
                args, inputs, outputs = torch.randn(1, 3, 224, 224), ["input"], ["out"] if name in SEGMENTATION else ["output"]
            torch.onnx.export(model, args, path + ".tmp", opset_version=opset, input_names=inputs, output_names=outputs,
                              do_constant_folding=True)
            os.replace(path + ".tmp", path)
            print(f"exported {path}", flush=True)


if __name__ == "__main__":
    main()
