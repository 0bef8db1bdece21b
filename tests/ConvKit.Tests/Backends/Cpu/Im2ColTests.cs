using ConvKit.Backends;
using ConvKit.Backends.Cpu;

namespace ConvKit.Tests.Backends.Cpu;

/// <summary>
/// im2col and col2im on every split of the output positions into two tiles (a tile may start anywhere in a
/// row, next to padding on either side), against the definition: column (c, i, j) at position p holds the
/// input under tap (i, j) of channel c, or zero in the padding.
/// </summary>
public class Im2ColTests
{
    public static TheoryData<string, ConvGeometry> Geometries() => new()
    {
        // (N, C, H, W, C_out, H_out, W_out, kH, kW, sH, sW, pad top, pad left, dH, dW, groups)
        { "3x2 kernel, wide padding on both sides", new ConvGeometry(1, 2, 4, 5, 1, 4, 9, 3, 2, 1, 1, 1, 3, 1, 1, 1) },
        // Rows of 21 at unit stride: each tap's run is copied from the input row in vectors, the padding zeroed around it.
        { "3×3 kernel, dilation 2, rows of 21", new ConvGeometry(1, 2, 6, 21, 1, 6, 21, 3, 3, 1, 1, 2, 2, 2, 2, 1) },
        { "stride (2, 3), dilation 2", new ConvGeometry(1, 2, 7, 8, 1, 3, 4, 3, 3, 2, 3, 1, 2, 2, 2, 1) },
        { "stride 2, more outputs than the image covers", new ConvGeometry(1, 1, 5, 6, 1, 4, 5, 3, 3, 2, 2, 2, 2, 1, 1, 1) },
        // Rows of 75: stride 2 splits each row with vector permutes, the last block overlapping, and its last value alone.
        { "3×7 kernel, stride 2 over wide rows", new ConvGeometry(1, 2, 5, 75, 1, 3, 38, 3, 7, 2, 2, 1, 3, 1, 1, 1) },
    };

    /// <summary>
    /// Splitting a row into its stride phases writes each phase's values and nothing else, at every length from one
    /// value to past two 32-value blocks (vector blocks of 32 or 16, the last one overlapping, and a scalar end).
    /// </summary>
    [Fact]
    public void RowsSplitIntoTheirPhasesAtEveryLength()
    {
        for (int stride = 2; stride <= 3; stride++)
            for (int length = 1; length <= 70; length++)
            {
                var row = Enumerable.Range(1, length).Select(v => (float)v).ToArray();
                int phaseStride = (length + stride - 1) / stride + 5;
                var phases = Enumerable.Repeat(float.NaN, stride * phaseStride).ToArray();
                Im2Col.SplitPhases(row, stride, phaseStride, phases);
                for (int p = 0; p < stride; p++)
                    for (int k = 0; k < phaseStride; k++)
                    {
                        int w = k * stride + p;
                        float expected = w < length ? row[w] : float.NaN;
                        Assert.True(expected.Equals(phases[p * phaseStride + k]),
                            $"stride {stride}, length {length}: phase {p} index {k} is {phases[p * phaseStride + k]}, expected {expected}");
                    }
            }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void TilesGatherTheDefinedColumns(string name, ConvGeometry g)
    {
        var image = Enumerable.Range(1, g.InChannels * g.InPlane).Select(v => (float)v).ToArray();
        var expected = Columns(image, g);
        for (int split = 0; split <= g.OutPlane; split++)
            foreach (var (first, count) in new[] { (0, split), (split, g.OutPlane - split) })
            {
                var tile = Enumerable.Repeat(float.NaN, g.ColumnRows * count).ToArray();
                Im2Col.Gather(image, g, first, count, tile);
                for (int row = 0; row < g.ColumnRows; row++)
                    for (int q = 0; q < count; q++)
                        Assert.True(expected[row, first + q] == tile[row * count + q],
                            $"{name}: tile [{first}, {first + count}) row {row} position {first + q}: {tile[row * count + q]}, expected {expected[row, first + q]}");
            }
    }

    /// <summary>
    /// A whole small plane at stride 1 is copied by whole vectors that may run past a row. With rows of one or two
    /// positions they ran past the end of the columns too: into the rows another thread gathers at the same time in
    /// a forward pass (ResNet's last stage on 64×64 pictures, 2×2), which then held garbage when that thread had
    /// already written them. Gathered into the middle of a buffer, the columns must be exact and the rest untouched.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void SmallPlanesGatherNothingPastTheirColumns(int size)
    {
        var g = new ConvGeometry(1, 3, size, size, 1, size, size, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        var image = Enumerable.Range(1, g.InChannels * g.InPlane).Select(v => (float)v).ToArray();
        var expected = Columns(image, g);
        const int margin = 64;
        int length = g.ColumnRows * g.OutPlane;
        var buffer = Enumerable.Repeat(-1f, margin + length + margin).ToArray();
        Im2Col.Gather(image, g, 0, g.OutPlane, buffer.AsSpan(margin, length));
        for (int i = 0; i < buffer.Length; i++)
        {
            int k = i - margin;
            float want = k >= 0 && k < length ? expected[k / g.OutPlane, k % g.OutPlane] : -1f;
            Assert.True(want == buffer[i], $"{size}×{size}: element {k} of the columns ({length} long): {buffer[i]}, expected {want}");
        }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void TilesScatterIntoTheElementsTheyWereReadFrom(string name, ConvGeometry g)
    {
        // Column entry (row, p) = its own index + 1: the image then collects, per element, the sum of the entries read from it.
        var columns = new float[g.ColumnRows, g.OutPlane];
        for (int row = 0; row < g.ColumnRows; row++)
            for (int p = 0; p < g.OutPlane; p++) columns[row, p] = row * g.OutPlane + p + 1;
        var probe = Enumerable.Range(0, g.InChannels * g.InPlane).Select(v => (float)v).ToArray();
        var sources = Columns(probe, g, padding: -1);
        var expected = new double[probe.Length];
        for (int row = 0; row < g.ColumnRows; row++)
            for (int p = 0; p < g.OutPlane; p++)
                if (sources[row, p] >= 0) expected[(int)sources[row, p]] += columns[row, p];

        for (int split = 0; split <= g.OutPlane; split++)
        {
            var image = new float[probe.Length];
            foreach (var (first, count) in new[] { (0, split), (split, g.OutPlane - split) })
            {
                var tile = new float[g.ColumnRows * count];
                for (int row = 0; row < g.ColumnRows; row++)
                    for (int q = 0; q < count; q++) tile[row * count + q] = columns[row, first + q];
                Im2Col.ScatterAdd(tile, g, first, count, image);
            }
            Close.All(expected, image, 0, 0, $"{name}: split at {split}");
        }
    }

    /// <summary>The column matrix by its definition, with <paramref name="padding"/> where a tap falls outside the image.</summary>
    static float[,] Columns(float[] image, ConvGeometry g, float padding = 0)
    {
        var columns = new float[g.ColumnRows, g.OutPlane];
        for (int c = 0; c < g.InChannelsPerGroup; c++)
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < g.KernelWidth; j++)
                    for (int p = 0; p < g.OutPlane; p++)
                    {
                        int ih = p / g.OutWidth * g.StrideHeight - g.PadTop + i * g.DilationHeight;
                        int iw = p % g.OutWidth * g.StrideWidth - g.PadLeft + j * g.DilationWidth;
                        bool inside = ih >= 0 && ih < g.InHeight && iw >= 0 && iw < g.InWidth;
                        columns[(c * g.KernelHeight + i) * g.KernelWidth + j, p] = inside ? image[(c * g.InHeight + ih) * g.InWidth + iw] : padding;
                    }
        return columns;
    }
}
