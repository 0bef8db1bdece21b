using System.Globalization;

namespace ConvKit.Vision.Detection;

/// <summary>
/// Anchor sizes fitted to a data set's boxes, as YOLO v2 chose its priors: k-means on (width, height) with the
/// distance d = 1 − IoU of the two sizes centred on one point, so a large box is not pulled about more than a small one
/// (the Euclidean distance would). Feed the result to <see cref="IDetectionModel.SetAnchors"/>.
/// </summary>
public static class AnchorBoxes
{
    /// <summary>
    /// k cluster centres of <paramref name="sizes"/>, sorted by area (ascending). Initialised by k-means++ with the
    /// distance above (each next centre drawn with probability ∝ d² to the nearest chosen one, from
    /// <see cref="Generator"/>(<paramref name="seed"/>), so a seed always gives the same anchors); then each size joins
    /// its nearest centre (the first on ties), each centre moves to its members' mean width and height (a centre left
    /// without members stays), until no size changes cluster or after <paramref name="maxIterations"/> rounds.
    /// </summary>
    /// <param name="sizes">box widths and heights (pixels), all positive</param>
    /// <param name="k">the number of anchors, at least 1 and at most the number of distinct sizes</param>
    public static (float Width, float Height)[] KMeans(IReadOnlyList<(float Width, float Height)> sizes, int k, long seed = 0, int maxIterations = 300)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        CheckSizes("AnchorBoxes.KMeans", sizes);
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, $"AnchorBoxes.KMeans: k must be at least 1, got {k}.");
        int distinct = sizes.Distinct().Count();
        if (k > distinct)
            throw new ArgumentException($"AnchorBoxes.KMeans: k = {k} anchors from only {distinct} distinct box sizes; give more boxes or a smaller k.", nameof(k));
        if (maxIterations < 1)
            throw new ArgumentOutOfRangeException(nameof(maxIterations), maxIterations, $"AnchorBoxes.KMeans: maxIterations must be at least 1, got {maxIterations}.");

        var centres = PlusPlus(sizes, k, new Generator(seed));
        var assignment = new int[sizes.Count];
        Array.Fill(assignment, -1);
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            bool changed = false;
            for (int i = 0; i < sizes.Count; i++)
            {
                int nearest = Nearest(sizes[i], centres).Index;
                changed |= nearest != assignment[i];
                assignment[i] = nearest;
            }
            if (!changed) break;
            for (int c = 0; c < k; c++)
            {
                double width = 0, height = 0;
                int members = 0;
                for (int i = 0; i < sizes.Count; i++)
                    if (assignment[i] == c) (width, height, members) = (width + sizes[i].Width, height + sizes[i].Height, members + 1);
                if (members > 0) centres[c] = ((float)(width / members), (float)(height / members));
            }
        }
        return [.. centres.OrderBy(c => c.Width * c.Height)];
    }

    /// <summary>The mean over <paramref name="sizes"/> of the best IoU with an anchor (sizes centred on one point): how well the anchors fit.</summary>
    public static double MeanIou(IReadOnlyList<(float Width, float Height)> sizes, IReadOnlyList<(float Width, float Height)> anchors)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentNullException.ThrowIfNull(anchors);
        CheckSizes("AnchorBoxes.MeanIou", sizes);
        CheckSizes("AnchorBoxes.MeanIou", anchors);
        if (sizes.Count == 0 || anchors.Count == 0)
            throw new ArgumentException($"AnchorBoxes.MeanIou: {sizes.Count} sizes and {anchors.Count} anchors; both must be given.");
        return sizes.Average(size => 1.0 - Nearest(size, anchors).Distance);
    }

    // k-means++: the first centre uniformly, each next one with probability ∝ d² to its nearest chosen centre. Sizes
    // equal to a chosen centre have d = 0 and cannot be chosen again, so k ≤ distinct sizes always finds k centres.
    static (float Width, float Height)[] PlusPlus(IReadOnlyList<(float Width, float Height)> sizes, int k, Random random)
    {
        var centres = new List<(float Width, float Height)> { sizes[random.Next(sizes.Count)] };
        var weights = new double[sizes.Count];
        while (centres.Count < k)
        {
            double total = 0;
            for (int i = 0; i < sizes.Count; i++)
            {
                double d = Nearest(sizes[i], centres).Distance;
                total += weights[i] = d * d;
            }
            double draw = random.NextDouble() * total;
            int chosen = -1;   // the last positive weight when rounding runs past the end
            for (int i = 0; i < sizes.Count; i++)
            {
                if (weights[i] == 0) continue;
                chosen = i;
                if (draw < weights[i]) break;
                draw -= weights[i];
            }
            centres.Add(sizes[chosen]);
        }
        return [.. centres];
    }

    static (int Index, double Distance) Nearest((float Width, float Height) size, IReadOnlyList<(float Width, float Height)> centres)
    {
        var (index, distance) = (0, double.PositiveInfinity);
        for (int c = 0; c < centres.Count; c++)
        {
            double d = 1 - YoloTargets.ShapeIou(size.Width, size.Height, centres[c].Width, centres[c].Height);
            if (d < distance) (index, distance) = (c, d);
        }
        return (index, distance);
    }

    static void CheckSizes(string op, IReadOnlyList<(float Width, float Height)> sizes)
    {
        if (sizes.Count == 0) throw new ArgumentException($"{op}: no box sizes given.");
        for (int i = 0; i < sizes.Count; i++)
            if (!(sizes[i].Width > 0 && sizes[i].Height > 0 && float.IsFinite(sizes[i].Width) && float.IsFinite(sizes[i].Height)))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{op}: size {i} is {sizes[i].Width}×{sizes[i].Height}; widths and heights must be positive finite numbers."));
    }
}
