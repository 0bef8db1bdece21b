namespace ConvKit;

/// <summary>
/// A (height, width) pair for kernel sizes, strides, padding and dilation. Converts from one int (both
/// sides) or a tuple, so <c>kernelSize: 3</c> and <c>stride: (2, 1)</c> both read naturally.
/// </summary>
public readonly record struct Size2(int Height, int Width)
{
    /// <summary>The same size for height and width.</summary>
    public static implicit operator Size2(int both) => new(both, both);
    /// <summary>A (height, width) tuple.</summary>
    public static implicit operator Size2((int Height, int Width) pair) => new(pair.Height, pair.Width);
    /// <inheritdoc/>
    public override string ToString() => $"({Height}, {Width})";
}

/// <summary>
/// Padding of a convolution: explicit sizes per side, or <see cref="Same"/> (output size = ⌈input/stride⌉,
/// the extra row/column going to the bottom/right as in PyTorch and TensorFlow) or <see cref="Valid"/> (none).
/// Converts from an int, a (height, width) tuple, or the strings "same" and "valid".
/// </summary>
public readonly record struct Padding
{
    /// <summary>Explicit symmetric padding; ignored when <see cref="Mode"/> is Same.</summary>
    public Size2 Size { get; }
    /// <summary>Explicit sizes, or worked out per input as "same".</summary>
    public PaddingMode Mode { get; }

    Padding(Size2 size, PaddingMode mode) { Size = size; Mode = mode; }

    /// <summary>No padding ("valid"): the output shrinks by the kernel's extent.</summary>
    public static Padding Valid { get; } = new(0, PaddingMode.Explicit);
    /// <summary>"same" padding: output size ⌈input / stride⌉.</summary>
    public static Padding Same { get; } = new(0, PaddingMode.Same);

    /// <summary>The same explicit padding on every side.</summary>
    public static implicit operator Padding(int both) => new(both, PaddingMode.Explicit);
    /// <summary>Explicit padding: height on the top and bottom, width on the left and right.</summary>
    public static implicit operator Padding((int Height, int Width) pair) => new(pair, PaddingMode.Explicit);
    /// <summary>Explicit padding: height on the top and bottom, width on the left and right.</summary>
    public static implicit operator Padding(Size2 size) => new(size, PaddingMode.Explicit);
    /// <summary>"same" or "valid" (any case); another string throws.</summary>
    public static implicit operator Padding(string mode) => mode.ToLowerInvariant() switch
    {
        "same" => Same,
        "valid" => Valid,
        _ => throw new ArgumentException($"Padding: unknown mode '{mode}'; use \"same\", \"valid\" or a number."),
    };

    /// <inheritdoc/>
    public override string ToString() => Mode == PaddingMode.Same ? "same" : Size.ToString();
}

/// <summary>How a <see cref="Padding"/> gives its sizes.</summary>
public enum PaddingMode
{
    /// <summary>The sizes in <see cref="Padding.Size"/>.</summary>
    Explicit,
    /// <summary>Worked out per input so that the output size is ⌈input / stride⌉.</summary>
    Same,
}

/// <summary>
/// Padding of each side of a 2-D window, (top, left, bottom, right) as ONNX and TensorFlow write explicit pads, for
/// ops whose padding need not be symmetric. <see cref="Same"/> computes TensorFlow's "SAME" padding.
/// </summary>
public readonly record struct Pads2d(int Top, int Left, int Bottom, int Right)
{
    /// <summary>The same padding on both sides of each axis.</summary>
    public static Pads2d Symmetric(Size2 padding) => new(padding.Height, padding.Width, padding.Height, padding.Width);

    /// <summary>
    /// TensorFlow's "SAME" padding for an <paramref name="input"/> (height, width): output size ⌈input / stride⌉, total
    /// padding max((out − 1)·s + d(k − 1) + 1 − in, 0) per axis, of which the top/left side gets ⌊total/2⌋ and the
    /// bottom/right side the rest (the extra row or column goes to the bottom/right).
    /// </summary>
    public static Pads2d Same(Size2 input, Size2 kernelSize, Size2? stride = null, Size2? dilation = null)
    {
        Size2 s = stride ?? 1, d = dilation ?? 1;
        if (input.Height < 1 || input.Width < 1 || kernelSize.Height < 1 || kernelSize.Width < 1 || s.Height < 1 || s.Width < 1 || d.Height < 1 || d.Width < 1)
            throw new ArgumentOutOfRangeException(nameof(input),
                $"Pads2d.Same: input {input}, kernelSize {kernelSize}, stride {s} and dilation {d} must all be positive.");
        int Total(int size, int kernel, int step, int dilationStep) =>
            Math.Max(((size + step - 1) / step - 1) * step + dilationStep * (kernel - 1) + 1 - size, 0);
        int height = Total(input.Height, kernelSize.Height, s.Height, d.Height), width = Total(input.Width, kernelSize.Width, s.Width, d.Width);
        return new Pads2d(height / 2, width / 2, height - height / 2, width - width / 2);
    }

    /// <inheritdoc/>
    public override string ToString() => $"(top {Top}, left {Left}, bottom {Bottom}, right {Right})";
}
