using ConvKit.Backends;
using ConvKit.Backends.Cpu;
using ConvKit.Backends.Reference;

namespace ConvKit.Tests.Backends;

/// <summary>
/// Every fast backend's convolution kernels against <see cref="ReferenceBackend"/>'s direct loops (float64 sums), on odd
/// shapes chosen to reach each CPU path (im2col + GEMM, several tiles per image whatever the thread count, the
/// lone-image split of the data gradient, pointwise 1×1 without im2col, direct depthwise loops at unit stride, on
/// stride-2 column phases and at other strides, in two- and four-row blocks and one vector at a time, the turned
/// product of a lone image with a small plane, the blocked direct convolution, every fused activation). Outputs start
/// as NaN, so an element a kernel forgets to write fails.
/// </summary>
public class ConvKernelTests
{
    static readonly ReferenceBackend Reference = ReferenceBackend.Instance;
    // Float32 sums of up to a few thousand products of values in [−1, 1], accumulated in blocks.
    const double Rtol = 1e-4, Atol = 1e-4;

    /// <summary>A geometry with the output size of the usual formula unless given.</summary>
    static ConvGeometry Geometry(int n, int cin, int h, int w, int cout, int kh, int kw, int stride = 1, int padTop = 0, int padLeft = 0,
        int padBottom = -1, int padRight = -1, int dilation = 1, int groups = 1, int strideW = -1, int dilationW = -1, int outHeight = -1, int outWidth = -1)
    {
        int sw = strideW < 0 ? stride : strideW, dw = dilationW < 0 ? dilation : dilationW;
        padBottom = padBottom < 0 ? padTop : padBottom;
        padRight = padRight < 0 ? padLeft : padRight;
        if (outHeight < 0) outHeight = (h + padTop + padBottom - dilation * (kh - 1) - 1) / stride + 1;
        if (outWidth < 0) outWidth = (w + padLeft + padRight - dw * (kw - 1) - 1) / sw + 1;
        return new ConvGeometry(n, cin, h, w, cout, outHeight, outWidth, kh, kw, stride, sw, padTop, padLeft, dilation, dw, groups);
    }

    public static TheoryData<string, ConvGeometry> Geometries() => new()
    {
        { "3x3 pad 1, batch 3", Geometry(3, 5, 13, 11, 7, 3, 3, padTop: 1, padLeft: 1) },
        { "3x3 lone image, two tiles", Geometry(1, 3, 103, 101, 4, 3, 3, padTop: 1, padLeft: 1) },
        { "3x3 batch 2, tiles split mid-row", Geometry(2, 8, 61, 67, 3, 3, 3, padTop: 1, padLeft: 1) },
        { "5x3 stride 2 dilation 2, asymmetric padding", Geometry(2, 3, 17, 14, 4, 5, 3, stride: 2, padTop: 2, padLeft: 0, padBottom: 3, padRight: 1, dilation: 2) },
        { "stride (3, 1), dilation (1, 3)", Geometry(2, 2, 11, 16, 3, 3, 2, stride: 3, strideW: 1, dilation: 1, dilationW: 3, padLeft: 2) },
        { "stride (1, 3), dilation (1, 2), uneven phases", Geometry(2, 2, 13, 17, 3, 3, 3, strideW: 3, dilationW: 2, padTop: 1, padLeft: 3, padRight: 1) },
        { "stride 2 lone image, tiles split mid-row", Geometry(1, 2, 260, 262, 3, 3, 3, stride: 2, padTop: 1, padLeft: 1) },
        { "groups 3", Geometry(2, 6, 9, 10, 9, 3, 3, padTop: 1, padLeft: 1, groups: 3) },
        { "1x1 strided", Geometry(2, 4, 9, 7, 3, 1, 1, stride: 2) },
        { "pointwise", Geometry(2, 6, 17, 19, 5, 1, 1) },
        { "pointwise groups 2, two tiles", Geometry(1, 4, 363, 363, 4, 1, 1, groups: 2) },
        { "depthwise 3x3", Geometry(2, 4, 37, 35, 4, 3, 3, padTop: 1, padLeft: 1, groups: 4) },
        { "depthwise narrow (< one vector)", Geometry(1, 3, 6, 5, 3, 3, 3, padTop: 1, padLeft: 1, groups: 3) },
        { "depthwise multiplier 2, dilation 2, asymmetric", Geometry(2, 3, 23, 41, 6, 3, 4, padTop: 2, padLeft: 3, padBottom: 2, padRight: 4, dilation: 2, groups: 3) },
        { "depthwise stride 2", Geometry(2, 5, 19, 18, 5, 3, 3, stride: 2, padTop: 1, padLeft: 1, groups: 5) },
        // Stride 2 on even/odd column phases, and the multi-row blocks of narrow planes (MobileNet/MnasNet/EfficientNet layers).
        { "depthwise 3x3 stride 2, 112x112 (two-row blocks on phases, threads)", Geometry(2, 16, 112, 112, 16, 3, 3, stride: 2, padTop: 1, padLeft: 1, groups: 16) },
        { "depthwise 5x5 stride 2 pad 2, 28x28, 17 channels", Geometry(1, 17, 28, 28, 17, 5, 5, stride: 2, padTop: 2, padLeft: 2, groups: 17) },
        { "depthwise 5x5 stride 2 pad 1, 15x15 (rows under a vector)", Geometry(2, 7, 15, 15, 7, 5, 5, stride: 2, padTop: 1, padLeft: 1, groups: 7) },
        { "depthwise 3x3 stride 2, 14x13, asymmetric padding, multiplier 2", Geometry(2, 2, 14, 13, 4, 3, 3, stride: 2, padTop: 2, padLeft: 1, padBottom: 0, padRight: 2, groups: 2) },
        { "depthwise 3x3 stride 2 dilation 2, odd sizes", Geometry(1, 3, 29, 31, 3, 3, 3, stride: 2, padTop: 2, padLeft: 2, dilation: 2, groups: 3) },
        { "depthwise 3x2 stride 2 dilation (1, 3)", Geometry(1, 3, 16, 27, 3, 3, 2, stride: 2, padTop: 1, padLeft: 3, dilation: 1, dilationW: 3, groups: 3) },
        // Small planes of whole vectors of channels run channels-last; a batch of two, stride 2, dilation and padding.
        { "depthwise 3x3 7x7, 24 channels (channels-last)", Geometry(2, 24, 7, 7, 24, 3, 3, padTop: 1, padLeft: 1, groups: 24) },
        { "depthwise 5x5 stride 2 14x14 to 7x7, 192 channels (channels-last, threads)", Geometry(1, 192, 14, 14, 192, 5, 5, stride: 2, padTop: 2, padLeft: 2, groups: 192) },
        { "depthwise 3x3 dilation 2, asymmetric padding, 16 channels (channels-last)", Geometry(1, 16, 9, 7, 16, 3, 3, padTop: 2, padLeft: 1, padBottom: 1, padRight: 3, dilation: 2, groups: 16) },
        // Channels-last in blocks of 16: a partial block, rows transposed in place (whole 8×8 blocks) or all at once.
        { "depthwise 3x3 stride 2, 28x28 to 14x14, 40 channels (channels-last, a partial block)", Geometry(1, 40, 28, 28, 40, 3, 3, stride: 2, padTop: 1, padLeft: 1, groups: 40) },
        { "depthwise 3x3 14x14, 20 channels, batch 2 (channels-last)", Geometry(2, 20, 14, 14, 20, 3, 3, padTop: 1, padLeft: 1, groups: 20) },
        { "depthwise 3x3 16x16 rows of two 8-blocks, 16 channels (channels-last)", Geometry(1, 16, 16, 16, 16, 3, 3, padTop: 1, padLeft: 1, groups: 16) },
        { "depthwise 5x5 stride 2, 56x56 to 28x28, 16 channels (channels-last, bands of rows on threads)", Geometry(1, 16, 56, 56, 16, 5, 5, stride: 2, padTop: 2, padLeft: 2, groups: 16) },
        { "depthwise 3x3 stride 2 dilation 2, 13x15, bottom padding beyond the input (channels-last)", Geometry(1, 8, 13, 15, 8, 3, 3, stride: 2, padTop: 1, padLeft: 2, padBottom: 4, padRight: 3, dilation: 2, groups: 8) },
        { "depthwise 3x3 stride (2, 1)", Geometry(1, 3, 20, 21, 3, 3, 3, stride: 2, strideW: 1, padTop: 1, padLeft: 1, groups: 3) },
        { "depthwise 3x3 stride (1, 2), wide rows, odd row count", Geometry(1, 2, 9, 90, 2, 3, 3, stride: 1, strideW: 2, padTop: 1, padLeft: 1, groups: 2) },
        { "depthwise 3x3 stride 2, rows of three vectors", Geometry(1, 2, 9, 48, 2, 3, 3, stride: 2, padTop: 1, padLeft: 1, groups: 2) },
        { "depthwise 5x5 stride 2 pad 2, 40 wide (even padding, vector interleave)", Geometry(1, 2, 11, 40, 2, 5, 5, stride: 2, padTop: 2, padLeft: 2, groups: 2) },
        { "depthwise 7x7 stride 2 pad 3, 7x7", Geometry(1, 5, 7, 7, 5, 7, 7, stride: 2, padTop: 3, padLeft: 3, groups: 5) },
        { "depthwise 5x5 14x14, 9 channels (four-row units, two vector columns)", Geometry(1, 9, 14, 14, 9, 5, 5, padTop: 2, padLeft: 2, groups: 9) },
        { "depthwise 7x7 7x7 (two four-row units)", Geometry(2, 5, 7, 7, 5, 7, 7, padTop: 3, padLeft: 3, groups: 5) },
        { "depthwise 3x3 28x28 (four-row units, four vector columns)", Geometry(1, 4, 28, 28, 4, 3, 3, padTop: 1, padLeft: 1, groups: 4) },
        { "depthwise 3x3 3 wide, 5 rows", Geometry(1, 3, 5, 3, 3, 3, 3, padTop: 1, padLeft: 1, groups: 3) },
        { "depthwise 3x3 4 rows x 20 (odd unit count)", Geometry(1, 2, 4, 20, 2, 3, 3, padTop: 1, padLeft: 1, groups: 2) },
        { "depthwise 3x3 3 rows (one vector at a time)", Geometry(1, 2, 3, 20, 2, 3, 3, padTop: 1, padLeft: 1, groups: 2) },
        { "depthwise stride 3 (scalar loop)", Geometry(1, 3, 17, 16, 3, 3, 3, stride: 3, padTop: 1, padLeft: 1, groups: 3) },
        { "single input channel", Geometry(3, 1, 20, 21, 6, 5, 5, padTop: 2, padLeft: 2) },
        // Input channels not in whole blocks of 8, so these run as matrix products on every machine (see BlockedConv).
        { "lone image, small plane, 64 filters", Geometry(1, 15, 9, 9, 64, 3, 3, padTop: 1, padLeft: 1) },
        // On two threads, 784 positions in tiles 16 columns apart rather than 64: 208 × 3 + 160 and 400 + 384.
        { "lone image, 28x28, tiles of whole 16-column vectors", Geometry(1, 31, 28, 28, 64, 3, 3, padTop: 1, padLeft: 1) },
        { "lone image, pointwise 28x28, tiles of whole 16-column vectors", Geometry(1, 128, 28, 28, 64, 1, 1) },
        { "turned product, stride 2, 70 filters", Geometry(1, 24, 13, 12, 70, 3, 3, stride: 2, padTop: 1, padLeft: 1) },
        { "turned product, pointwise", Geometry(1, 96, 7, 7, 64, 1, 1) },
        { "small plane, dilation 2, asymmetric padding", Geometry(2, 3, 10, 9, 4, 3, 2, padTop: 2, padLeft: 1, padBottom: 1, padRight: 3, dilation: 2) },
        // Whole blocks of 8 input and 16 output channels: the blocked direct convolution on AVX2 machines (BlockedConv).
        { "blocked: 3x3 pad 1, batch 2, 35 positions (a short last tile), 5 input blocks (two chunks)", Geometry(2, 40, 5, 7, 32, 3, 3, padTop: 1, padLeft: 1) },
        { "blocked: 3x3 stride 2, rows of 12 not a multiple of 8, the input's last row and column unread", Geometry(1, 16, 12, 12, 16, 3, 3, stride: 2) },
        { "blocked: 5x3 dilation 2, asymmetric padding, 3 output pairs", Geometry(2, 8, 17, 14, 48, 5, 3, padTop: 2, padLeft: 0, padBottom: 3, padRight: 1, dilation: 2) },
        { "blocked: 1x7, 28x28 on threads (several items a pair)", Geometry(1, 24, 28, 28, 16, 1, 7, padLeft: 3) },
        { "blocked: fewer outputs than the formula", Geometry(1, 8, 12, 11, 16, 3, 3, stride: 2, padTop: 1, padLeft: 1, padBottom: 2, padRight: 2, outHeight: 6, outWidth: 5) },
        { "blocked: 24 output channels (tiles of one block)", Geometry(2, 16, 9, 10, 24, 3, 3, padTop: 1, padLeft: 1) },
        { "blocked: groups of 8 channels (RegNet), stride 2, 5 groups", Geometry(2, 40, 14, 13, 40, 3, 3, stride: 2, padTop: 1, padLeft: 1, groups: 5) },
        { "blocked: 3 groups of 40 to 32 channels, two chunks a group", Geometry(1, 120, 11, 12, 96, 3, 3, padTop: 1, padLeft: 1, groups: 3) },
        { "small plane, fewer outputs than the formula", Geometry(1, 2, 8, 8, 3, 3, 3, padTop: 1, padLeft: 1, outHeight: 5, outWidth: 6) },
        { "transposed-style: fewer outputs than the formula", Geometry(2, 3, 12, 11, 4, 3, 3, stride: 2, padTop: 1, padLeft: 1, padBottom: 2, padRight: 2, outHeight: 6, outWidth: 5) },
    };

    public static IEnumerable<object[]> Cases() => TestBackends.EachFast(Geometries());

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardMatchesReference(string backend, string name, ConvGeometry g)
    {
        var fast = TestBackends.Named(backend);
        var (x, w, b, _) = Operands(g);
        // The activations alternate between with and without bias; LeakyRelu gets a slope of 0.1.
        var variants = new List<(float[]? Bias, ActivationOp? Activation, string What)> { (b, null, ""), (null, null, " without bias") };
        foreach (var op in Enum.GetValues<ActivationOp>())
            variants.Add(((int)op % 2 == 0 ? b : null, op, $" with {op}{((int)op % 2 == 0 ? "" : ", no bias")}"));
        foreach (var (bias, activation, what) in variants)
        {
            float[] Forward(IBackend on)
            {
                var y = on.FromArray(Garbage(g.Batch * g.OutChannels * g.OutPlane));
                on.ConvForward(on.FromArray(x), on.FromArray(w), bias == null ? null : on.FromArray(bias), y, g, activation, 0.1f);
                return TestBackends.Read(y);
            }
            AssertClose(Forward(Reference), Forward(fast), $"{backend} {name} forward{what}");
        }
    }

    /// <summary>
    /// ConvForwardAdd (a residual block's Conv, Add and activation as one op) gives, to the bit, the backend's own
    /// ConvForward, then Binary Add of the residual, then Activation: on every geometry (the CPU adds the residual in the
    /// GEMM's epilogue, runs the three ops for depthwise and turned convolutions), with and without bias, with the
    /// clamping activations the kernels apply in registers and one they apply as a pass; the residual holds a NaN and −0s.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardAddIsForwardThenAddThenActivationToTheBit(string backend, string name, ConvGeometry g)
    {
        var on = TestBackends.Named(backend);
        var (x, w, b, _) = Operands(g);
        int length = g.Batch * g.OutChannels * g.OutPlane;
        int[] shape = [g.Batch, g.OutChannels, g.OutHeight, g.OutWidth];
        var residual = Tensor.Randn([length], seed: 9).ToArray();
        residual[length / 2] = float.NaN;
        for (int i = 0; i < length; i += 5) residual[i] = -0f;
        foreach (var (bias, activation) in new (float[]?, ActivationOp?)[] { (b, null), (null, ActivationOp.Relu), (b, ActivationOp.Relu6), (b, ActivationOp.HardSwish) })
        {
            var expected = on.FromArray(Garbage(length));
            on.ConvForward(on.FromArray(x), on.FromArray(w), bias == null ? null : on.FromArray(bias), expected, g);
            on.Binary(BinaryOp.Add, expected, shape, on.FromArray(residual), shape, expected, shape);
            if (activation is { } op) on.Activation(op, 0f, expected, expected);
            var actual = on.FromArray(Garbage(length));
            on.ConvForwardAdd(on.FromArray(x), on.FromArray(w), bias == null ? null : on.FromArray(bias), on.FromArray(residual), actual, g, activation);
            Assert.True(TestBackends.Read(expected).Select(BitConverter.SingleToInt32Bits).SequenceEqual(TestBackends.Read(actual).Select(BitConverter.SingleToInt32Bits)),
                $"{backend} {name}: bias {bias != null}, {activation?.ToString() ?? "no activation"}");
        }
    }

    /// <summary>
    /// The geometries the channels-last depthwise path and the turned product are built for, run through those paths
    /// directly: which path the backend picks depends on the machine (AVX-512 or not), and each must be right on any.
    /// </summary>
    public static TheoryData<string, ConvGeometry> MachineDependentPaths() => new()
    {
        { "channels-last depthwise 3x3 14x14, 20 channels, batch 2", Geometry(2, 20, 14, 14, 20, 3, 3, padTop: 1, padLeft: 1, groups: 20) },
        { "channels-last depthwise 3x3 16x16 rows of two 8-blocks", Geometry(1, 16, 16, 16, 16, 3, 3, padTop: 1, padLeft: 1, groups: 16) },
        { "channels-last depthwise 5x5 stride 2, 28x28, 40 channels", Geometry(1, 40, 28, 28, 40, 5, 5, stride: 2, padTop: 2, padLeft: 2, groups: 40) },
        { "turned product, 3x3 stride 2, 70 filters", Geometry(1, 24, 13, 12, 70, 3, 3, stride: 2, padTop: 1, padLeft: 1) },
        { "turned product, pointwise 14x14", Geometry(1, 96, 14, 14, 64, 1, 1) },
        { "blocked 3x3 pad 1, batch 2, a short last tile, two chunks", Geometry(2, 40, 5, 7, 32, 3, 3, padTop: 1, padLeft: 1) },
        { "blocked 7x1 stride (2, 1), dilation (1, 2), padding beyond the input", Geometry(1, 16, 15, 9, 32, 7, 1, stride: 2, strideW: 1, dilationW: 2, padTop: 3, padBottom: 4) },
        { "blocked 3x3 7x7, 64 channels", Geometry(1, 64, 7, 7, 64, 3, 3, padTop: 1, padLeft: 1) },
        { "blocked 3x3 groups of 8 channels, 7x7", Geometry(1, 32, 7, 7, 32, 3, 3, padTop: 1, padLeft: 1, groups: 4) },
    };

    [Theory]
    [MemberData(nameof(MachineDependentPaths))]
    public void MachineDependentPathsMatchReference(string name, ConvGeometry g)
    {
        var (x, w, b, _) = Operands(g);
        // Wᵀ (ColumnRows × C_out), as TransposedWeights keeps it for the turned product.
        var wT = new float[w.Length];
        for (int o = 0; o < g.OutChannels; o++)
            for (int r = 0; r < g.ColumnRows; r++) wT[r * g.OutChannels + o] = w[o * g.ColumnRows + r];
        foreach (ActivationOp? activation in new ActivationOp?[] { null, ActivationOp.Relu6, ActivationOp.HardSwish, ActivationOp.Silu, ActivationOp.Gelu })
        {
            var expected = Reference.FromArray(Garbage(g.Batch * g.OutChannels * g.OutPlane));
            Reference.ConvForward(Reference.FromArray(x), Reference.FromArray(w), Reference.FromArray(b), expected, g, activation, 0.1f);
            var actual = Garbage(g.Batch * g.OutChannels * g.OutPlane);
            if (g.IsDepthwise) ChannelsLastDepthwise.Forward(x, ChannelsLastDepthwise.Taps(new CpuStorage(w), w, g), b, actual, g, activation, 0.1f);
            else if (name.StartsWith("blocked")) BlockedConv.Forward(x, Blocked(w, g), b, null, actual, g, activation, 0.1f);
            else CpuBackend.ConvForwardTurned(x, wT, b, actual, g, activation, 0.1f);
            AssertClose(TestBackends.Read(expected), actual, $"{name}, {activation?.ToString() ?? "no activation"}");
        }
    }

    /// <summary>The weights in <see cref="BlockedConv"/>'s order, as TransposedWeights keeps them.</summary>
    static float[] Blocked(float[] w, in ConvGeometry g)
    {
        var blocked = new float[w.Length];
        BlockedConv.LayWeights(w, g, blocked);
        return blocked;
    }

    /// <summary>
    /// The channels-last depthwise path clamps in registers with the native max, which returns its second operand when
    /// both are zeros: a −0 bias is counted as +0, so ReLU and ReLU6 of a zero sum give +0, as PyTorch and the pass do.
    /// </summary>
    [Fact]
    public void ChannelsLastDepthwiseReluOfNegativeZeroIsPositiveZero()
    {
        var g = Geometry(1, 24, 7, 7, 24, 3, 3, padTop: 1, padLeft: 1, groups: 24);
        var x = new float[g.InChannels * g.InPlane];
        var w = Enumerable.Repeat(-1f, g.InChannels * g.KernelArea).ToArray();
        var b = Enumerable.Repeat(-0f, g.OutChannels).ToArray();
        foreach (var activation in new[] { ActivationOp.Relu, ActivationOp.Relu6 })
        {
            var y = Garbage(g.OutChannels * g.OutPlane);
            ChannelsLastDepthwise.Forward(x, ChannelsLastDepthwise.Taps(new CpuStorage(w), w, g), b, y, g, activation, 0f);
            Assert.All(y, v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v)));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BackwardDataMatchesReference(string backend, string name, ConvGeometry g)
    {
        var fast = TestBackends.Named(backend);
        var (_, w, _, dy) = Operands(g);
        var b = Random(g.InChannels, 5);
        foreach (var (bias, what) in new[] { (null, ""), (b, " with bias") })
        {
            float[] BackwardData(IBackend on)
            {
                var dx = on.FromArray(Garbage(g.Batch * g.InChannels * g.InPlane));
                on.ConvBackwardData(on.FromArray(dy), on.FromArray(w), bias == null ? null : on.FromArray(bias), dx, g);
                return TestBackends.Read(dx);
            }
            AssertClose(BackwardData(Reference), BackwardData(fast), $"{backend} {name} data gradient{what}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BackwardWeightMatchesReference(string backend, string name, ConvGeometry g)
    {
        var fast = TestBackends.Named(backend);
        var (x, _, _, dy) = Operands(g);
        float[] BackwardWeight(IBackend on)
        {
            var dw = on.FromArray(Garbage(g.OutChannels * g.ColumnRows));
            on.ConvBackwardWeight(on.FromArray(x), on.FromArray(dy), dw, g);
            return TestBackends.Read(dw);
        }
        AssertClose(BackwardWeight(Reference), BackwardWeight(fast), $"{backend} {name} weight gradient");
    }

    static (float[] X, float[] W, float[] B, float[] Dy) Operands(ConvGeometry g) => (
        Random(g.Batch * g.InChannels * g.InPlane, 1),
        Random(g.OutChannels * g.ColumnRows, 2),
        Random(g.OutChannels, 3),
        Random(g.Batch * g.OutChannels * g.OutPlane, 4));

    /// <summary>Like Close.All, but builds a message only for the first bad element: these outputs are large.</summary>
    static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(actual[i] - expected[i]) <= Atol + Rtol * Math.Abs(expected[i])))
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]}");
    }

    /// <summary>Outputs start as NaN: the ops allocate them uninitialised, so every kernel must overwrite every element.</summary>
    static float[] Garbage(int length) => Enumerable.Repeat(float.NaN, length).ToArray();

    static float[] Random(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => random.NextSingle() * 2 - 1).ToArray();
    }
}
