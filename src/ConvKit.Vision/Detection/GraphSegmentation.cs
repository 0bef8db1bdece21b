namespace ConvKit.Vision.Detection;

/// <summary>
/// Efficient graph-based segmentation (Felzenszwalb and Huttenlocher, IJCV 2004) with the semantics of scikit-image's
/// <c>skimage.segmentation.felzenszwalb</c> (0.19), step for step:
/// <list type="number">
/// <item>Each channel is smoothed by a Gaussian of standard deviation sigma (scipy's <c>gaussian_filter</c>: radius
/// round(4·sigma), mode 'reflect', rows then columns, in float64).</item>
/// <item>Every pixel is joined to its 8 neighbours by an edge weighing the Euclidean distance of their smoothed
/// colours.</item>
/// <item>Edges are visited by increasing weight; an edge joins its two components C1, C2 when its weight is below
/// min(Int(C1) + τ(C1), Int(C2) + τ(C2)), with Int(C) the largest edge weight inside C (the last edge that joined it)
/// and τ(C) = (scale / 255) / |C|. scikit-image keeps the threshold in float32; so does this.</item>
/// <item>Post-processing: edges are visited again in the same order and join any two components of which one is
/// smaller than minSize pixels.</item>
/// </list>
/// Pictures are in [0, 1], so the paper's k for pictures in [0, 255] is <c>scale</c> here (hence the division by 255).
/// Edges of equal weight are visited in a stable order (right, down, down-right, up-right edges, each in raster
/// order); scikit-image's unstable argsort may break such ties otherwise, which changes the segments only where tied
/// edges decide a merge.
/// </summary>
public static class GraphSegmentation
{
    /// <summary>
    /// Segments a picture into regions.
    /// </summary>
    /// <param name="picture">(C, H, W), any number of channels, values in [0, 1] (grey pictures have C = 1)</param>
    /// <param name="scale">the paper's k: larger gives fewer, larger segments; positive</param>
    /// <param name="sigma">the standard deviation of the Gaussian smoothing, in pixels; 0 smooths nothing</param>
    /// <param name="minSize">segments smaller than this are merged into a neighbour afterwards; 0 or 1 merges nothing</param>
    /// <returns>labels (H·W, row-major), 0 .. n − 1 numbered by each segment's first pixel in raster order (as
    /// scikit-image numbers them)</returns>
    public static int[] Segment(Tensor picture, double scale, double sigma, int minSize)
    {
        ArgumentNullException.ThrowIfNull(picture);
        if (picture.Rank != 3 || picture.Size(0) < 1 || picture.Size(1) < 1 || picture.Size(2) < 1)
            throw new ArgumentException($"GraphSegmentation.Segment: the picture must be (C, H, W) with C, H, W ≥ 1, not ({string.Join(", ", picture.Shape)}).", nameof(picture));
        var values = picture.ToArray();
        var planes = new double[values.Length];
        for (int i = 0; i < values.Length; i++) planes[i] = values[i];
        return Segment(planes, picture.Size(0), picture.Size(1), picture.Size(2), scale, sigma, minSize);
    }

    /// <summary><see cref="Segment(Tensor, double, double, int)"/> on (C, H, W) float64 planes.</summary>
    internal static int[] Segment(double[] planes, int channels, int height, int width, double scale, double sigma, int minSize)
    {
        if (!(scale > 0) || !double.IsFinite(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, $"GraphSegmentation.Segment: scale must be positive and finite, not {scale}.");
        if (!(sigma >= 0) || !double.IsFinite(sigma))
            throw new ArgumentOutOfRangeException(nameof(sigma), sigma, $"GraphSegmentation.Segment: sigma must be non-negative and finite, not {sigma}.");
        ArgumentOutOfRangeException.ThrowIfNegative(minSize);
        int bad = Array.FindIndex(planes, v => !double.IsFinite(v));
        if (bad >= 0) throw new ArgumentException($"GraphSegmentation.Segment: the picture holds {planes[bad]} at index {bad}; values must be finite.", nameof(planes));

        var smooth = new double[planes.Length];
        for (int c = 0; c < channels; c++)
            GaussianSmoothing.Smooth(planes.AsSpan(c * height * width, height * width), height, width, sigma, smooth.AsSpan(c * height * width, height * width));

        var (edgeA, edgeB, weights) = Edges(smooth, channels, height, width);
        var order = StableOrder(weights);

        int n = height * width;
        var forest = new DisjointSets(n);
        var inner = new double[n]; // Int(C) at each root
        double tau = scale / 255.0;
        foreach (int e in order)
        {
            int a = forest.Find(edgeA[e]), b = forest.Find(edgeB[e]);
            if (a == b) continue;
            float thresholdA = (float)(inner[a] + tau / forest.Size(a)), thresholdB = (float)(inner[b] + tau / forest.Size(b));
            if (weights[e] < Math.Min(thresholdA, thresholdB)) inner[forest.Union(a, b)] = weights[e];
        }
        foreach (int e in order)
        {
            int a = forest.Find(edgeA[e]), b = forest.Find(edgeB[e]);
            if (a != b && (forest.Size(a) < minSize || forest.Size(b) < minSize)) forest.Union(a, b);
        }
        return forest.Labels();
    }

    /// <summary>The edges' indices by increasing weight, equal weights in index order.</summary>
    static int[] StableOrder(double[] weights)
    {
        var keys = (double[])weights.Clone();
        var order = new int[keys.Length];
        for (int e = 0; e < order.Length; e++) order[e] = e;
        Array.Sort(keys, order); // introsort is unstable: put each run of equal weights back in index order
        for (int start = 0, end; start < keys.Length; start = end)
        {
            for (end = start + 1; end < keys.Length && keys[end] == keys[start]; end++) { }
            if (end - start > 1) Array.Sort(order, start, end - start);
        }
        return order;
    }

    /// <summary>The 8-connected grid's edges (right, down, down-right, up-right, each in raster order) and their weights.</summary>
    static (int[] A, int[] B, double[] Weights) Edges(double[] smooth, int channels, int height, int width)
    {
        int count = height * (width - 1) + (height - 1) * width + 2 * (height - 1) * (width - 1);
        var (a, b, weights) = (new int[count], new int[count], new double[count]);
        int e = 0;
        void Add(int p, int q)
        {
            double sum = 0;
            for (int c = 0, plane = height * width; c < channels; c++)
            {
                double d = smooth[c * plane + p] - smooth[c * plane + q];
                sum += d * d;
            }
            (a[e], b[e], weights[e]) = (p, q, Math.Sqrt(sum));
            e++;
        }
        for (int y = 0; y < height; y++) for (int x = 0; x + 1 < width; x++) Add(y * width + x + 1, y * width + x);
        for (int y = 0; y + 1 < height; y++) for (int x = 0; x < width; x++) Add((y + 1) * width + x, y * width + x);
        for (int y = 0; y + 1 < height; y++) for (int x = 0; x + 1 < width; x++) Add((y + 1) * width + x + 1, y * width + x);
        for (int y = 0; y + 1 < height; y++) for (int x = 0; x + 1 < width; x++) Add(y * width + x + 1, (y + 1) * width + x);
        return (a, b, weights);
    }

    /// <summary>Union–find over pixels with path halving; the union's root is the smaller index (as scikit-image's).</summary>
    sealed class DisjointSets
    {
        readonly int[] parent, size;

        public DisjointSets(int n)
        {
            parent = new int[n];
            size = new int[n];
            for (int i = 0; i < n; i++) (parent[i], size[i]) = (i, 1);
        }

        public int Find(int i)
        {
            while (parent[i] != i) i = parent[i] = parent[parent[i]];
            return i;
        }

        /// <summary>The size of the component whose root is <paramref name="root"/>.</summary>
        public int Size(int root) => size[root];

        /// <summary>Joins two roots; returns the new root.</summary>
        public int Union(int a, int b)
        {
            var (root, child) = a < b ? (a, b) : (b, a);
            parent[child] = root;
            size[root] += size[child];
            return root;
        }

        /// <summary>0 .. n − 1 by first pixel in raster order.</summary>
        public int[] Labels()
        {
            var labels = new int[parent.Length];
            var byRoot = new int[parent.Length];
            Array.Fill(byRoot, -1);
            int next = 0;
            for (int i = 0; i < parent.Length; i++)
            {
                int root = Find(i);
                if (byRoot[root] < 0) byRoot[root] = next++;
                labels[i] = byRoot[root];
            }
            return labels;
        }
    }
}
