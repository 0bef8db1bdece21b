namespace ConvKit.Data.Transforms;

/// <summary>
/// Mirrors the image left to right with probability <see cref="P"/>, as torchvision.transforms.RandomHorizontalFlip;
/// on a whole sample the mask and the boxes are mirrored with it, by the same single draw.
/// </summary>
public sealed class RandomHorizontalFlip : ITransform
{
    /// <summary>Flips with probability <paramref name="p"/>.</summary>
    public RandomHorizontalFlip(double p = 0.5)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, $"RandomHorizontalFlip: p must be in [0, 1], not {p}.");
        P = p;
    }

    /// <summary>Probability of flipping.</summary>
    public double P { get; }

    /// <summary>One draw decides; the image-only and the whole-sample paths make the same one.</summary>
    bool Flips(Random random) => random.NextDouble() < P;

    /// <inheritdoc/>
    public void Apply(Span<float> image, IReadOnlyList<int> shape, Random random)
    {
        if (Flips(random)) Mirror(image, shape[0] * shape[1], shape[2]);
    }

    /// <summary>The sample with its image, mask (H, W) and boxes mirrored, or unchanged; boxes keep their format.</summary>
    public Sample Apply(Sample sample, Random random)
    {
        sample.Validate(nameof(RandomHorizontalFlip));
        if (!Flips(random)) return sample;
        return sample with
        {
            Image = Mirrored(sample.Image),
            Mask = sample.Mask is { } mask ? Mirrored(mask) : null,
            Boxes = sample.Boxes?.FlipHorizontal().ConvertTo(sample.Boxes.Format, sample.Boxes.Relative),
        };
    }

    static Tensor Mirrored(Tensor planes)
    {
        var values = planes.ToArray();
        int width = planes.Shape[^1];
        Mirror(values, values.Length / width, width);
        return Tensor.FromArray(values, [.. planes.Shape]);
    }

    static void Mirror(Span<float> values, int rows, int width)
    {
        for (int r = 0; r < rows; r++) values.Slice(r * width, width).Reverse();
    }
}
