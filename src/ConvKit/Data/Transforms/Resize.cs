namespace ConvKit.Data.Transforms;

/// <summary>
/// Resizes a sample to <see cref="Height"/> × <see cref="Width"/>, as torchvision's Resize((h, w)) on tensors with
/// antialias=False: the image bilinearly (F.interpolate, align_corners=False), the mask by nearest neighbour (as
/// torchvision resizes masks, so class indices stay whole), the boxes scaled by the same factors (their format kept).
/// </summary>
public sealed class Resize : ISampleTransform
{
    /// <summary>Resizing to <paramref name="height"/> × <paramref name="width"/> pixels.</summary>
    public Resize(int height, int width)
    {
        if (height < 1 || width < 1)
            throw new ArgumentOutOfRangeException(nameof(height), $"Resize: the size must be positive, not {height}×{width}.");
        Height = height;
        Width = width;
    }

    /// <summary>The output's height.</summary>
    public int Height { get; }
    /// <summary>The output's width.</summary>
    public int Width { get; }

    /// <summary>The resized sample: image (C, Height, Width), mask (Height, Width).</summary>
    public Sample Apply(Sample sample, Random random) => SampleGeometry.Resize(sample.Validate(nameof(Resize)), Height, Width);
}
