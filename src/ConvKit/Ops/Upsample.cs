using ConvKit.Autograd;
using ConvKit.Backends;

namespace ConvKit.Ops;

/// <summary>How <see cref="F.Upsample"/> fills new pixels.</summary>
public enum UpsampleMode
{
    /// <summary>Copy the nearest input pixel (torch's 'nearest').</summary>
    Nearest,
    /// <summary>Blend the four nearest input pixels (torch's 'bilinear').</summary>
    Bilinear,
}

// Resizing of (N, C, H, W) images, matching torch.nn.functional.interpolate for 'nearest' and 'bilinear'.
public static partial class F
{
    /// <summary>
    /// Resizes each (H, W) plane to <paramref name="size"/>, or by <paramref name="scaleFactor"/> (output
    /// ⌊H·scale⌋ × ⌊W·scale⌋, with the factor itself, not the rounded ratio, mapping coordinates, as in torch).
    /// Exactly one of the two must be given. <paramref name="alignCorners"/> (bilinear only) maps the corner
    /// pixels' centres onto each other instead of the corners' edges.
    /// </summary>
    /// <param name="input">(N, C, H, W)</param>
    /// <returns>(N, C, OH, OW)</returns>
    public static Tensor Upsample(Tensor input, Size2? size = null, float? scaleFactor = null,
        UpsampleMode mode = UpsampleMode.Nearest, bool alignCorners = false)
    {
        var g = UpsampleShapes.Geometry(input.Dims, size, scaleFactor, mode, alignCorners);
        var backend = input.Backend;
        var y = Tensor.Empty([input.Dims[0], input.Dims[1], g.OutputHeight, g.OutputWidth], backend);
        if (mode == UpsampleMode.Nearest) backend.UpsampleNearest(input.Storage, g, y.Storage);
        else backend.UpsampleBilinear(input.Storage, g, y.Storage);
        return Node.Record(y, "Upsample", input, grad =>
        {
            var gradInput = Tensor.Empty(input.Dims, backend);
            if (mode == UpsampleMode.Nearest) backend.UpsampleNearestBackward(grad.Storage, g, gradInput.Storage);
            else backend.UpsampleBilinearBackward(grad.Storage, g, gradInput.Storage);
            return gradInput;
        }, ("geometry", g), ("mode", mode));
    }
}

/// <summary>Argument checks and output sizes of up-sampling, shared by the op and the layer.</summary>
static class UpsampleShapes
{
    public static void ValidateConfiguration(string op, Size2? size, float? scaleFactor, UpsampleMode mode, bool alignCorners)
    {
        if ((size == null) == (scaleFactor == null))
            throw new ArgumentException($"{op}: give exactly one of size and scaleFactor.");
        if (size is { } s && (s.Height < 1 || s.Width < 1))
            throw new ArgumentOutOfRangeException(nameof(size), $"{op}: size must be positive, got {s}.");
        if (scaleFactor is { } f && !(f > 0 && float.IsFinite(f)))
            throw new ArgumentOutOfRangeException(nameof(scaleFactor), $"{op}: scaleFactor must be positive and finite, got {f}.");
        if (!Enum.IsDefined(mode))
            throw new ArgumentOutOfRangeException(nameof(mode), $"{op}: unknown mode {mode}.");
        if (alignCorners && mode == UpsampleMode.Nearest)
            throw new ArgumentException($"{op}: alignCorners applies only to the Bilinear mode.", nameof(alignCorners));
    }

    public static UpsampleGeometry Geometry(int[] inputShape, Size2? size, float? scaleFactor, UpsampleMode mode, bool alignCorners)
    {
        const string op = "Upsample";
        ValidateConfiguration(op, size, scaleFactor, mode, alignCorners);
        if (inputShape.Length != 4 || inputShape[2] == 0 || inputShape[3] == 0)
            throw new ArgumentException($"{op}: expected an input of shape (N, C, H, W) with non-zero H and W, got {Shapes.Format(inputShape)}.");
        int height = inputShape[2], width = inputShape[3];
        var output = size ?? new Size2((int)Math.Floor(height * (double)scaleFactor!.Value), (int)Math.Floor(width * (double)scaleFactor.Value));
        if (output.Height < 1 || output.Width < 1)
            throw new ArgumentException($"{op}: scaleFactor {scaleFactor} turns input of shape {Shapes.Format(inputShape)} into an empty {output.Height}×{output.Width} image.");
        return new UpsampleGeometry(inputShape[0] * inputShape[1], height, width, output.Height, output.Width,
            Scale(height, output.Height, scaleFactor, alignCorners), Scale(width, output.Width, scaleFactor, alignCorners), alignCorners);
    }

    public static int[] OutputShape(int[] inputShape, UpsampleGeometry g) => [inputShape[0], inputShape[1], g.OutputHeight, g.OutputWidth];

    /// <summary>Input pixels per output pixel, as torch's area_pixel_compute_scale.</summary>
    static float Scale(int input, int output, float? scaleFactor, bool alignCorners) =>
        alignCorners ? (output > 1 ? (input - 1) / (float)(output - 1) : 0f)
        : scaleFactor is { } f ? (float)(1.0 / f)
        : input / (float)output;
}
