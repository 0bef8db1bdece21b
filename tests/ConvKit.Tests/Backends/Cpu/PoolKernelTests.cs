using ConvKit.Backends.Cpu;
using ConvKit.Ops;

namespace ConvKit.Tests.Backends.Cpu;

/// <summary>
/// The CPU kernels' fast paths against plain reference loops: the 2×2 stride-2 max-pooling path against a
/// direct window scan, the multi-threaded paths (inputs above the parallel threshold) against the same op
/// run one small slice at a time, and the fused batch-norm kernels against the op composed from primitives.
/// </summary>
public class PoolKernelTests
{
    /// <summary>Max pooling by the definition: pad with −∞, scan each window in row-major order, keep the first maximum (NaN wins).</summary>
    static (float[] Values, int[] Argmax, int[] Shape) ReferenceMaxPool(float[] x, int planes, int height, int width,
        Size2 k, Size2 s, Size2 p, Size2 d, int outH, int outW)
    {
        var values = new float[planes * outH * outW];
        var argmax = new int[values.Length];
        for (int plane = 0; plane < planes; plane++)
            for (int oh = 0; oh < outH; oh++)
                for (int ow = 0; ow < outW; ow++)
                {
                    float best = float.NegativeInfinity;
                    int bestAt = -1;
                    for (int i = 0; i < k.Height; i++)
                        for (int j = 0; j < k.Width; j++)
                        {
                            int h = oh * s.Height - p.Height + i * d.Height, w = ow * s.Width - p.Width + j * d.Width;
                            if (h < 0 || h >= height || w < 0 || w >= width) continue;
                            float v = x[plane * height * width + h * width + w];
                            if (bestAt < 0 || v > best || float.IsNaN(v)) { best = v; bestAt = h * width + w; }
                        }
                    values[(plane * outH + oh) * outW + ow] = best;
                    argmax[(plane * outH + oh) * outW + ow] = plane * height * width + bestAt;
                }
        return (values, argmax, [planes, outH, outW]);
    }

    public static TheoryData<int, int, int, int, int, int, bool> MaxPoolConfigs() => new()
    {
        // planes, height, width, kernel, stride, padding, ceil
        { 3, 8, 10, 2, 2, 0, false },  // 2×2 stride-2 path, one output at a time (fewer than 8 per row)
        { 3, 7, 9, 2, 2, 0, false },   // the same, odd sizes: the last row and column are not read
        { 3, 6, 37, 2, 2, 0, false },  // 8 outputs at a time, then two one by one
        { 64, 40, 40, 2, 2, 0, false }, // the same, multi-threaded
        { 2, 5, 5, 2, 2, 0, true },    // ceil mode: edge windows stick out, general path
        { 2, 7, 9, 3, 2, 1, true },
        { 64, 41, 39, 3, 2, 1, false }, // general path, multi-threaded
    };

    [Theory]
    [MemberData(nameof(MaxPoolConfigs))]
    public void MaxPoolMatchesReference(int planes, int height, int width, int kernel, int stride, int padding, bool ceil)
    {
        var x = Tensor.Randn([planes, height, width], seed: planes + height);
        var values = x.ToArray();
        values[5] = float.NaN; // NaN wins its window, as in PyTorch
        values[1] = values[0]; // a tie goes to the first position
        values[^3] = values[^4];
        x = Tensor.FromArray(values, planes, height, width).RequireGrad();

        var y = F.MaxPool2d(x, kernel, stride, padding, ceilMode: ceil);
        var (expected, argmax, shape) = ReferenceMaxPool(values, planes, height, width, kernel, stride, padding, 1, y.Size(1), y.Size(2));
        Assert.Equal(shape, y.Shape);
        Assert.Equal(expected, y.ToArray());

        var upstream = Tensor.Randn(shape, seed: 3);
        y.Backward(upstream);
        var expectedGrad = new float[values.Length];
        var g = upstream.ToArray();
        for (int i = 0; i < g.Length; i++) expectedGrad[argmax[i]] += g[i];
        Assert.Equal(expectedGrad, x.Grad!.ToArray());
    }

    public static TheoryData<int, int, int, int, int, int, int, bool> InferenceMaxPoolConfigs()
    {
        var data = new TheoryData<int, int, int, int, int, int, int, bool>();
        foreach (var c in MaxPoolConfigs()) data.Add((int)c[0], (int)c[1], (int)c[2], (int)c[3], (int)c[4], (int)c[5], 1, (bool)c[6]);
        data.Add(2, 9, 70, 3, 2, 1, 1, false); // rows of 70: stride 2 splits 64 values at a time with vector permutes
        data.Add(2, 9, 20, 3, 3, 1, 1, true);  // stride 3, ceil mode
        data.Add(2, 11, 23, 3, 2, 1, 2, false); // dilation 2
        data.Add(2, 6, 8, 2, 1, 0, 1, false);  // stride 1
        return data;
    }

    /// <summary>Without gradients max pooling takes the values-only kernel; it must give the definition's values.</summary>
    [Theory]
    [MemberData(nameof(InferenceMaxPoolConfigs))]
    public void InferenceMaxPoolMatchesReference(int planes, int height, int width, int kernel, int stride, int padding, int dilation, bool ceil)
    {
        var values = Tensor.Randn([planes, height, width], seed: planes + height).ToArray();
        values[5] = float.NaN;
        var y = F.MaxPool2d(Tensor.FromArray(values, planes, height, width), kernel, stride, padding, dilation, ceil);
        var (expected, _, shape) = ReferenceMaxPool(values, planes, height, width, kernel, stride, padding, dilation, y.Size(1), y.Size(2));
        Assert.Equal(shape, y.Shape);
        Assert.Equal(expected, y.ToArray());
    }

    /// <summary>
    /// Runs <paramref name="op"/> on the whole input and on one slice of axis 0 at a time; both must agree, gradients
    /// too. The shapes below put the whole input above the kernels' parallel threshold (2¹⁵ values of work, see AxisBlocks) and
    /// each slice below it.
    /// </summary>
    static void ParallelMatchesSlices(Func<Tensor, Tensor> op, params int[] shape)
    {
        // Tests that change the thread count run alone (collection ProcessWideSettings), so this one runs with the default.
        Assert.Equal(Environment.ProcessorCount, Threading.NumThreads);
        var x = (Tensor.Rand(shape, seed: 11) * 4f - 2f).RequireGrad();
        var y = op(x);
        var upstream = Tensor.Randn(y.Shape.ToArray(), seed: 12);
        y.Backward(upstream);
        for (int n = 0; n < shape[0]; n++)
        {
            var slice = x.Detach().Narrow(0, n, 1).Clone().RequireGrad();
            var part = op(slice);
            var expected = y.Detach().Narrow(0, n, 1);
            Close.All(expected.ToArray().Select(v => (double)v).ToArray(), part.ToArray(), 1e-6, 1e-7, $"slice {n} output");
            part.Backward(upstream.Narrow(0, n, 1));
            Close.All(x.Grad!.Narrow(0, n, 1).ToArray().Select(v => (double)v).ToArray(), slice.Grad!.ToArray(), 1e-6, 1e-7, $"slice {n} gradient");
        }
    }

    [Fact] public void MaxPoolParallel() => ParallelMatchesSlices(x => F.MaxPool2d(x, 3, stride: 2, padding: 1), 4, 16, 40, 37);
    [Fact] public void AvgPoolParallel() => ParallelMatchesSlices(x => F.AvgPool2d(x, 3, stride: 2, padding: 1, countIncludePad: false), 4, 16, 40, 37);
    [Fact] public void AdaptiveAvgPoolParallel() => ParallelMatchesSlices(x => F.AdaptiveAvgPool2d(x, (5, 7)), 4, 16, 40, 37);
    [Fact] public void LocalResponseNormParallel() => ParallelMatchesSlices(x => F.LocalResponseNorm(x, 5, 0.5f, 0.75f, 2f), 4, 16, 20, 19);
    [Fact] public void UpsampleNearestParallel() => ParallelMatchesSlices(x => F.Upsample(x, scaleFactor: 2f), 4, 16, 20, 21);
    [Fact] public void UpsampleBilinearParallel() => ParallelMatchesSlices(x => F.Upsample(x, size: (15, 30), mode: UpsampleMode.Bilinear), 4, 16, 20, 21);
    [Fact] public void ActivationsParallel() => ParallelMatchesSlices(x => F.Sigmoid(F.LeakyRelu(x, 0.1f)) + F.Tanh(F.Relu6(x * 4f)), 4, 16, 40, 40);

    /// <summary>Batch norm composed from mean, variance and broadcasting arithmetic, with their own gradients.</summary>
    static Tensor ComposedBatchNorm(Tensor x, Tensor weight, Tensor bias, float eps)
    {
        int[] axes = [0, .. Enumerable.Range(2, x.Rank - 2)];
        int[] perChannel = [1, x.Size(1), .. Enumerable.Repeat(1, x.Rank - 2)];
        var mean = x.Mean(axes, keepDim: true);
        var variance = x.Var(axes, correction: 0, keepDim: true);
        return (x - mean) / (variance + eps).Sqrt() * weight.Reshape(perChannel) + bias.Reshape(perChannel);
    }

    [Theory]
    [InlineData(8, 16, 24, 24)] // channels in parallel
    [InlineData(300, 7)]        // (N, C): down the batch axis, channels as vectors
    [InlineData(64, 1100)]      // the same, channel blocks in parallel
    public void FusedBatchNormMatchesComposition(params int[] shape)
    {
        int channels = shape[1];
        var x = (Tensor.Randn(shape, seed: 1) * 2f + 5f).RequireGrad();
        var weight = (Tensor.Rand([channels], seed: 2) + 0.5f).RequireGrad();
        var bias = Tensor.Randn([channels], seed: 3).RequireGrad();
        var upstream = Tensor.Randn(shape, seed: 4);

        var y = F.BatchNorm(x, null, null, weight, bias, training: true);
        y.Backward(upstream);
        var (gx, gw, gb) = (x.Grad!.ToArray(), weight.Grad!.ToArray(), bias.Grad!.ToArray());
        foreach (var t in new[] { x, weight, bias }) t.ZeroGrad();

        var expected = ComposedBatchNorm(x, weight, bias, 1e-5f);
        expected.Backward(upstream);
        Close.All(expected.ToArray().Select(v => (double)v).ToArray(), y.ToArray(), 1e-4, 1e-4, "output");
        Close.All(x.Grad!.ToArray().Select(v => (double)v).ToArray(), gx, 1e-3, 1e-4, "input gradient");
        Close.All(weight.Grad!.ToArray().Select(v => (double)v).ToArray(), gw, 1e-3, 1e-3, "weight gradient");
        Close.All(bias.Grad!.ToArray().Select(v => (double)v).ToArray(), gb, 1e-4, 1e-3, "bias gradient");
    }
}
