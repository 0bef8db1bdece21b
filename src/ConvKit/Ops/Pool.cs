using ConvKit.Autograd;
using ConvKit.Backends;

namespace ConvKit.Ops;

// 2-D pooling of (N, C, H, W) or (C, H, W) inputs, each (H, W) plane on its own: max, average, adaptive
// average and global average. Output sizes, ceil mode and padding rules are PyTorch's.
public static partial class F
{
    /// <summary>
    /// The largest value of each kernel window; padding counts as −∞. The gradient goes to the position
    /// that won (the first one on ties), found in the forward pass.
    /// </summary>
    /// <param name="input">(N, C, H, W) or (C, H, W)</param>
    /// <param name="stride">defaults to <paramref name="kernelSize"/></param>
    /// <param name="padding">at most half the kernel on each axis</param>
    /// <param name="ceilMode">round the output size up, dropping a last window that would start in the right/bottom padding</param>
    /// <returns>(N, C, OH, OW) or (C, OH, OW) with OH = ⌊(H + 2p − d(k−1) − 1)/s⌋ + 1 (⌈⌉ in ceil mode)</returns>
    public static Tensor MaxPool2d(Tensor input, Size2 kernelSize, Size2? stride = null, Size2? padding = null,
        Size2? dilation = null, bool ceilMode = false)
    {
        var g = PoolShapes.Geometry("MaxPool2d", input.Dims, kernelSize, stride ?? kernelSize, padding ?? 0, dilation ?? 1, ceilMode);
        return MaxPool2d(input, g, ceilMode, null);
    }

    /// <summary>Runs max pooling over windows placed by <paramref name="g"/>; <paramref name="pads"/> is traced when not symmetric.</summary>
    static Tensor MaxPool2d(Tensor input, Pool2dGeometry g, bool ceilMode, Pads2d? pads)
    {
        var backend = input.Backend;
        var y = Tensor.Uninitialized(PoolShapes.OutputShape(input.Dims, g), backend);
        // Without a gradient to route, the faster kernel that keeps no argmax.
        var argmax = GradMode.IsEnabled && input.RequiresGrad ? backend.AllocateIndices(y.Numel) : null;
        if (argmax == null) backend.MaxPool2dValues(input.Storage, g, y.Storage);
        else backend.MaxPool2d(input.Storage, g, y.Storage, argmax);
        // Without an argmax there is no gradient to route, but the call is still traced.
        return Node.Record(y, "MaxPool2d", input, argmax == null ? null : grad =>
        {
            var gradInput = Tensor.Empty(input.Dims, backend);
            backend.MaxPool2dBackward(grad.Storage, argmax, g, gradInput.Storage);
            return gradInput;
        }, pads is { } p ? [("geometry", g), ("ceilMode", ceilMode), ("pads", p)] : [("geometry", g), ("ceilMode", ceilMode)]);
    }

    /// <summary>
    /// Max pooling with its own padding on each side, −∞ so that padded positions never win: ONNX's explicit pads
    /// and TensorFlow's "SAME" (<c>F.MaxPool2d(x, 2, 1, Pads2d.Same((13, 13), 2, 1))</c> keeps a 13×13 map 13×13).
    /// Windows start <paramref name="padding"/>.Top rows above and .Left columns left of the input; the bottom and
    /// right pads only add windows. Each pad must be smaller than the dilated kernel, so every window sees the input.
    /// </summary>
    /// <param name="input">(N, C, H, W) or (C, H, W)</param>
    /// <returns>(N, C, OH, OW) or (C, OH, OW) with OH = ⌊(H + top + bottom − d(k−1) − 1)/s⌋ + 1 (⌈⌉ in ceil mode)</returns>
    public static Tensor MaxPool2d(Tensor input, Size2 kernelSize, Size2 stride, Pads2d padding, Size2? dilation = null, bool ceilMode = false)
    {
        var g = PoolShapes.Geometry("MaxPool2d", input.Dims, kernelSize, stride, padding, dilation ?? 1, ceilMode);
        return MaxPool2d(input, g, ceilMode, padding == Pads2d.Symmetric(g.Padding) ? null : padding);
    }

    /// <summary>
    /// The mean of each kernel window. The divisor is <paramref name="divisorOverride"/> when given; otherwise
    /// the window's size counting padding (<paramref name="countIncludePad"/>) or only the input positions it covers.
    /// </summary>
    /// <param name="input">(N, C, H, W) or (C, H, W)</param>
    /// <returns>(N, C, OH, OW) or (C, OH, OW), sizes as in <see cref="MaxPool2d(Tensor, Size2, Size2?, Size2?, Size2?, bool)"/> with dilation 1</returns>
    public static Tensor AvgPool2d(Tensor input, Size2 kernelSize, Size2? stride = null, Size2? padding = null,
        bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null)
    {
        PoolShapes.ValidateDivisor("AvgPool2d", divisorOverride);
        var g = PoolShapes.Geometry("AvgPool2d", input.Dims, kernelSize, stride ?? kernelSize, padding ?? 0, 1, ceilMode);
        int divisor = divisorOverride ?? 0;
        var backend = input.Backend;
        var y = Tensor.Uninitialized(PoolShapes.OutputShape(input.Dims, g), backend);
        backend.AvgPool2d(input.Storage, g, countIncludePad, divisor, y.Storage);
        return Node.Record(y, "AvgPool2d", input, grad =>
        {
            var gradInput = Tensor.Empty(input.Dims, backend);
            backend.AvgPool2dBackward(grad.Storage, g, countIncludePad, divisor, gradInput.Storage);
            return gradInput;
        }, ("geometry", g), ("ceilMode", ceilMode), ("countIncludePad", countIncludePad), ("divisor", divisor));
    }

    /// <summary>
    /// Average pooling to a fixed output size: cell i of an axis averages input positions
    /// ⌊i·In/Out⌋ … ⌈(i+1)·In/Out⌉ − 1, so windows may overlap when the sizes do not divide.
    /// </summary>
    /// <param name="input">(N, C, H, W) or (C, H, W)</param>
    /// <returns>(N, C, outputSize.Height, outputSize.Width) or (C, …)</returns>
    public static Tensor AdaptiveAvgPool2d(Tensor input, Size2 outputSize)
    {
        var g = PoolShapes.AdaptiveGeometry("AdaptiveAvgPool2d", input.Dims, outputSize);
        var backend = input.Backend;
        var y = Tensor.Uninitialized(PoolShapes.OutputShape(input.Dims, g), backend);
        backend.AdaptiveAvgPool2d(input.Storage, g, y.Storage);
        return Node.Record(y, "AdaptiveAvgPool2d", input, grad =>
        {
            var gradInput = Tensor.Empty(input.Dims, backend);
            backend.AdaptiveAvgPool2dBackward(grad.Storage, g, gradInput.Storage);
            return gradInput;
        });
    }

    /// <summary>The mean of each (H, W) plane: adaptive average pooling to 1×1.</summary>
    /// <param name="input">(N, C, H, W) or (C, H, W)</param>
    /// <returns>(N, C, 1, 1) or (C, 1, 1)</returns>
    public static Tensor GlobalAvgPool2d(Tensor input) => AdaptiveAvgPool2d(input, 1);
}

/// <summary>Configuration checks and output sizes of 2-D pooling, shared by the ops and the pooling layers.</summary>
static class PoolShapes
{
    /// <summary>Rejects a kernel, stride or dilation below 1, negative padding, or padding over half the kernel (PyTorch's rule).</summary>
    public static void ValidateConfiguration(string op, Size2 kernelSize, Size2 stride, Size2 padding, Size2 dilation)
    {
        if (kernelSize.Height < 1 || kernelSize.Width < 1)
            throw new ArgumentOutOfRangeException(nameof(kernelSize), $"{op}: kernelSize must be positive, got {kernelSize}.");
        if (stride.Height < 1 || stride.Width < 1)
            throw new ArgumentOutOfRangeException(nameof(stride), $"{op}: stride must be positive, got {stride}.");
        if (dilation.Height < 1 || dilation.Width < 1)
            throw new ArgumentOutOfRangeException(nameof(dilation), $"{op}: dilation must be positive, got {dilation}.");
        if (padding.Height < 0 || padding.Width < 0)
            throw new ArgumentOutOfRangeException(nameof(padding), $"{op}: padding must not be negative, got {padding}.");
        if (padding.Height > kernelSize.Height / 2 || padding.Width > kernelSize.Width / 2)
            throw new ArgumentException($"{op}: padding {padding} must be at most half of kernelSize {kernelSize}.", nameof(padding));
    }

    /// <summary>Validates configuration and input shape, and places the windows; throws before anything is allocated.</summary>
    public static Pool2dGeometry Geometry(string op, int[] inputShape, Size2 kernelSize, Size2 stride, Size2 padding, Size2 dilation, bool ceilMode)
    {
        ValidateConfiguration(op, kernelSize, stride, padding, dilation);
        return Place(op, inputShape, kernelSize, stride, Pads2d.Symmetric(padding), dilation, ceilMode, $"{padding}");
    }

    /// <summary>
    /// As above with (top, left, bottom, right) padding: any amount below the dilated kernel span on each side. The
    /// geometry's Padding is (top, left), where windows start; the bottom/right pads only set the output size.
    /// </summary>
    public static Pool2dGeometry Geometry(string op, int[] inputShape, Size2 kernelSize, Size2 stride, Pads2d pads, Size2 dilation, bool ceilMode)
    {
        ValidateConfiguration(op, kernelSize, stride, 0, dilation);
        int spanHeight = dilation.Height * (kernelSize.Height - 1) + 1, spanWidth = dilation.Width * (kernelSize.Width - 1) + 1;
        if (pads.Top < 0 || pads.Left < 0 || pads.Bottom < 0 || pads.Right < 0)
            throw new ArgumentOutOfRangeException(nameof(pads), $"{op}: padding must not be negative, got {pads}.");
        if (Math.Max(pads.Top, pads.Bottom) >= spanHeight || Math.Max(pads.Left, pads.Right) >= spanWidth)
            throw new ArgumentException($"{op}: padding {pads} must be smaller than the kernel {kernelSize} dilated by {dilation} on each side.", nameof(pads));
        return Place(op, inputShape, kernelSize, stride, pads, dilation, ceilMode, $"{pads}");
    }

    /// <summary>The output size for validated settings; windows start at (top, left) padding.</summary>
    static Pool2dGeometry Place(string op, int[] inputShape, Size2 kernelSize, Size2 stride, Pads2d pads, Size2 dilation, bool ceilMode, string padding)
    {
        var (planes, height, width) = Planes(op, inputShape);
        int outputHeight = OutputSize(height, kernelSize.Height, stride.Height, pads.Top, pads.Bottom, dilation.Height, ceilMode);
        int outputWidth = OutputSize(width, kernelSize.Width, stride.Width, pads.Left, pads.Right, dilation.Width, ceilMode);
        if (outputHeight < 1 || outputWidth < 1)
            throw new ArgumentException(
                $"{op}: input of shape {Shapes.Format(inputShape)} is too small for kernelSize {kernelSize} with padding {padding} " +
                $"and dilation {dilation}: the output would be {outputHeight}×{outputWidth}.");
        return new Pool2dGeometry(planes, height, width, outputHeight, outputWidth, kernelSize, stride, (pads.Top, pads.Left), dilation);
    }

    public static void ValidateDivisor(string op, int? divisorOverride)
    {
        if (divisorOverride is <= 0)
            throw new ArgumentOutOfRangeException(nameof(divisorOverride), $"{op}: divisorOverride must be positive, got {divisorOverride}.");
    }

    public static void ValidateOutputSize(string op, Size2 outputSize)
    {
        if (outputSize.Height < 1 || outputSize.Width < 1)
            throw new ArgumentOutOfRangeException(nameof(outputSize), $"{op}: outputSize must be positive, got {outputSize}.");
    }

    public static Pool2dGeometry AdaptiveGeometry(string op, int[] inputShape, Size2 outputSize)
    {
        ValidateOutputSize(op, outputSize);
        var (planes, height, width) = Planes(op, inputShape);
        return new Pool2dGeometry(planes, height, width, outputSize.Height, outputSize.Width, 1, 1, 0, 1);
    }

    /// <summary>The input's shape with its last two axes replaced by the output's.</summary>
    public static int[] OutputShape(int[] inputShape, Pool2dGeometry g) => [.. inputShape[..^2], g.OutputHeight, g.OutputWidth];

    /// <summary>
    /// ⌊(in + before + after − d(k−1) − 1)/s⌋ + 1, or rounded up in ceil mode, where a last window starting beyond the
    /// input and its leading padding is dropped (it would see only trailing padding).
    /// </summary>
    static int OutputSize(int input, int kernel, int stride, int before, int after, int dilation, bool ceilMode)
    {
        int span = input + before + after - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0);
        int output = (int)Math.Floor(span / (double)stride) + 1;
        if (ceilMode && (output - 1) * stride >= input + before) output--;
        return output;
    }

    static (int Planes, int Height, int Width) Planes(string op, int[] inputShape)
    {
        if (inputShape.Length is not (3 or 4) || inputShape[^1] == 0 || inputShape[^2] == 0 || inputShape[^3] == 0)
            throw new ArgumentException($"{op}: expected an input of shape (N, C, H, W) or (C, H, W) with non-zero C, H, W, got {Shapes.Format(inputShape)}.");
        int planes = inputShape[^3] * (inputShape.Length == 4 ? inputShape[0] : 1);
        return (planes, inputShape[^2], inputShape[^1]);
    }
}
