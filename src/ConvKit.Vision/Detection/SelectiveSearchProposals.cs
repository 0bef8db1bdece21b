using System.Collections.Concurrent;

namespace ConvKit.Vision.Detection;

/// <summary>
/// The selective-search proposals (<see cref="SelectiveSearch"/>) of R-CNN and Fast R-CNN, for normalised pictures:
/// each picture is mapped back to [0, 1] by its own minimum and maximum (normalisation is affine, so this restores a
/// picture that spanned [0, 1], and the segmentation's thresholds keep their meaning), searched, and its
/// <see cref="MaxProposals"/> best-ranked boxes kept. Searching costs tens of milliseconds a picture, far more than the
/// network, so results are remembered by the picture's contents (a 64-bit hash of its values; up to
/// <see cref="CacheCapacity"/> pictures): each training picture, and its mirror image, is searched once per run.
/// </summary>
public sealed class SelectiveSearchProposals
{
    readonly ConcurrentDictionary<ulong, float[]> cache = new();

    /// <summary>The search's settings (the paper's fast mode by default).</summary>
    public SelectiveSearchOptions Options { get; init; } = new();

    /// <summary>Proposals kept per picture, best-ranked first (the recall bench finds ~97 % of the scenes' objects within 300).</summary>
    public int MaxProposals { get; init; } = 300;

    /// <summary>Pictures remembered; beyond it the cache is emptied and starts again.</summary>
    public int CacheCapacity { get; init; } = 50_000;

    /// <summary>Each picture's proposals, (P·4) xyxy pixels, searched in parallel.</summary>
    /// <param name="images">(N, C, H, W) with C = 1 or 3, normalised or not</param>
    public float[][] Propose(Tensor images)
    {
        if (images.Rank != 4 || images.Shape[1] is not (1 or 3))
            throw new ArgumentException($"SelectiveSearchProposals: expected pictures (N, 1 or 3, H, W), got ({string.Join(", ", images.Shape)}).");
        int n = images.Shape[0], size = images.Shape[1] * images.Shape[2] * images.Shape[3];
        var values = images.ToArray();
        var result = new float[n][];
        Parallel.For(0, n, i =>
        {
            var picture = values.AsSpan(i * size, size);
            ulong key = Hash(picture);
            if (!cache.TryGetValue(key, out var boxes))
            {
                boxes = Search(picture.ToArray(), images.Shape[1], images.Shape[2], images.Shape[3]);
                if (cache.Count >= CacheCapacity) cache.Clear();
                cache[key] = boxes;
            }
            result[i] = boxes;
        });
        return result;
    }

    float[] Search(float[] picture, int channels, int height, int width)
    {
        float min = picture.Min(), max = picture.Max(), range = max > min ? max - min : 1;
        for (int i = 0; i < picture.Length; i++) picture[i] = (picture[i] - min) / range;
        var proposals = SelectiveSearch.Propose(Tensor.FromArray(picture, channels, height, width), Options);
        return proposals.Take(MaxProposals).SelectMany(p => new[] { p.X1, p.Y1, p.X2, p.Y2 }).ToArray();
    }

    /// <summary>FNV-1a over the values' bits (with the size), so equal pictures share their proposals.</summary>
    static ulong Hash(ReadOnlySpan<float> values)
    {
        ulong hash = 14695981039346656037UL ^ (ulong)values.Length;
        foreach (float v in values)
            hash = (hash ^ (uint)BitConverter.SingleToInt32Bits(v)) * 1099511628211UL;
        return hash;
    }
}
