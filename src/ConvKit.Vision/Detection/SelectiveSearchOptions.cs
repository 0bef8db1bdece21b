namespace ConvKit.Vision.Detection;

/// <summary>The colour space a selective-search strategy segments and describes regions in; every channel in [0, 1].</summary>
public enum ColourSpace
{
    /// <summary>The picture's own red, green, blue.</summary>
    Rgb,
    /// <summary>Hue, saturation, value (hue as a fraction of the turn).</summary>
    Hsv,
    /// <summary>CIE L*a*b* of sRGB under D65: L / 100, (a + 128) / 255, (b + 128) / 255.</summary>
    Lab,
    /// <summary>One channel, the mean of the picture's channels; the only space of a grey picture.</summary>
    Intensity,
}

/// <summary>The similarities a selective-search strategy adds up to choose which two neighbouring regions merge next.</summary>
[Flags]
public enum RegionSimilarity
{
    /// <summary>Histogram intersection of the regions' colour histograms (25 bins per channel, L1-normalised).</summary>
    Colour = 1,
    /// <summary>Histogram intersection of the regions' gradient-orientation histograms (8 directions × 10 bins per channel).</summary>
    Texture = 2,
    /// <summary>1 − (|a| + |b|) / |picture|: small regions merge first.</summary>
    Size = 4,
    /// <summary>1 − (|box(a ∪ b)| − |a| − |b|) / |picture|: regions that fill each other's gaps merge first.</summary>
    Fill = 8,
    /// <summary>All four.</summary>
    All = Colour | Texture | Size | Fill,
}

/// <summary>
/// The strategies <see cref="SelectiveSearch"/> runs, one per (colour space, scale, similarity) combination, and how
/// their proposals are ranked. The defaults are the paper's "fast" mode (HSV and Lab, k = 50 and 100, C+T+S+F and
/// T+S+F); a grey picture has a single colour space, so it runs the scales × similarities only.
/// </summary>
public sealed record SelectiveSearchOptions
{
    /// <summary>Colour spaces of colour pictures (a grey picture always uses <see cref="ColourSpace.Intensity"/>).</summary>
    public IReadOnlyList<ColourSpace> ColourSpaces { get; init; } = [ColourSpace.Hsv, ColourSpace.Lab];
    /// <summary>The graph segmentation's k values (<see cref="GraphSegmentation.Segment(Tensor, double, double, int)"/>'s scale), one initial segmentation each.</summary>
    public IReadOnlyList<double> Scales { get; init; } = [50, 100];
    /// <summary>The similarity combinations, one hierarchy each per initial segmentation.</summary>
    public IReadOnlyList<RegionSimilarity> Similarities { get; init; } = [RegionSimilarity.All, RegionSimilarity.Texture | RegionSimilarity.Size | RegionSimilarity.Fill];
    /// <summary>The Gaussian smoothing of the initial segmentation.</summary>
    public double Sigma { get; init; } = 0.8;
    /// <summary>The initial segmentation's minimum segment size in pixels; null takes each scale's k (as the paper's code).</summary>
    public int? MinSize { get; init; }
    /// <summary>
    /// Seed of the ranking's random factor: a region created at position p of its hierarchy (1 = the last merge, the
    /// whole picture) gets the value p·u, u uniform in [0, 1), and proposals are taken by increasing value.
    /// The same seed gives the same proposals.
    /// </summary>
    public int Seed { get; init; } = 2013;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        static void Check(bool ok, string message)
        {
            if (!ok) throw new ArgumentException($"SelectiveSearchOptions: {message}.");
        }
        Check(ColourSpaces is { Count: > 0 } && ColourSpaces.All(Enum.IsDefined), $"ColourSpaces must name at least one colour space, not [{string.Join(", ", ColourSpaces ?? [])}]");
        Check(Scales is { Count: > 0 } && Scales.All(k => k > 0 && double.IsFinite(k)), $"Scales must hold at least one positive k, not [{string.Join(", ", Scales ?? [])}]");
        Check(Similarities is { Count: > 0 } && Similarities.All(s => s != 0 && (s & ~RegionSimilarity.All) == 0),
            $"Similarities must hold at least one non-empty combination of Colour, Texture, Size, Fill, not [{string.Join(", ", Similarities ?? [])}]");
        Check(Sigma >= 0 && double.IsFinite(Sigma), $"Sigma must be non-negative, not {Sigma}");
        Check(MinSize is null or >= 0, $"MinSize must be non-negative, not {MinSize}");
    }
}
