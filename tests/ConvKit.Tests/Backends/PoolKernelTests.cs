using ConvKit.Backends;
using ConvKit.Backends.Cpu;
using ConvKit.Backends.Reference;
using ConvKit.Ops;

namespace ConvKit.Tests.Backends;

/// <summary>
/// Every fast backend's pooling (RoI pooling too), normalisation, up-sampling and activation kernels against <see cref="ReferenceBackend"/>,
/// through the ops (forward and backward): the CPU's 2×2 stride-2 and values-only max-pooling paths, small planes
/// channels-last (max and average pooling), and inputs above
/// the CPU kernels' parallel threshold (2¹⁵ values of work, see AxisBlocks), where several threads share one tensor.
/// </summary>
public class PoolKernelTests
{
    /// <summary>
    /// Runs <paramref name="op"/> on <paramref name="backend"/> and on the reference, from the same input values and
    /// upstream gradient, and returns (fast, reference) outputs and input gradients.
    /// </summary>
    static ((float[] Y, float[] Grad) Fast, (float[] Y, float[] Grad) Reference) Run(string backend, Func<Tensor, Tensor> op,
        float[] values, int[] shape, bool backward = true)
    {
        (float[], float[]) On(IBackend on)
        {
            using var _ = Backend.Use(on);
            var x = Tensor.FromArray(values, shape).RequireGrad();
            Tensor y;
            using (backward ? default : Tensor.NoGrad()) y = op(x);
            Assert.Equal(on.Name, y.Backend.Name);
            if (!backward) return (y.ToArray(), []);
            y.Backward(Tensor.Randn(y.Shape.ToArray(), seed: 12));
            return (y.ToArray(), x.Grad!.ToArray());
        }
        return (On(TestBackends.Named(backend)), On(ReferenceBackend.Instance));
    }

    static void AssertClose(float[] expected, float[] actual, double rtol, double atol, string what) =>
        Close.All(expected.Select(v => (double)v).ToArray(), actual, rtol, atol, what);

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

    public static IEnumerable<object[]> MaxPoolCases() => TestBackends.EachFast(MaxPoolConfigs());

    /// <summary>Values with a NaN (it wins its window, as in PyTorch) and ties (the first position wins).</summary>
    static float[] PoolInput(int planes, int height, int width)
    {
        var values = Tensor.Randn([planes, height, width], seed: planes + height).ToArray();
        values[5] = float.NaN;
        values[1] = values[0];
        values[^3] = values[^4];
        return values;
    }

    [Theory]
    [MemberData(nameof(MaxPoolCases))]
    public void MaxPoolMatchesReference(string backend, int planes, int height, int width, int kernel, int stride, int padding, bool ceil)
    {
        var (fast, reference) = Run(backend, x => F.MaxPool2d(x, kernel, stride, padding, ceilMode: ceil),
            PoolInput(planes, height, width), [planes, height, width]);
        // Selection and routing involve no arithmetic: the values and gradients must be identical.
        Assert.Equal(reference.Y, fast.Y);
        Assert.Equal(reference.Grad, fast.Grad);
    }

    public static IEnumerable<object[]> InferenceMaxPoolCases()
    {
        var data = new TheoryData<int, int, int, int, int, int, int, bool>();
        foreach (var c in MaxPoolConfigs()) data.Add((int)c[0], (int)c[1], (int)c[2], (int)c[3], (int)c[4], (int)c[5], 1, (bool)c[6]);
        data.Add(2, 9, 70, 3, 2, 1, 1, false); // rows of 70: stride 2 splits 64 values at a time with vector permutes
        data.Add(2, 9, 20, 3, 3, 1, 1, true);  // stride 3, ceil mode
        data.Add(2, 11, 23, 3, 2, 1, 2, false); // dilation 2
        data.Add(2, 6, 8, 2, 1, 0, 1, false);  // stride 1
        data.Add(40, 14, 14, 3, 1, 1, 1, true); // 3×3 stride 1 "same" (GoogLeNet's branch pools): 14-value rows, a vector and a tail
        data.Add(3, 7, 7, 3, 1, 1, 1, true);   // the same on 7-value rows, shorter than a vector
        // Small planes run channels-last in blocks of 16 planes (ChannelsLastPool): a partial block, ceil mode, dilation.
        data.Add(20, 15, 15, 3, 2, 0, 1, true); // 7 outputs a row at stride 2, windows past the input's edge
        data.Add(17, 9, 12, 3, 1, 1, 2, false); // dilation 2 at stride 1
        data.Add(832, 7, 7, 3, 1, 1, 1, true);  // GoogLeNet's 7×7 branch pools, 52 blocks on every thread
        return TestBackends.EachFast(data);
    }

    /// <summary>Without gradients max pooling takes the values-only kernel; it must give the definition's values.</summary>
    [Theory]
    [MemberData(nameof(InferenceMaxPoolCases))]
    public void InferenceMaxPoolMatchesReference(string backend, int planes, int height, int width, int kernel, int stride, int padding, int dilation, bool ceil)
    {
        var (fast, reference) = Run(backend, x => F.MaxPool2d(x, kernel, stride, padding, dilation, ceil),
            PoolInput(planes, height, width), [planes, height, width], backward: false);
        Assert.Equal(reference.Y, fast.Y);
    }

    /// <summary>
    /// The channels-last max (native max with the value first, NaN selected) keeps PyTorch's rule to the bit: of equal
    /// values the first stays (−0 before +0 gives −0, where an IEEE maximum gives +0), and each NaN replaces the maximum
    /// (the window's last NaN, payload and all).
    /// </summary>
    [Fact]
    public void ChannelsLastMaxPoolKeepsTheFirstOfTiesAndTheLastNaN()
    {
        var g = new Pool2dGeometry(17, 7, 7, 3, 3, new Size2(3, 3), new Size2(2, 2), new Size2(0, 0), new Size2(1, 1));
        Assert.True(ChannelsLastPool.Takes(g));
        var x = Enumerable.Repeat(-1f, g.Planes * g.InputPlaneSize).ToArray();
        (x[0], x[1], x[7]) = (-0f, 0f, -0f);                                 // plane 0, window (0, 0): −0, +0, −0
        (x[49], x[57]) = (BitConverter.Int32BitsToSingle(0x7FC00001), BitConverter.Int32BitsToSingle(0x7FC00002)); // plane 1: two NaNs
        (x[16 * 49 + 2], x[16 * 49 + 8]) = (0f, -0f);                        // plane 16 (the second block): +0, then −0
        var reference = ReferenceBackend.Instance;
        var y = reference.FromArray(new float[g.Planes * g.OutputPlaneSize]);
        reference.MaxPool2dValues(reference.FromArray(x), g, y);
        var expected = TestBackends.Read(y);
        var actual = new float[expected.Length];
        ChannelsLastPool.Max(x, actual, g);
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(int.MinValue, BitConverter.SingleToInt32Bits(actual[0]));
        Assert.Equal(0x7FC00002, BitConverter.SingleToInt32Bits(actual[g.OutputPlaneSize]));
    }

    /// <summary>
    /// The other window kernels, at (4, 16, 40, 37)-sized inputs that the CPU splits across threads, and at small odd
    /// shapes with edge windows; values in [−2, 2).
    /// </summary>
    static readonly Dictionary<string, (Func<Tensor, Tensor> Op, int[] Shape)> Ops = new()
    {
        ["max pool 3×3 stride 2, parallel"] = (x => F.MaxPool2d(x, 3, stride: 2, padding: 1), [4, 16, 40, 37]),
        ["avg pool 3×3 stride 2 excluding padding, parallel"] = (x => F.AvgPool2d(x, 3, stride: 2, padding: 1, countIncludePad: false), [4, 16, 40, 37]),
        ["avg pool 3×2 ceil mode counting padding"] = (x => F.AvgPool2d(x, (3, 2), stride: (2, 3), padding: 1, ceilMode: true), [2, 3, 9, 11]),
        ["avg pool with a divisor override"] = (x => F.AvgPool2d(x, 2, stride: 1, padding: 1, divisorOverride: 3), [1, 2, 5, 6]),
        ["avg pool 3×3 stride 1 counting padding, parallel"] = (x => F.AvgPool2d(x, 3, stride: 1, padding: 1, countIncludePad: true), [4, 16, 17, 17]),
        ["avg pool 3×3 stride 1 excluding padding, a partial block of planes"] = (x => F.AvgPool2d(x, 3, stride: 1, padding: 1, countIncludePad: false), [1, 21, 8, 7]),
        ["avg pool 2×2 stride 2 to 7×7 (a DenseNet transition)"] = (x => F.AvgPool2d(x, 2, stride: 2), [2, 40, 14, 14]),
        ["adaptive avg pool (5, 7), parallel"] = (x => F.AdaptiveAvgPool2d(x, (5, 7)), [4, 16, 40, 37]),
        ["adaptive avg pool, overlapping windows"] = (x => F.AdaptiveAvgPool2d(x, (4, 3)), [2, 3, 7, 5]),
        ["adaptive avg pool, larger output"] = (x => F.AdaptiveAvgPool2d(x, (5, 4)), [1, 2, 3, 3]),
        ["global avg pool (a squeeze-and-excitation block's)"] = (x => F.GlobalAvgPool2d(x), [1, 72, 7, 9]),
        ["global avg pool over a million values, parallel"] = (x => F.GlobalAvgPool2d(x), [2, 64, 96, 90]),
        ["local response norm size 5, parallel"] = (x => F.LocalResponseNorm(x, 5, 0.5f, 0.75f, 2f), [4, 16, 20, 19]),
        ["local response norm even size"] = (x => F.LocalResponseNorm(x, 4, 0.8f, 0.6f, 1f), [2, 7, 3, 4]),
        ["local response norm wider than the channels"] = (x => F.LocalResponseNorm(x, 9, 1e-2f, 0.75f, 1f), [2, 3, 2, 5]),
        ["upsample nearest ×2, parallel"] = (x => F.Upsample(x, scaleFactor: 2f), [4, 16, 20, 21]),
        ["upsample nearest ×1.5"] = (x => F.Upsample(x, scaleFactor: 1.5f), [2, 3, 5, 7]),
        ["upsample nearest to a smaller size"] = (x => F.Upsample(x, size: (3, 4)), [1, 2, 7, 9]),
        ["upsample bilinear to (15, 30), parallel"] = (x => F.Upsample(x, size: (15, 30), mode: UpsampleMode.Bilinear), [4, 16, 20, 21]),
        ["upsample bilinear ×2.5 aligned corners"] = (x => F.Upsample(x, scaleFactor: 2.5f, mode: UpsampleMode.Bilinear, alignCorners: true), [2, 3, 4, 5]),
        ["upsample bilinear to a smaller size"] = (x => F.Upsample(x, size: (4, 3), mode: UpsampleMode.Bilinear), [1, 2, 7, 8]),
        ["activations, parallel"] = (x => F.Sigmoid(F.LeakyRelu(x, 0.1f)) + F.Tanh(F.Relu6(x * 4f)) + F.HardSwish(x * 3f) + F.HardSigmoid(x * 3f), [4, 16, 20, 27]),
        ["RoIAlign 7×7, channels in parallel"] = (x => F.RoiAlign(x, Boxes(), (7, 7), spatialScale: 0.5f, aligned: true), [2, 64, 16, 16]),
        ["RoIAlign 2 samples per bin, unaligned"] = (x => F.RoiAlign(x, Boxes(), (3, 2), spatialScale: 0.5f, samplingRatio: 2), [2, 3, 16, 16]),
        ["RoI max pooling 3×3, channels in parallel"] = (x => F.RoiPool(x, Boxes(), (3, 3), spatialScale: 0.5f), [2, 128, 16, 16]),
        ["batch norm 2-D, channels in parallel"] = (x => BatchNorm(x), [4, 16, 24, 24]),
        ["batch norm (N, C): down the batch axis"] = (x => BatchNorm(x), [300, 7]),
        ["batch norm (N, C): channel blocks in parallel"] = (x => BatchNorm(x), [32, 1100]),
    };

    /// <summary>Boxes [batch, x1, y1, x2, y2] in pixels of a 32×32 picture (a 16×16 map at scale ½), some partly outside it.</summary>
    static Tensor Boxes() => Tensor.FromArray([
        0, 1.5f, 2.25f, 20.7f, 17.1f,
        1, -3.2f, -1.6f, 9.8f, 30.5f,
        0, 14f, 14f, 40f, 33f,
        1, 5.5f, 5.5f, 6.1f, 6.4f,
    ], 4, 5);

    /// <summary>Training-mode batch norm with an affine weight and bias made from the channel count.</summary>
    static Tensor BatchNorm(Tensor x)
    {
        int channels = x.Size(1);
        var weight = Tensor.Rand([channels], seed: 2) + 0.5f;
        var bias = Tensor.Randn([channels], seed: 3);
        return F.BatchNorm(x * 2f + 5f, null, null, weight, bias, training: true);
    }

    public static IEnumerable<object[]> OpCases() => TestBackends.EachFast(new TheoryData<string>(Ops.Keys));

    [Theory]
    [MemberData(nameof(OpCases))]
    public void OpMatchesReference(string backend, string name)
    {
        // Tests that change the thread count run alone (collection ProcessWideSettings), so the CPU runs its parallel paths here.
        Assert.Equal(Environment.ProcessorCount, ConvKit.Backends.Cpu.Threading.NumThreads);
        var (op, shape) = Ops[name];
        var values = (Tensor.Rand(shape, seed: 11) * 4f - 2f).ToArray();
        var (fast, reference) = Run(backend, op, values, shape);
        // Float32 sums over windows (and batch-norm's sums over a channel) against float64 ones.
        AssertClose(reference.Y, fast.Y, 1e-5, 1e-5, $"{backend} {name} output");
        AssertClose(reference.Grad, fast.Grad, 1e-4, 1e-5, $"{backend} {name} input gradient");
    }
}
