using System.Globalization;
using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>
/// Resizes (N, C, H, W) images to a fixed size or by a scale factor, nearest or bilinear (see
/// <see cref="F.Upsample"/>): <c>new Upsample(scaleFactor: 2)</c>, as in a U-Net's expanding path. No parameters.
/// </summary>
public sealed class Upsample : Module
{
    /// <summary>The output's height and width, or null when <see cref="ScaleFactor"/> sets it.</summary>
    public Size2? Size { get; }
    /// <summary>Factor applied to the input's height and width, or null when <see cref="Size"/> sets the output.</summary>
    public float? ScaleFactor { get; }
    /// <summary>Nearest-neighbour or bilinear interpolation.</summary>
    public UpsampleMode Mode { get; }
    /// <summary>Bilinear only: whether the corner pixels of input and output are aligned (PyTorch's align_corners).</summary>
    public bool AlignCorners { get; }

    /// <summary>Resizing to <paramref name="size"/> or by <paramref name="scaleFactor"/> (exactly one of the two).</summary>
    public Upsample(Size2? size = null, float? scaleFactor = null, UpsampleMode mode = UpsampleMode.Nearest, bool alignCorners = false)
    {
        UpsampleShapes.ValidateConfiguration("Upsample", size, scaleFactor, mode, alignCorners);
        (Size, ScaleFactor, Mode, AlignCorners) = (size, scaleFactor, mode, alignCorners);
    }

    /// <summary>The output shape for <paramref name="inputShape"/>; throws, naming the shape, if it is not (N, C, H, W).</summary>
    protected override int[] OutputShapeCore(int[] inputShape) =>
        UpsampleShapes.OutputShape(inputShape, UpsampleShapes.Geometry(inputShape, Size, ScaleFactor, Mode, AlignCorners));

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => F.Upsample(input, Size, ScaleFactor, Mode, AlignCorners);

    /// <inheritdoc/>
    protected override string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"Upsample({(Size is { } s ? $"size={s}" : $"scaleFactor={ScaleFactor}")}, mode={Mode}{(AlignCorners ? ", alignCorners=true" : "")})");
}
