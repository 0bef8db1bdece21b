#!/usr/bin/python3
"""Exports torchvision 0.14 classification models with seeded random weights (nothing downloaded) to ONNX with
PyTorch's own exporter, batch 1, 224×224 input, as the issue measures them.

Usage: /usr/bin/python3 onnx_zoo_export.py OUT_DIR OPSETS MODEL...
  e.g. onnx_zoo_export.py artifacts/onnx-zoo 13,17 mobilenet_v3_small shufflenet_v2_x0_5 mnasnet0_5 convnext_tiny

Writes OUT_DIR/MODEL.opsetN.onnx (skipped when present) and prints one line per file: "exported PATH" or "cached PATH".
Batch-norm running statistics are randomised too, so folding them is not a no-op. The files are large
(convnext_tiny is about 110 MB) and are never committed: artifacts/ is ignored.
"""
import os
import sys

import torch
import torchvision


def build(name):
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    return model.eval()


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
            x = torch.randn(1, 3, 224, 224)
            torch.onnx.export(model, x, path + ".tmp", opset_version=opset, input_names=["input"], output_names=["output"],
                              do_constant_folding=True)
            os.replace(path + ".tmp", path)
            print(f"exported {path}", flush=True)


if __name__ == "__main__":
    main()
