namespace ConvKit.Vision.Detection;

/// <summary>
/// Gaussian smoothing of one (H, W) float64 plane as scipy's <c>ndimage.gaussian_filter(plane, sigma, mode='reflect')</c>
/// (truncate 4): a kernel exp(−x²/2σ²) for |x| ≤ round(4σ), divided by its sum, run down the columns and then along
/// the rows, the border mirrored (d c b a | a b c d), the arithmetic in scipy's order (centre tap first, then pairs
/// from the outside in) so the values agree to the bit except where exp rounds differently.
/// </summary>
static class GaussianSmoothing
{
    /// <summary>Writes the smoothed <paramref name="plane"/> into <paramref name="result"/>; sigma 0 copies it.</summary>
    public static void Smooth(ReadOnlySpan<double> plane, int height, int width, double sigma, Span<double> result)
    {
        if (sigma <= 1e-15)
        {
            plane.CopyTo(result);
            return;
        }
        var kernel = Kernel(sigma);
        var columns = new double[plane.Length];
        var line = new double[Math.Max(height, width)];
        var output = new double[line.Length];
        for (int x = 0; x < width; x++)
        {
            for (int y = 0; y < height; y++) line[y] = plane[y * width + x];
            Correlate(line.AsSpan(0, height), kernel, output);
            for (int y = 0; y < height; y++) columns[y * width + x] = output[y];
        }
        for (int y = 0; y < height; y++)
            Correlate(columns.AsSpan(y * width, width), kernel, result.Slice(y * width, width));
    }

    /// <summary>scipy's <c>_gaussian_kernel1d(sigma, 0, radius)</c>, its sum taken as NumPy's pairwise sum.</summary>
    static double[] Kernel(double sigma)
    {
        int radius = (int)(4.0 * sigma + 0.5);
        var kernel = new double[2 * radius + 1];
        for (int i = 0; i < kernel.Length; i++)
        {
            double x = i - radius;
            kernel[i] = Math.Exp(-0.5 / (sigma * sigma) * (x * x));
        }
        double sum = PairwiseSum(kernel);
        for (int i = 0; i < kernel.Length; i++) kernel[i] /= sum;
        return kernel;
    }

    /// <summary>NumPy's pairwise summation (8 partial sums per block of up to 128), the order <c>ndarray.sum</c> adds in.</summary>
    static double PairwiseSum(ReadOnlySpan<double> values)
    {
        int n = values.Length;
        if (n < 8)
        {
            double sum = 0;
            foreach (double value in values) sum += value;
            return sum;
        }
        if (n <= 128)
        {
            Span<double> r = stackalloc double[8];
            values[..8].CopyTo(r);
            int i = 8;
            for (; i < n - n % 8; i += 8)
                for (int j = 0; j < 8; j++) r[j] += values[i + j];
            double sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for (; i < n; i++) sum += values[i];
            return sum;
        }
        int half = n / 2;
        half -= half % 8;
        return PairwiseSum(values[..half]) + PairwiseSum(values[half..]);
    }

    /// <summary>One line correlated with a symmetric kernel, mirrored at both ends, in scipy's order of operations.</summary>
    static void Correlate(ReadOnlySpan<double> line, double[] kernel, Span<double> output)
    {
        int n = line.Length, radius = kernel.Length / 2;
        for (int i = 0; i < n; i++)
        {
            double sum = line[i] * kernel[radius];
            for (int j = -radius; j < 0; j++)
                sum += (line[Mirror(i + j, n)] + line[Mirror(i - j, n)]) * kernel[radius + j];
            output[i] = sum;
        }
    }

    /// <summary>The index a position outside [0, n) reads under mode 'reflect' (period 2n).</summary>
    static int Mirror(int i, int n)
    {
        if ((uint)i < (uint)n) return i;
        int m = ((i % (2 * n)) + 2 * n) % (2 * n);
        return m < n ? m : 2 * n - 1 - m;
    }
}
