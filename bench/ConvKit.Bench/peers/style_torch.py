"""Peer for StyleBench: the PyTorch 1.13 twin of `convkit style CONTENT STYLE` with its defaults (packaged ResNet-18,
L-BFGS with strong Wolfe, 300 evaluations, alpha 1, beta 100, gamma 10, content layer3, style relu/layer1/layer2/layer3
at 1/4 each, start from the content picture).

PyTorch cannot load ONNX, so the network is the ONNX file itself, read with Debian's python3-onnx and run node by node
with torch.nn.functional: the same weights, the same graph. Batch norm is folded into the convolutions (inference
mode, running statistics), as ConvKit's FoldBatchNorm import option does. Only the nodes the requested values need
are evaluated, as ConvKit's feature plans do. Preprocessing is in the graph, as in ConvKit's StyleNetwork.ResNet18:
RGB in [0, 1] -> BGR -> x255 -> minus the per-channel mean.

Pictures: the content is resized with PIL's bilinear filter (ConvKit uses SkiaSharp's linear filter with linear
mipmaps: the pixels differ slightly); the style picture is scaled to cover the content's size with F.interpolate
(bilinear, align_corners=False, as ConvKit's F.Upsample) and centre-cropped.

Usage: style_torch.py THREADS ONNX CONTENT STYLE HEIGHT WIDTH [STEPS]. Prints "key: value" lines."""
import resource
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from PIL import Image

threads, onnx_path, content_path, style_path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
height, width = int(sys.argv[5]), int(sys.argv[6])
steps = int(sys.argv[7]) if len(sys.argv) > 7 else 300
torch.set_num_threads(threads)

ALPHA, BETA, GAMMA = 1.0, 100.0, 10.0
LAYERS = {"relu": "ReLU253_Output_0", "layer1": "ReLU283_Output_0", "layer2": "ReLU315_Output_0", "layer3": "ReLU347_Output_0"}
CONTENT_LAYER = "layer3"
STYLE_LAYERS = [("relu", 0.25), ("layer1", 0.25), ("layer2", 0.25), ("layer3", 0.25)]
MEAN_BGR = torch.tensor([103.0626, 115.9029, 123.1516]).view(1, 3, 1, 1)


class OnnxNetwork:
    """The ONNX graph run node by node, batch norm folded into the convolution before it."""

    def __init__(self, path):
        model = onnx.load(path)
        graph = model.graph
        self.input = graph.input[0].name
        weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).astype(np.float32).copy()) for i in graph.initializer}
        nodes = [(n.op_type, list(n.input), list(n.output), {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute})
                 for n in graph.node]
        consumers = {}
        for op, inputs, _, _ in nodes:
            for name in inputs:
                consumers[name] = consumers.get(name, 0) + 1
        self.nodes = []
        folded = 0
        i = 0
        while i < len(nodes):
            op, inputs, outputs, attrs = nodes[i]
            if op == "Conv":
                w = weights[inputs[1]]
                b = weights[inputs[2]] if len(inputs) > 2 else torch.zeros(w.shape[0])
                nxt = nodes[i + 1] if i + 1 < len(nodes) else None
                if nxt is not None and nxt[0] == "BatchNormalization" and nxt[1][0] == outputs[0] and consumers[outputs[0]] == 1:
                    gamma, beta, mean, var = (weights[n] for n in nxt[1][1:5])
                    scale = gamma / torch.sqrt(var + nxt[3].get("epsilon", 1e-5))
                    w = w * scale.view(-1, 1, 1, 1)
                    b = (b - mean) * scale + beta
                    outputs = nxt[2]
                    folded += 1
                    i += 1
                self.nodes.append(("Conv", [inputs[0]], outputs, attrs, (w.contiguous(), b.contiguous())))
            elif op == "BatchNormalization":
                self.nodes.append((op, [inputs[0]], outputs, attrs, tuple(weights[n] for n in inputs[1:5])))
            else:
                self.nodes.append((op, inputs, outputs, attrs, None))
            i += 1
        self.folded = folded

    def plan(self, wanted):
        """The nodes, in order, that the values in `wanted` depend on."""
        needed, plan = set(wanted), []
        for node in reversed(self.nodes):
            if any(o in needed for o in node[2]):
                plan.append(node)
                needed.update(node[1])
        return plan[::-1]

    @staticmethod
    def pad(x, attrs, value=0.0):
        top, left, bottom, right = attrs.get("pads", [0, 0, 0, 0])  # ONNX: [x1_begin, x2_begin, x1_end, x2_end]
        if top == bottom and left == right:
            return x, (top, left)
        return F.pad(x, (left, right, top, bottom), value=value), (0, 0)

    def run(self, x, plan, wanted):
        values = {self.input: x}
        for op, inputs, outputs, attrs, params in plan:
            a = values[inputs[0]]
            if op == "Conv":
                a, padding = self.pad(a, attrs)
                y = F.conv2d(a, params[0], params[1], stride=tuple(attrs.get("strides", [1, 1])), padding=padding,
                             dilation=tuple(attrs.get("dilations", [1, 1])), groups=attrs.get("group", 1))
            elif op == "BatchNormalization":
                gamma, beta, mean, var = params
                y = F.batch_norm(a, mean, var, gamma, beta, training=False, eps=attrs.get("epsilon", 1e-5))
            elif op == "Relu":
                y = F.relu(a)
            elif op == "Add":
                y = a + values[inputs[1]]
            elif op == "MaxPool":
                a, padding = self.pad(a, attrs, value=float("-inf"))
                y = F.max_pool2d(a, tuple(attrs["kernel_shape"]), tuple(attrs.get("strides", [1, 1])), padding,
                                 ceil_mode=bool(attrs.get("ceil_mode", 0)))
            elif op == "AveragePool":
                a, padding = self.pad(a, attrs)
                y = F.avg_pool2d(a, tuple(attrs["kernel_shape"]), tuple(attrs.get("strides", [1, 1])), padding,
                                 count_include_pad=bool(attrs.get("count_include_pad", 0)))
            else:
                raise ValueError(f"unsupported ONNX op {op}")
            values[outputs[0]] = y
        return {name: values[name] for name in wanted}


def features(network, picture, layers):
    """Activations of friendly `layers` for a picture (1, 3, H, W) in [0, 1], preprocessing in the graph."""
    wanted = sorted({LAYERS[l] for l in layers})
    x = picture[:, [2, 1, 0]] * 255.0 - MEAN_BGR
    values = network.run(x, network.plan(wanted), wanted)
    return {l: values[LAYERS[l]] for l in layers}


def gram(a):
    unrolled = a.reshape(a.shape[1], -1)
    return unrolled @ unrolled.t()


def content_cost(a_c, a_g):
    _, c, h, w = a_g.shape
    return ((a_c - a_g) ** 2).sum() * (1.0 / (4.0 * c * h * w))


def layer_style_cost(g_s, a_g):
    _, c, h, w = a_g.shape
    n = 2.0 * c * h * w
    return ((g_s - gram(a_g)) ** 2).sum() * (1.0 / (n * n))


def total_variation(p):
    return ((p[:, :, 1:, :] - p[:, :, :-1, :]) ** 2).mean() + ((p[:, :, :, 1:] - p[:, :, :, :-1]) ** 2).mean()


def load(path, size=None):
    image = Image.open(path).convert("RGB")
    if size is not None:
        image = image.resize((size[1], size[0]), Image.BILINEAR)
    return torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1).contiguous()


def cover_and_crop(picture, h, w):
    """As StyleTransfer.CoverAndCrop: scale (bilinear) to cover h x w keeping the aspect ratio, cut out the centre."""
    ph, pw = picture.shape[1], picture.shape[2]
    factor = max(h / ph, w / pw)
    ch, cw = max(h, int(np.ceil(ph * factor - 1e-9))), max(w, int(np.ceil(pw * factor - 1e-9)))
    covering = picture if (ch, cw) == (ph, pw) else F.interpolate(picture[None], size=(ch, cw), mode="bilinear", align_corners=False)[0]
    top, left = (ch - h) // 2, (cw - w) // 2
    return covering[:, top:top + h, left:left + w]


network = OnnxNetwork(onnx_path)
for p in (w for node in network.nodes if node[4] is not None for w in node[4]):
    p.requires_grad_(False)
content = load(content_path, (height, width))[None]
style_full = load(style_path)

start = time.perf_counter()
style = cover_and_crop(style_full, height, width)[None]
with torch.no_grad():
    content_target = features(network, content, [CONTENT_LAYER])[CONTENT_LAYER]
    style_activations = features(network, style, [l for l, _ in STYLE_LAYERS])
    style_grams = [gram(style_activations[l]) for l, _ in STYLE_LAYERS]
layers = list(dict.fromkeys([CONTENT_LAYER] + [l for l, _ in STYLE_LAYERS]))

pixels = content.clone().clamp(0, 1).requires_grad_()
optimizer = torch.optim.LBFGS([pixels], lr=1, max_iter=20, line_search_fn="strong_wolfe")
history = []


def closure():
    with torch.no_grad():
        pixels.clamp_(0, 1)
    optimizer.zero_grad()
    activations = features(network, pixels, layers)
    c = content_cost(content_target, activations[CONTENT_LAYER])
    s = sum(weight * layer_style_cost(g, activations[l]) for (l, weight), g in zip(STYLE_LAYERS, style_grams))
    tv = total_variation(pixels)
    total = ALPHA * c + BETA * s + GAMMA * tv
    total.backward()
    history.append((c.item(), s.item(), tv.item(), total.item()))
    return total


while len(history) < steps:
    optimizer.step(closure)
with torch.no_grad():
    result = pixels.clamp(0, 1)
seconds = time.perf_counter() - start

first, last = history[0], history[-1]
print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {network.folded} batch norms folded, "
      f"{len(network.plan([LAYERS[l] for l in layers]))} nodes evaluated", file=sys.stderr)
print(f"picture: {width}x{height}")
print(f"evaluations: {len(history)}")
print(f"seconds: {seconds!r}")
print(f"ms_per_evaluation: {1000 * seconds / len(history)!r}")
print(f"first: {first[0]!r} {first[1]!r} {first[2]!r} {first[3]!r}")
print(f"last: {last[0]!r} {last[1]!r} {last[2]!r} {last[3]!r}")
print(f"peak_rss_mb: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}")
