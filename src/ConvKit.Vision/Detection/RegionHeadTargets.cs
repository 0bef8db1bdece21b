namespace ConvKit.Vision.Detection;

/// <summary>
/// The regions a picture's head trains on, with their targets: the proposals plus the ground-truth boxes themselves
/// (as R-CNN and torchvision add them), labelled by <see cref="RegionMatcher"/> and drawn by <see cref="RegionSampler"/>.
/// </summary>
/// <param name="Regions">(K·4) xyxy pixels of the drawn regions</param>
/// <param name="Labels">(K) 0 for background, c + 1 for a region matched to an object of class c</param>
/// <param name="Deltas">(K·4) the <see cref="BoxCoder.RegionHead"/> deltas onto the matched box (zeros for background)</param>
public sealed record RegionHeadTargets(float[] Regions, int[] Labels, float[] Deltas)
{
    /// <summary>The paper's labelling: foreground at IoU ≥ 0.5, background in [0.1, 0.5), the rest ignored.</summary>
    public static RegionMatcher PaperMatcher { get; } = new(0.5f, 0.5f, 0.1f);

    /// <summary>Draws and labels one picture's training regions.</summary>
    /// <param name="proposals">(P·4) xyxy pixels</param>
    /// <param name="truths">(G·4) xyxy pixels</param>
    /// <param name="classes">(G) the truths' classes</param>
    public static RegionHeadTargets Sample(ReadOnlySpan<float> proposals, ReadOnlySpan<float> truths, ReadOnlySpan<int> classes,
        RegionMatcher matcher, RegionSampler sampler, Random random)
    {
        var candidates = new float[proposals.Length + truths.Length];
        proposals.CopyTo(candidates);
        truths.CopyTo(candidates.AsSpan(proposals.Length));
        var matches = matcher.Match(candidates, truths);
        var (foreground, background) = sampler.Sample(matches, random);
        int count = foreground.Length + background.Length;
        var regions = new float[4 * count];
        var labels = new int[count];
        var references = new float[4 * count];
        int k = 0;
        foreach (int i in foreground.Concat(background))
        {
            candidates.AsSpan(4 * i, 4).CopyTo(regions.AsSpan(4 * k));
            if (matches[i] >= 0)
            {
                labels[k] = classes[matches[i]] + 1;
                truths.Slice(4 * matches[i], 4).CopyTo(references.AsSpan(4 * k));
            }
            else candidates.AsSpan(4 * i, 4).CopyTo(references.AsSpan(4 * k));   // background: no box to reach
            k++;
        }
        var deltas = new float[4 * count];
        // Foreground regions overlap their box by IoU ≥ 0.5, so they have area; background rows are left zero.
        for (int j = 0; j < foreground.Length; j++)
            BoxCoder.RegionHead.Encode(references.AsSpan(4 * j, 4), regions.AsSpan(4 * j, 4), deltas.AsSpan(4 * j, 4));
        return new RegionHeadTargets(regions, labels, deltas);
    }
}
