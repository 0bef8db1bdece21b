namespace ConvKit.Data.Transforms;

/// <summary>
/// torchvision's RandomResizedCrop: cuts a random window whose area is a fraction in <see cref="Scale"/> of the
/// picture's and whose aspect ratio (width/height) is in <see cref="Ratio"/> (drawn log-uniformly), trying 10 times
/// before falling back to the largest centred window of an allowed ratio, then resizes it to <see cref="Height"/> ×
/// <see cref="Width"/> (bilinear image without antialiasing, nearest mask, as <see cref="Resize"/>). Boxes are clipped
/// to the window, those left outside it dropped, and scaled (their format kept).
/// </summary>
public sealed class RandomResizedCrop : ISampleTransform
{
    /// <param name="scale">(min, max) fraction of the picture's area; default (0.08, 1)</param>
    /// <param name="ratio">(min, max) width/height of the window; default (3/4, 4/3)</param>
    public RandomResizedCrop(int height, int width, (double Min, double Max)? scale = null, (double Min, double Max)? ratio = null)
    {
        if (height < 1 || width < 1)
            throw new ArgumentOutOfRangeException(nameof(height), $"RandomResizedCrop: the size must be positive, not {height}×{width}.");
        var (s, r) = (scale ?? (0.08, 1.0), ratio ?? (3.0 / 4.0, 4.0 / 3.0));
        if (!(s.Min > 0 && s.Min <= s.Max && double.IsFinite(s.Max)))
            throw new ArgumentOutOfRangeException(nameof(scale), $"RandomResizedCrop: scale must satisfy 0 < min ≤ max, not ({s.Min}, {s.Max}).");
        if (!(r.Min > 0 && r.Min <= r.Max && double.IsFinite(r.Max)))
            throw new ArgumentOutOfRangeException(nameof(ratio), $"RandomResizedCrop: ratio must satisfy 0 < min ≤ max, not ({r.Min}, {r.Max}).");
        (Height, Width, Scale, Ratio) = (height, width, s, r);
    }

    /// <summary>The output's height.</summary>
    public int Height { get; }
    /// <summary>The output's width.</summary>
    public int Width { get; }
    /// <summary>(min, max) fraction of the picture's area that the window covers.</summary>
    public (double Min, double Max) Scale { get; }
    /// <summary>(min, max) width/height of the window.</summary>
    public (double Min, double Max) Ratio { get; }

    /// <summary>
    /// The window (Top, Left, Height, Width) on a <paramref name="height"/> × <paramref name="width"/> picture, as
    /// torchvision's RandomResizedCrop.get_params (sizes rounded half to even, like Python's round).
    /// </summary>
    public (int Top, int Left, int Height, int Width) DrawWindow(int height, int width, Random random)
    {
        double area = (double)height * width;
        double logMin = Math.Log(Ratio.Min), logMax = Math.Log(Ratio.Max);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double targetArea = area * Uniform(random, Scale.Min, Scale.Max);
            double aspect = Math.Exp(Uniform(random, logMin, logMax));
            int w = (int)Math.Round(Math.Sqrt(targetArea * aspect));
            int h = (int)Math.Round(Math.Sqrt(targetArea / aspect));
            if (w > 0 && w <= width && h > 0 && h <= height)
            {
                int top = random.Next(height - h + 1), left = random.Next(width - w + 1);
                return (top, left, h, w);
            }
        }
        double pictureRatio = (double)width / height;
        var (fallbackHeight, fallbackWidth) =
            pictureRatio < Ratio.Min ? ((int)Math.Round(width / Ratio.Min), width)
            : pictureRatio > Ratio.Max ? (height, (int)Math.Round(height * Ratio.Max))
            : (height, width);
        return ((height - fallbackHeight) / 2, (width - fallbackWidth) / 2, fallbackHeight, fallbackWidth);
    }

    static double Uniform(Random random, double min, double max) => min + (max - min) * random.NextDouble();

    /// <summary>The cut and resized sample: image (C, Height, Width), mask (Height, Width).</summary>
    public Sample Apply(Sample sample, Random random)
    {
        sample.Validate(nameof(RandomResizedCrop));
        var (top, left, height, width) = DrawWindow(sample.Height, sample.Width, random);
        var window = SampleGeometry.Crop(sample, top, left, height, width, 0, Sample.IgnoreIndex);
        return SampleGeometry.Resize(window, Height, Width);
    }
}
