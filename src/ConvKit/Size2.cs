namespace ConvKit;

/// <summary>
/// A (height, width) pair for kernel sizes, strides, padding and dilation. Converts from one int (both
/// sides) or a tuple, so <c>kernelSize: 3</c> and <c>stride: (2, 1)</c> both read naturally.
/// </summary>
public readonly record struct Size2(int Height, int Width)
{
    public static implicit operator Size2(int both) => new(both, both);
    public static implicit operator Size2((int Height, int Width) pair) => new(pair.Height, pair.Width);
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
    public PaddingMode Mode { get; }

    Padding(Size2 size, PaddingMode mode) { Size = size; Mode = mode; }

    public static Padding Valid { get; } = new(0, PaddingMode.Explicit);
    public static Padding Same { get; } = new(0, PaddingMode.Same);

    public static implicit operator Padding(int both) => new(both, PaddingMode.Explicit);
    public static implicit operator Padding((int Height, int Width) pair) => new(pair, PaddingMode.Explicit);
    public static implicit operator Padding(Size2 size) => new(size, PaddingMode.Explicit);
    public static implicit operator Padding(string mode) => mode.ToLowerInvariant() switch
    {
        "same" => Same,
        "valid" => Valid,
        _ => throw new ArgumentException($"Padding: unknown mode '{mode}'; use \"same\", \"valid\" or a number."),
    };

    public override string ToString() => Mode == PaddingMode.Same ? "same" : Size.ToString();
}

public enum PaddingMode { Explicit, Same }
