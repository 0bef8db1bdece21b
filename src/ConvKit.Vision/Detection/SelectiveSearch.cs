namespace ConvKit.Vision.Detection;

/// <summary>A region proposal: a box, xyxy in pixels with the ends exclusive (pixel edges: the region's pixels x, y have
/// X1 ≤ x &lt; X2, Y1 ≤ y &lt; Y2), as <see cref="ConvKit.Vision.Data.SceneItem.Box"/>.</summary>
public readonly record struct RegionProposal(float X1, float Y1, float X2, float Y2);

/// <summary>
/// Selective search (Uijlings, van de Sande, Gevers and Smeulders, IJCV 2013): class-agnostic object proposals from a
/// hierarchical grouping of an over-segmentation.
/// <list type="number">
/// <item>For each colour space and each scale k of <see cref="SelectiveSearchOptions"/>, the picture is converted and
/// segmented by <see cref="GraphSegmentation"/> (the initial regions).</item>
/// <item>Each region is described by its size, its box, a colour histogram (25 bins per channel over [0, 1]) and a
/// texture histogram, both L1-normalised. Texture here is a simpler variant of the paper's Gaussian derivatives: each
/// channel is smoothed (σ = 1), its gradient taken by central differences, and for 8 directions d (0°, 45°, … 315°)
/// the rectified directional derivative max(0, ∇·d) is binned into 10 bins over [0, 0.25] (larger values in the
/// last bin).</item>
/// <item>For each similarity combination, the two most similar neighbouring regions (4-connected pixels) are merged,
/// again and again until one region is left; a merged region's histograms are its parts' size-weighted means. Every
/// region of the hierarchy, initial and merged, proposes its box. Ties are broken by the smaller region numbers.</item>
/// <item>Ranking (the paper's): in each hierarchy the region created last has position 1, the one before 2, and so
/// on; a region's value is its position times a uniform random number (seeded by <see cref="SelectiveSearchOptions.Seed"/>);
/// all hierarchies' regions are sorted by increasing value and a box equal to an earlier one is dropped.</item>
/// </list>
/// </summary>
public static class SelectiveSearch
{
    const int ColourBins = 25, Directions = 8, TextureBins = 10;
    const double TextureRange = 0.25;

    /// <summary>
    /// Proposes boxes for the objects in a picture, best-ranked first, without duplicates.
    /// </summary>
    /// <param name="picture">(C, H, W), values in [0, 1]: grey (C = 1) or RGB (C = 3)</param>
    /// <param name="options">the strategies and ranking; null takes the defaults (the paper's fast mode)</param>
    public static IReadOnlyList<RegionProposal> Propose(Tensor picture, SelectiveSearchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(picture);
        options ??= new SelectiveSearchOptions();
        options.Validate();
        if (picture.Rank != 3 || picture.Size(0) is not (1 or 3) || picture.Size(1) < 1 || picture.Size(2) < 1)
            throw new ArgumentException($"SelectiveSearch.Propose: the picture must be (1, H, W) or (3, H, W), not ({string.Join(", ", picture.Shape)}).", nameof(picture));
        int channels = picture.Size(0), height = picture.Size(1), width = picture.Size(2);
        var values = picture.ToArray();

        var spaces = channels == 1 ? [ColourSpace.Intensity] : options.ColourSpaces.Distinct().ToArray();
        var ranked = new List<(double Value, int Order, RegionProposal Box)>();
        var random = new Random(options.Seed);
        foreach (var space in spaces)
        {
            var (planes, spaceChannels) = Convert(values, channels, height, width, space);
            var colourBins = ColourBinsOf(planes, spaceChannels, height, width);
            var textureBins = TextureBinsOf(planes, spaceChannels, height, width);
            foreach (double k in options.Scales.Distinct())
            {
                var labels = GraphSegmentation.Segment(planes, spaceChannels, height, width, k, options.Sigma, options.MinSize ?? (int)k);
                var initial = InitialRegions(labels, height, width, spaceChannels, colourBins, textureBins);
                foreach (var similarity in options.Similarities.Distinct())
                {
                    var boxes = Hierarchy(initial, similarity, height * width);
                    for (int i = 0; i < boxes.Count; i++)
                        ranked.Add(((boxes.Count - i) * random.NextDouble(), ranked.Count, boxes[i]));
                }
            }
        }
        ranked.Sort((a, b) => a.Value != b.Value ? a.Value.CompareTo(b.Value) : a.Order.CompareTo(b.Order));
        var seen = new HashSet<RegionProposal>();
        return ranked.Where(r => seen.Add(r.Box)).Select(r => r.Box).ToArray();
    }

    /// <summary>A region of a hierarchy: its size, box, normalised histograms and neighbours.</summary>
    sealed class Region
    {
        public int Size;
        public int X1, Y1, X2, Y2; // ends exclusive
        public required double[] Colour, Texture;
        public HashSet<int> Neighbours = [];
        public RegionProposal Box => new(X1, Y1, X2, Y2);
    }

    /// <summary>The segmentation's regions with their histograms (L1-normalised) and 4-connected neighbours.</summary>
    static Region[] InitialRegions(int[] labels, int height, int width, int channels, int[] colourBins, int[] textureBins)
    {
        int count = labels.Max() + 1, colourLength = channels * ColourBins, textureLength = channels * Directions * TextureBins;
        var regions = new Region[count];
        for (int r = 0; r < count; r++)
            regions[r] = new Region { X1 = width, Y1 = height, Colour = new double[colourLength], Texture = new double[textureLength] };
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int p = y * width + x;
                var region = regions[labels[p]];
                region.Size++;
                (region.X1, region.Y1, region.X2, region.Y2) = (Math.Min(region.X1, x), Math.Min(region.Y1, y), Math.Max(region.X2, x + 1), Math.Max(region.Y2, y + 1));
                for (int c = 0; c < channels; c++) region.Colour[colourBins[p * channels + c]]++;
                for (int t = 0; t < channels * Directions; t++) region.Texture[textureBins[p * channels * Directions + t]]++;
                if (x + 1 < width && labels[p + 1] != labels[p]) Link(regions, labels[p], labels[p + 1]);
                if (y + 1 < height && labels[p + width] != labels[p]) Link(regions, labels[p], labels[p + width]);
            }
        foreach (var region in regions)
        {
            Normalise(region.Colour);
            Normalise(region.Texture);
        }
        return regions;

        static void Link(Region[] regions, int a, int b)
        {
            regions[a].Neighbours.Add(b);
            regions[b].Neighbours.Add(a);
        }

        static void Normalise(double[] histogram)
        {
            double sum = histogram.Sum();
            for (int i = 0; i < histogram.Length; i++) histogram[i] /= sum;
        }
    }

    /// <summary>Greedy grouping of the initial regions by <paramref name="similarity"/>; the boxes of all regions made, in order.</summary>
    static List<RegionProposal> Hierarchy(Region[] initial, RegionSimilarity similarity, int pictureSize)
    {
        var regions = initial.Select(r => new Region
        {
            Size = r.Size, X1 = r.X1, Y1 = r.Y1, X2 = r.X2, Y2 = r.Y2, Colour = r.Colour, Texture = r.Texture, Neighbours = [.. r.Neighbours],
        }).ToList();
        var boxes = regions.Select(r => r.Box).ToList();
        var alive = Enumerable.Repeat(true, regions.Count).ToList();
        // Most similar first; ties by the smaller region numbers. Stale pairs (a region merged since) are skipped.
        var queue = new PriorityQueue<(int A, int B), (double NegativeSimilarity, int A, int B)>();
        void Push(int a, int b) => queue.Enqueue((a, b), (-Similarity(regions[a], regions[b], similarity, pictureSize), Math.Min(a, b), Math.Max(a, b)));
        for (int a = 0; a < regions.Count; a++)
            foreach (int b in regions[a].Neighbours)
                if (a < b) Push(a, b);

        while (queue.TryDequeue(out var pair, out _))
        {
            var (a, b) = pair;
            if (!alive[a] || !alive[b]) continue;
            var (ra, rb) = (regions[a], regions[b]);
            int size = ra.Size + rb.Size, merged = regions.Count;
            var region = new Region
            {
                Size = size,
                X1 = Math.Min(ra.X1, rb.X1), Y1 = Math.Min(ra.Y1, rb.Y1), X2 = Math.Max(ra.X2, rb.X2), Y2 = Math.Max(ra.Y2, rb.Y2),
                Colour = WeightedMean(ra.Colour, ra.Size, rb.Colour, rb.Size),
                Texture = WeightedMean(ra.Texture, ra.Size, rb.Texture, rb.Size),
            };
            region.Neighbours.UnionWith(ra.Neighbours);
            region.Neighbours.UnionWith(rb.Neighbours);
            region.Neighbours.Remove(a);
            region.Neighbours.Remove(b);
            (alive[a], alive[b]) = (false, false);
            regions.Add(region);
            alive.Add(true);
            boxes.Add(region.Box);
            foreach (int n in region.Neighbours)
            {
                regions[n].Neighbours.Remove(a);
                regions[n].Neighbours.Remove(b);
                regions[n].Neighbours.Add(merged);
                Push(n, merged);
            }
        }
        return boxes;

        static double[] WeightedMean(double[] a, int sizeA, double[] b, int sizeB)
        {
            var mean = new double[a.Length];
            for (int i = 0; i < a.Length; i++) mean[i] = (a[i] * sizeA + b[i] * sizeB) / (sizeA + sizeB);
            return mean;
        }
    }

    /// <summary>The sum of the chosen similarities of two regions, each in [0, 1].</summary>
    static double Similarity(Region a, Region b, RegionSimilarity which, int pictureSize)
    {
        double sum = 0;
        if (which.HasFlag(RegionSimilarity.Colour)) sum += Intersection(a.Colour, b.Colour);
        if (which.HasFlag(RegionSimilarity.Texture)) sum += Intersection(a.Texture, b.Texture);
        if (which.HasFlag(RegionSimilarity.Size)) sum += 1 - (double)(a.Size + b.Size) / pictureSize;
        if (which.HasFlag(RegionSimilarity.Fill))
        {
            double box = (double)(Math.Max(a.X2, b.X2) - Math.Min(a.X1, b.X1)) * (Math.Max(a.Y2, b.Y2) - Math.Min(a.Y1, b.Y1));
            sum += 1 - (box - a.Size - b.Size) / pictureSize;
        }
        return sum;

        static double Intersection(double[] p, double[] q)
        {
            double sum = 0;
            for (int i = 0; i < p.Length; i++) sum += Math.Min(p[i], q[i]);
            return sum;
        }
    }

    /// <summary>Each pixel's colour bin per channel (pixel-major: p·C + c), bins numbered across channels.</summary>
    static int[] ColourBinsOf(double[] planes, int channels, int height, int width)
    {
        int n = height * width;
        var bins = new int[n * channels];
        for (int p = 0; p < n; p++)
            for (int c = 0; c < channels; c++)
                bins[p * channels + c] = c * ColourBins + Math.Clamp((int)(planes[c * n + p] * ColourBins), 0, ColourBins - 1);
        return bins;
    }

    /// <summary>Each pixel's texture bin per channel and direction (pixel-major), bins numbered across channels and directions.</summary>
    static int[] TextureBinsOf(double[] planes, int channels, int height, int width)
    {
        int n = height * width;
        var bins = new int[n * channels * Directions];
        var smooth = new double[n];
        var (cosines, sines) = (new double[Directions], new double[Directions]);
        for (int d = 0; d < Directions; d++) (cosines[d], sines[d]) = (Math.Cos(d * Math.PI / 4), Math.Sin(d * Math.PI / 4));
        for (int c = 0; c < channels; c++)
        {
            GaussianSmoothing.Smooth(planes.AsSpan(c * n, n), height, width, 1.0, smooth);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    double gx = (smooth[y * width + Math.Min(x + 1, width - 1)] - smooth[y * width + Math.Max(x - 1, 0)]) / 2;
                    double gy = (smooth[Math.Min(y + 1, height - 1) * width + x] - smooth[Math.Max(y - 1, 0) * width + x]) / 2;
                    for (int d = 0; d < Directions; d++)
                    {
                        double response = Math.Max(0, gx * cosines[d] + gy * sines[d]);
                        int bin = Math.Min((int)(response / TextureRange * TextureBins), TextureBins - 1);
                        bins[(y * width + x) * channels * Directions + c * Directions + d] = (c * Directions + d) * TextureBins + bin;
                    }
                }
        }
        return bins;
    }

    /// <summary>The picture (C = 1 or 3, values in [0, 1]) in a colour space, as (C', H, W) float64 planes in [0, 1].</summary>
    internal static (double[] Planes, int Channels) Convert(float[] picture, int channels, int height, int width, ColourSpace space)
    {
        int n = height * width;
        if (channels == 1 || space == ColourSpace.Intensity)
        {
            var intensity = new double[n];
            for (int p = 0; p < n; p++)
            {
                double sum = 0;
                for (int c = 0; c < channels; c++) sum += picture[c * n + p];
                intensity[p] = sum / channels;
            }
            return (intensity, 1);
        }
        var planes = new double[3 * n];
        for (int p = 0; p < n; p++)
        {
            double r = picture[p], g = picture[n + p], b = picture[2 * n + p];
            var (u, v, w) = space switch
            {
                ColourSpace.Rgb => (r, g, b),
                ColourSpace.Hsv => Hsv(r, g, b),
                _ => Lab(r, g, b),
            };
            (planes[p], planes[n + p], planes[2 * n + p]) = (u, v, w);
        }
        return (planes, 3);
    }

    static (double H, double S, double V) Hsv(double r, double g, double b)
    {
        double max = Math.Max(r, Math.Max(g, b)), min = Math.Min(r, Math.Min(g, b)), range = max - min;
        double hue = range == 0 ? 0 : max == r ? (g - b) / range : max == g ? 2 + (b - r) / range : 4 + (r - g) / range;
        hue = (hue / 6 + 1) % 1;
        return (hue, max == 0 ? 0 : range / max, max);
    }

    static (double L, double A, double B) Lab(double r, double g, double b)
    {
        static double Linear(double c) => c <= 0.04045 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
        static double F(double t) => t > 216.0 / 24389 ? Math.Cbrt(t) : (24389.0 / 27 * t + 16) / 116;
        (r, g, b) = (Linear(r), Linear(g), Linear(b));
        double x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
        double y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
        double z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883;
        double l = 116 * F(y) - 16, a = 500 * (F(x) - F(y)), bb = 200 * (F(y) - F(z));
        return (Math.Clamp(l / 100, 0, 1), Math.Clamp((a + 128) / 255, 0, 1), Math.Clamp((bb + 128) / 255, 0, 1));
    }
}
