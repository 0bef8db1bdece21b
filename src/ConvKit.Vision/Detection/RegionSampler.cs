namespace ConvKit.Vision.Detection;

/// <summary>
/// The minibatch of regions a picture trains on (torchvision's <c>BalancedPositiveNegativeSampler</c>): up to
/// ⌊<see cref="BatchSize"/>·<see cref="PositiveFraction"/>⌋ foreground regions drawn at random, then background ones
/// to fill the batch; ignored regions are never drawn. Without enough foreground the batch takes more background.
/// </summary>
/// <param name="BatchSize">regions per picture: 256 anchors for the RPN, 64–128 proposals for the head</param>
/// <param name="PositiveFraction">0.5 for the RPN, 0.25 for the head (the papers' values)</param>
public sealed record RegionSampler(int BatchSize, float PositiveFraction)
{
    /// <summary>The drawn regions' indices: foreground first (in draw order), then background.</summary>
    /// <param name="matches">each region's label from <see cref="RegionMatcher.Match"/></param>
    /// <param name="random">the draws' source (the trainer's generator, so that a resumed run draws the same)</param>
    public (int[] Foreground, int[] Background) Sample(ReadOnlySpan<int> matches, Random random)
    {
        if (BatchSize < 1 || !(PositiveFraction >= 0 && PositiveFraction <= 1))
            throw new ArgumentException($"RegionSampler: BatchSize must be at least 1 and PositiveFraction in [0, 1], got {BatchSize} and {PositiveFraction}.");
        var foreground = new List<int>();
        var background = new List<int>();
        for (int i = 0; i < matches.Length; i++)
            if (matches[i] >= 0) foreground.Add(i);
            else if (matches[i] == RegionMatcher.Background) background.Add(i);
        int positives = Math.Min((int)(BatchSize * PositiveFraction), foreground.Count);
        int negatives = Math.Min(BatchSize - positives, background.Count);
        return (Draw(foreground, positives, random), Draw(background, negatives, random));
    }

    /// <summary><paramref name="count"/> of <paramref name="pool"/> without replacement (a partial Fisher–Yates shuffle).</summary>
    static int[] Draw(List<int> pool, int count, Random random)
    {
        for (int i = 0; i < count; i++)
        {
            int j = random.Next(i, pool.Count);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        return pool.GetRange(0, count).ToArray();
    }
}
