using ConvKit.Onnx.Import;

namespace ConvKit.Onnx.Ops;

/// <summary>
/// The window attributes shared by Conv, ConvTranspose, MaxPool and AveragePool (kernel_shape, strides, dilations,
/// pads, auto_pad), resolved against an input's spatial size. 1-D ops are run as 2-D ones with a height of 1, so
/// everything here is (height, width); pads are (top, left, bottom, right) as in ONNX.
/// </summary>
sealed class Windows
{
    readonly NodeContext node;
    readonly string autoPad;
    readonly long[]? kernelShape, strides, dilations, pads;

    public Windows(NodeContext node, bool hasDilations = true)
    {
        this.node = node;
        autoPad = node.String("auto_pad", "NOTSET");
        if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER"))
            throw node.Unsupported($"auto_pad '{autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
        kernelShape = node.Ints("kernel_shape");
        strides = node.Ints("strides");
        dilations = hasDilations ? node.Ints("dilations") : null;
        pads = node.Ints("pads");
        int? rank = kernelShape?.Length ?? strides?.Length;
        if (rank is > 2) throw node.Unsupported($"{rank}-D windows are not supported (only 1-D and 2-D)");
        if (pads != null && rank != null && pads.Length != 2 * rank)
            throw new InvalidDataException($"ONNX {node.OpType} node '{node.Name}': pads has {pads.Length} values for {rank} spatial axes.");
    }

    public string AutoPad => autoPad;

    /// <summary>kernel_shape as (height, width), or null when the attribute is absent (convolutions read the weight).</summary>
    public Size2? Kernel(bool oneD) => kernelShape == null ? null : Pair(kernelShape, oneD, 1);

    public Size2 Stride(bool oneD) => Pair(strides, oneD, 1);
    public Size2 Dilation(bool oneD) => Pair(dilations, oneD, 1);

    static Size2 Pair(long[]? values, bool oneD, int fallback) => values == null || values.Length == 0 ? new Size2(fallback, fallback)
        : oneD ? new Size2(1, (int)values[0]) : new Size2((int)values[0], (int)values[^1]);

    /// <summary>(top, left, bottom, right) padding and the output size for an input of <paramref name="input"/> (h, w).</summary>
    public (int[] Pads, Size2 Output) Resolve(Size2 input, Size2 kernel, bool oneD, bool ceilMode = false)
    {
        var stride = Stride(oneD);
        var dilation = Dilation(oneD);
        var (top, bottom, height) = Axis(input.Height, kernel.Height, stride.Height, dilation.Height, oneD ? (0, 0) : PadsOf(0), ceilMode);
        var (left, right, width) = Axis(input.Width, kernel.Width, stride.Width, dilation.Width, PadsOf(oneD ? 0 : 1), ceilMode);
        if (height < 1 || width < 1)
            throw node.Invalid($"the input's spatial size {input} is too small for kernel {kernel} (output {height}×{width}).");
        return ([top, left, bottom, right], new Size2(height, width));
    }

    (int Begin, int End) PadsOf(int axis)
    {
        if (pads == null || pads.Length == 0) return (0, 0);
        int axes = pads.Length / 2;
        return ((int)pads[axis], (int)pads[axis + axes]);
    }

    (int Begin, int End, int Output) Axis(int size, int kernel, int stride, int dilation, (int Begin, int End) explicitPads, bool ceilMode)
    {
        int span = dilation * (kernel - 1) + 1;
        if (autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            int output = (size + stride - 1) / stride;
            int total = Math.Max((output - 1) * stride + span - size, 0);
            int smaller = total / 2, larger = total - smaller;
            return autoPad == "SAME_UPPER" ? (smaller, larger, output) : (larger, smaller, output);
        }
        var (begin, end) = autoPad == "VALID" ? (0, 0) : explicitPads;
        if (begin < 0 || end < 0) throw node.Unsupported($"negative pads ({begin}, {end}) are not supported");
        int padded = size + begin + end - span;
        int count = (ceilMode ? (int)Math.Ceiling(padded / (double)stride) : (int)Math.Floor(padded / (double)stride)) + 1;
        // In ceil mode a last window that would start in the end padding is dropped (ONNX Runtime and PyTorch agree).
        if (ceilMode && (count - 1) * stride >= size + begin) count--;
        return (begin, end, count);
    }
}
