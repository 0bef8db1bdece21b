using ConvKit.Onnx.Import;
using ConvKit.Ops;

namespace ConvKit.Onnx.Ops;

// Conv, ConvTranspose (1-D and 2-D, run as 2-D), Gemm and MatMul.
static partial class Operators
{
    static OpKernel Conv(NodeContext node)
    {
        var windows = new Windows(node);
        int groups = (int)node.Int("group", 1);
        return (inputs, _) =>
        {
            var (x, weight, oneD) = Spatial2d(node, node.FloatInput(inputs, 0), node.FloatInput(inputs, 1));
            var bias = node.HasInput(2) ? node.FloatInput(inputs, 2) : null;
            var kernel = new Size2(weight.Size(2), weight.Size(3));
            if (windows.Kernel(oneD) is { } declared && declared != kernel)
                throw node.Invalid($"kernel_shape {declared} does not match the weight's shape {Values.Format(weight.Shape.ToArray())}.");
            var (pads, output) = windows.Resolve(new Size2(x.Size(2), x.Size(3)), kernel, oneD);
            var (stride, dilation) = (windows.Stride(oneD), windows.Dilation(oneD));
            // A shortcut (ResidualFusion) is added inside the convolution unless the output is cut to size afterwards
            // (a start pad larger than the end one, which WithPads pads symmetrically), and then after it.
            var shortcut = node.FusedResidual ? node.FloatInput(inputs, 3) : null;
            bool addsInside = shortcut != null && pads[0] <= pads[2] && pads[1] <= pads[3];
            if (shortcut != null && oneD) shortcut = shortcut.Unsqueeze(2);
            var y = Values.WithPads(x, pads, 0f, (padded, padding) =>
                addsInside ? F.Conv2dAdd(padded, weight, bias, shortcut!, node.FusedActivation, stride, padding, dilation, groups, node.FusedActivationParameter)
                : shortcut == null && node.FusedActivation is { } activation
                    ? F.Conv2d(padded, weight, bias, activation, stride, padding, dilation, groups, node.FusedActivationParameter)
                    : F.Conv2d(padded, weight, bias, stride, padding, dilation, groups), output);
            if (shortcut != null && !addsInside)
            {
                y = F.Add(y, shortcut);
                if (node.FusedActivation is { } after) y = F.Activate(y, after, node.FusedActivationParameter);
            }
            return [OnnxValue.Of(oneD ? y.Squeeze(2) : y)];
        };
    }

    /// <summary>A 1-D (N, C, L) input and its (M, C, k) weight viewed as 2-D with height 1; 2-D ones as they are.</summary>
    static (Tensor X, Tensor Weight, bool OneD) Spatial2d(NodeContext node, Tensor x, Tensor weight)
    {
        if (x.Rank == 3 && weight.Rank == 3) return (x.Unsqueeze(2), weight.Unsqueeze(2), true);
        if (x.Rank == 4 && weight.Rank == 4) return (x, weight, false);
        throw node.Unsupported($"only 1-D and 2-D {node.OpType} is supported, got input shape {Values.Format(x.Shape.ToArray())} and weight shape {Values.Format(weight.Shape.ToArray())}");
    }

    // The transposed convolution runs without padding; ONNX's pads (which may differ per side), output_padding and
    // output_shape then crop or extend the full result, and the bias is added last so extended cells get it too.
    static OpKernel ConvTranspose(NodeContext node)
    {
        var windows = new Windows(node);
        int groups = (int)node.Int("group", 1);
        var outputPadding = node.Ints("output_padding");
        var outputShape = node.Ints("output_shape");
        var pads = node.Ints("pads");
        return (inputs, _) =>
        {
            var (x, weight, oneD) = Spatial2d(node, node.FloatInput(inputs, 0), node.FloatInput(inputs, 1));
            var bias = node.HasInput(2) ? node.FloatInput(inputs, 2) : null;
            var stride = windows.Stride(oneD);
            var dilation = windows.Dilation(oneD);
            var full = F.ConvTranspose2d(x, weight, null, stride, 0, 0, groups, dilation);
            int[] begin = new int[2], end = new int[2];
            int[] strides = [stride.Height, stride.Width];
            for (int axis = 0; axis < 2; axis++)
            {
                // Index into the 1-D or 2-D attribute lists; the height axis of a 1-D op has nothing to pad.
                int a = oneD ? axis - 1 : axis, axes = oneD ? 1 : 2;
                if (a < 0) continue;
                int fullSize = full.Size(2 + axis), extra = outputPadding is { Length: > 0 } ? (int)outputPadding[a] : 0;
                int natural = fullSize + extra;
                if (outputShape is { Length: > 0 } || windows.AutoPad is "SAME_UPPER" or "SAME_LOWER")
                {
                    int target = outputShape is { Length: > 0 } ? (int)outputShape[^(axes - a)] : x.Size(2 + axis) * strides[axis];
                    int total = natural - target;
                    // Only SAME_UPPER puts the larger half at the end (the ONNX spec and ONNX Runtime agree).
                    bool lower = windows.AutoPad != "SAME_UPPER";
                    begin[axis] = lower ? total - total / 2 : total / 2;
                    end[axis] = total - begin[axis];
                }
                else if (windows.AutoPad != "VALID" && pads is { Length: > 0 })
                {
                    begin[axis] = (int)pads[a];
                    end[axis] = (int)pads[a + axes];
                }
                // Remove padding from the result; output_padding adds cells at the end.
                end[axis] -= extra;
            }
            if (full.Size(2) - begin[0] - end[0] < 1 || full.Size(3) - begin[1] - end[1] < 1) throw node.Invalid("the padding removes the whole output.");
            var y = F.Pad(full, [-begin[1], -end[1], -begin[0], -end[0]]);
            if (bias != null) y = y + bias.Reshape(1, bias.Numel, 1, 1);
            return [OnnxValue.Of(oneD ? y.Squeeze(2) : y)];
        };
    }

    // Y = alpha·op(A)·op(B) + beta·C, C broadcast to (M, N). The common Linear form takes ConvKit's fused path.
    static OpKernel Gemm(NodeContext node)
    {
        float alpha = node.Float("alpha", 1f), beta = node.Float("beta", 1f);
        bool transA = node.Int("transA", 0) != 0, transB = node.Int("transB", 0) != 0;
        return (inputs, _) =>
        {
            var a = node.FloatInput(inputs, 0);
            var b = node.FloatInput(inputs, 1);
            var c = node.HasInput(2) ? node.FloatInput(inputs, 2) : null;
            if (a.Rank != 2 || b.Rank != 2) throw node.Invalid($"A and B must be 2-D, got {Values.Format(a.Shape.ToArray())} and {Values.Format(b.Shape.ToArray())}.");
            if (!transA && transB && alpha == 1f && (c == null || (beta == 1f && c.Rank == 1 && c.Size(0) == b.Size(0))))
                return [OnnxValue.Of(F.Linear(a, b, c))];
            var product = F.MatMul(transA ? a.Transpose(0, 1) : a, transB ? b.Transpose(0, 1) : b);
            if (alpha != 1f) product *= alpha;
            if (c != null && beta != 0f) product = product + (beta == 1f ? c : c * beta);
            return [OnnxValue.Of(product)];
        };
    }

    static OpKernel MatMul(NodeContext node) => (inputs, _) =>
        [OnnxValue.Of(F.MatMul(node.FloatInput(inputs, 0), node.FloatInput(inputs, 1)))];
}
