using ConvKit.Onnx.Import;
using ConvKit.Ops;

namespace ConvKit.Onnx.Ops;

// MaxPool, AveragePool (1-D and 2-D), GlobalAveragePool, GlobalMaxPool.
static partial class Operators
{
    static OpKernel MaxPool(NodeContext node)
    {
        var windows = new Windows(node, hasDilations: node.Opset >= 10);
        bool ceilMode = node.Opset >= 10 && node.Int("ceil_mode", 0) != 0;
        if (node.Int("storage_order", 0) != 0) throw node.Unsupported("storage_order 1 (column-major indices) is not supported");
        if (node.HasOutput(1)) throw node.Unsupported("the Indices output is not supported");
        return (inputs, _) => Pool(node, windows, ceilMode, inputs, (x, kernel, stride, dilation, pads, _) =>
            F.MaxPool2d(x, kernel, stride, new Pads2d(pads[0], pads[1], pads[2], pads[3]), dilation, ceilMode));
    }

    static OpKernel AveragePool(NodeContext node)
    {
        var windows = new Windows(node, hasDilations: node.Opset >= 19);
        bool ceilMode = node.Opset >= 10 && node.Int("ceil_mode", 0) != 0;
        bool countPads = node.Int("count_include_pad", 0) != 0;
        if (node.Ints("dilations") is { } dilations && dilations.Any(d => d != 1)) throw node.Unsupported("dilated average pooling is not supported");
        return (inputs, _) => Pool(node, windows, ceilMode, inputs, (x, kernel, stride, dilation, pads, output) =>
        {
            bool fits = pads[0] <= kernel.Height / 2 && pads[1] <= kernel.Width / 2;
            // Symmetric padding with the bottom/right overhang cut off is exact when padded cells count, or when the
            // bottom/right pads are no larger than the top/left ones (ConvKit leaves its own padding out of the count).
            if (fits && (countPads || (pads[2] <= pads[0] && pads[3] <= pads[1])))
                return Values.WithPads(x, pads, 0f, (padded, padding) => F.AvgPool2d(padded, kernel, stride, padding, ceilMode, countPads), output);
            int[] torchPads = [pads[1], pads[3], pads[0], pads[2]];
            var padded = F.Pad(x, torchPads);
            if (countPads) return F.AvgPool2d(padded, kernel, stride, 0, ceilMode);
            // Window sums divided by the number of real (unpadded) cells in each window.
            Tensor cells;
            using (Tensor.NoGrad())
                cells = F.AvgPool2d(F.Pad(Tensor.Ones(1, 1, x.Size(2), x.Size(3)), torchPads),
                    kernel, stride, 0, ceilMode, divisorOverride: 1);
            return F.AvgPool2d(padded, kernel, stride, 0, ceilMode, divisorOverride: 1) / cells;
        });
    }

    delegate Tensor PoolBody(Tensor x, Size2 kernel, Size2 stride, Size2 dilation, int[] pads, Size2 output);

    static OnnxValue?[] Pool(NodeContext node, Windows windows, bool ceilMode, OnnxValue?[] inputs, PoolBody body)
    {
        var x = node.FloatInput(inputs, 0);
        bool oneD = x.Rank == 3;
        if (x.Rank is not (3 or 4)) throw node.Unsupported($"only 1-D and 2-D pooling is supported, got input shape {Values.Format(x.Shape.ToArray())}");
        if (oneD) x = x.Unsqueeze(2);
        var kernel = windows.Kernel(oneD) ?? throw new InvalidDataException($"ONNX {node.OpType} node '{node.Name}': kernel_shape is required.");
        var (pads, output) = windows.Resolve(new Size2(x.Size(2), x.Size(3)), kernel, oneD, ceilMode);
        var y = body(x, kernel, windows.Stride(oneD), windows.Dilation(oneD), pads, output);
        if (y.Size(2) != output.Height || y.Size(3) != output.Width)
            throw node.Unsupported($"this combination of pads {Values.Format(pads)} and ceil_mode gives a different output size in ConvKit");
        return [OnnxValue.Of(oneD ? y.Squeeze(2) : y)];
    }

    static OpKernel GlobalAveragePool(NodeContext node) => FloatUnary(node, x => x.Rank < 3
        ? throw node.Invalid($"expected an input of shape (N, C, ...), got {Values.Format(x.Shape.ToArray())}.")
        : x.Rank == 4 ? F.GlobalAvgPool2d(x) : x.Mean(Enumerable.Range(2, x.Rank - 2).ToArray(), keepDim: true));

    static OpKernel GlobalMaxPool(NodeContext node) => FloatUnary(node, x => x.Rank < 3
        ? throw node.Invalid($"expected an input of shape (N, C, ...), got {Values.Format(x.Shape.ToArray())}.")
        : x.Max(Enumerable.Range(2, x.Rank - 2).ToArray(), keepDim: true));
}
