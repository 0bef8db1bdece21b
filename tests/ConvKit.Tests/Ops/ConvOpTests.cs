using ConvKit.Backends;
using ConvKit.Ops;
using ConvKit.Tests.Autograd;

namespace ConvKit.Tests.Ops;

/// <summary>Conv2d and ConvTranspose2d as ops: finite-difference gradients, the adjoint relation, shape errors.</summary>
public class ConvOpTests
{
    static Tensor Uniform(int seed, params int[] shape) => Tensor.Rand(shape, seed) * 2f - 1f;

    [Fact]
    public void Conv2dGradientsMatchFiniteDifferences()
    {
        GradCheck.Check(t => F.Conv2d(t[0], t[1], t[2], stride: (2, 1), padding: 1, dilation: (1, 2), groups: 2),
            Uniform(1, 2, 4, 5, 6), Uniform(2, 4, 2, 3, 2), Uniform(3, 4));
    }

    [Fact]
    public void DepthwiseSameConv2dGradientsMatchFiniteDifferences()
    {
        GradCheck.Check(t => F.Conv2d(t[0], t[1], null, padding: "same", groups: 3),
            Uniform(4, 1, 3, 5, 6), Uniform(5, 6, 1, 2, 3));
    }

    [Fact]
    public void DepthwiseStride2Conv2dGradientsMatchFiniteDifferences()
    {
        // Stride 2 on even/odd column phases and its direct weight gradient, with an odd width and a 5×5 kernel.
        GradCheck.Check(t => F.Conv2d(t[0], t[1], t[2], stride: 2, padding: 2, groups: 3),
            Uniform(6, 2, 3, 9, 11), Uniform(7, 3, 1, 5, 5), Uniform(8, 3));
    }

    // The fused op against the two ops it fuses, each checked against finite differences above and against PyTorch:
    // a finite-difference check of the fusion itself would straddle the ReLU's kink wherever a sum lands near zero.
    public static IEnumerable<object[]> FusedCases() => TestBackends.Each(new TheoryData<int, int, int, int>
    {
        { 1, 1, 1, 6 }, // one image split into tiles
        { 3, 2, 1, 6 }, // a batch, strided
        { 2, 1, 3, 6 }, // grouped
        { 2, 1, 6, 6 }, // depthwise (its own kernel, the activation applied plane by plane)
        { 1, 2, 6, 6 }, // depthwise, strided
        { 2, 3, 8, 8 }, // depthwise on a small plane (channels-last: 7 outputs a row)
    });

    [Theory]
    [MemberData(nameof(FusedCases))]
    public void FusedActivationIsTheActivationOfConv2d(string backend, int batch, int stride, int groups, int channels)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Uniform(12, batch, channels, 17, 19) * (groups == channels ? 6f : 2f); // a depthwise sum has only nine terms
        var w = Uniform(13, channels, channels / groups, 3, 3);
        var b = Uniform(14, channels);
        foreach (var activation in Enum.GetValues<ActivationOp>())
            foreach (var bias in new[] { b, null })
            {
                using var _ = Tensor.NoGrad();
                var conv = F.Conv2d(x, w, bias, stride: stride, padding: 1, groups: groups);
                var expected = Activate(conv, activation).ToArray();
                var actual = F.Conv2d(x, w, bias, activation, stride: stride, padding: 1, groups: groups, activationParameter: 0.1f).ToArray();
                Assert.Equal(expected.Length, actual.Length);
                for (int i = 0; i < expected.Length; i++)
                    if (!(Math.Abs(actual[i] - expected[i]) <= 1e-6 * Math.Max(1, Math.Abs(expected[i]))))
                        Assert.Fail($"{activation}{(bias == null ? " without bias" : "")}: element {i} is {actual[i]}, expected {expected[i]}");
                // The outputs reach every piece of each function: both signs, and for the hard ones beyond ±3.
                Assert.Contains(conv.ToArray(), v => v < -3);
                Assert.Contains(conv.ToArray(), v => v > 6);
            }
    }

    /// <summary>The activation as its own op, with LeakyRelu's slope 0.1 and SiLU as x·sigmoid(x).</summary>
    static Tensor Activate(Tensor x, ActivationOp activation) => activation switch
    {
        ActivationOp.Relu => F.Relu(x),
        ActivationOp.LeakyRelu => F.LeakyRelu(x, 0.1f),
        ActivationOp.Relu6 => F.Relu6(x),
        ActivationOp.Tanh => F.Tanh(x),
        ActivationOp.Sigmoid => F.Sigmoid(x),
        ActivationOp.HardSigmoid => F.HardSigmoid(x),
        ActivationOp.HardSwish => F.HardSwish(x),
        ActivationOp.Silu => x * F.Sigmoid(x),
        ActivationOp.Gelu => F.Gelu(x),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    // Relu, Relu6, Sigmoid and Tanh back-propagate through the fused output; the others run as the two ops when a
    // gradient is recorded. Either way the gradients are those of the two ops.
    [Theory]
    [MemberData(nameof(FusedCases))]
    public void FusedActivationGradientsAreThoseOfTheTwoOps(string backend, int batch, int stride, int groups, int channels)
    {
        using var backendScope = TestBackends.Use(backend);
        foreach (var activation in Enum.GetValues<ActivationOp>())
        {
            var gradients = new Tensor[2][];
            var outputs = new float[2][];
            for (int fused = 0; fused < 2; fused++)
            {
                var x = Uniform(12, batch, channels, 17, 19).RequireGrad();
                var w = Uniform(13, channels, channels / groups, 3, 3).RequireGrad();
                var b = Uniform(14, channels).RequireGrad();
                var y = fused == 1 ? F.Conv2d(x, w, b, activation, stride: stride, padding: 1, groups: groups, activationParameter: 0.1f)
                    : Activate(F.Conv2d(x, w, b, stride: stride, padding: 1, groups: groups), activation);
                (y * Uniform(15, y.Shape.ToArray())).Sum().Backward();
                outputs[fused] = y.ToArray();
                gradients[fused] = [x.Grad!, w.Grad!, b.Grad!];
            }
            Assert.Equal(outputs[0], outputs[1]);
            for (int i = 0; i < 3; i++) Assert.Equal(gradients[0][i].ToArray(), gradients[1][i].ToArray());
        }
    }

    [Theory]
    [InlineData(203)] // sixteen at a time, the last vector overlapping the one before it
    [InlineData(7)]   // under one vector
    public void FusedSiluIsXOverOnePlusExpOfMinusXEverywhere(int width)
    {
        // A 1×1 depthwise convolution with weight 1 passes x through, so the fused SiLU sees every value here: both
        // tails, where e^−x under- and overflows, ±∞ (−∞·σ(−∞) is NaN, as in PyTorch) and NaN.
        float[] special = [float.PositiveInfinity, float.NegativeInfinity, float.NaN, 0f, 88.5f, -88.5f, 100f, -100f, 1e-30f, -1e-30f];
        var values = Enumerable.Range(0, width).Select(i => i < special.Length && width > special.Length ? special[i] : -30f + 60f * i / width).ToArray();
        using var _ = Tensor.NoGrad();
        var y = F.Conv2d(Tensor.FromArray(values, 1, 1, 1, width), Tensor.Ones([1, 1, 1, 1]), null, ActivationOp.Silu).ToArray();
        for (int i = 0; i < width; i++)
        {
            double x = values[i], expected = x / (1 + Math.Exp(-x));
            if (double.IsNaN(expected)) Assert.True(float.IsNaN(y[i]), $"SiLU({x}) is {y[i]}, expected NaN");
            else if (y[i] != expected && !(Math.Abs(y[i] - expected) <= 1e-6 * Math.Abs(expected) + 1e-30))
                Assert.Fail($"SiLU({x}) is {y[i]}, expected {expected}");
        }
    }

    [Fact]
    public void FusedSiluGradientsMatchFiniteDifferences()
    {
        // SiLU has no kink, so the fused op itself can be checked against finite differences.
        GradCheck.Check(t => F.Conv2d(t[0], t[1], t[2], ActivationOp.Silu, padding: 1, groups: 2),
            Uniform(16, 2, 4, 5, 6), Uniform(17, 4, 2, 3, 3), Uniform(18, 4));
    }

    [Fact]
    public void ConvTranspose2dGradientsMatchFiniteDifferences()
    {
        GradCheck.Check(t => F.ConvTranspose2d(t[0], t[1], t[2], stride: 2, padding: 1, outputPadding: 1, groups: 2),
            Uniform(6, 2, 4, 3, 3), Uniform(7, 4, 1, 3, 3), Uniform(8, 2));
    }

    [Theory]
    [InlineData(1, 0, 0, 1, 1)]
    [InlineData(2, 1, 1, 1, 2)]
    [InlineData(3, 2, 2, 2, 1)]
    [InlineData(2, 0, 1, 2, 3)]
    public void ConvTransposeIsTheAdjointOfConv(int stride, int padding, int outputPadding, int dilation, int groups)
    {
        // ⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩ for every x and y: the transposed convolution is the convolution's adjoint.
        var weight = Uniform(1, 3 * groups, 2, 3, 2);
        var y = Uniform(2, 2, 3 * groups, 4, 5);
        var transposed = F.ConvTranspose2d(y, weight, stride: stride, padding: padding, outputPadding: outputPadding, groups: groups, dilation: dilation);
        var x = Uniform(3, transposed.Shape.ToArray());
        var conv = F.Conv2d(x, weight, stride: stride, padding: padding, dilation: dilation, groups: groups);
        Assert.Equal(y.Shape, conv.Shape);
        double left = Dot(conv, y), right = Dot(x, transposed);
        Assert.True(Math.Abs(left - right) <= 1e-4 * Math.Abs(left) + 1e-3, $"⟨conv(x), y⟩ = {left}, ⟨x, convᵀ(y)⟩ = {right}");
    }

    static double Dot(Tensor a, Tensor b) => a.ToArray().Zip(b.ToArray(), (p, q) => (double)p * q).Sum();

    [Theory]
    [InlineData(6, 3, 0, 1, 4)]  // valid: ⌊(6 − 3)/1⌋ + 1
    [InlineData(6, 3, 1, 1, 6)]  // same: p = (f − 1)/2
    [InlineData(7, 3, 0, 2, 3)]  // strided: ⌊(7 − 3)/2⌋ + 1
    [InlineData(7, 3, 1, 2, 4)]
    [InlineData(8, 5, 2, 3, 3)]
    public void OutputSizeIsFloorOfPaddedInputLessKernelOverStridePlusOne(int n, int f, int p, int s, int expected)
    {
        Assert.Equal(expected, (n + 2 * p - f) / s + 1);
        var output = F.Conv2d(Tensor.Zeros(1, 1, n, n), Tensor.Zeros(1, 1, f, f), stride: s, padding: p);
        Assert.Equal([1, 1, expected, expected], output.Shape);
    }

    [Theory]
    [InlineData(6, 3, 1, 6)]
    [InlineData(6, 4, 1, 6)]
    [InlineData(7, 3, 2, 4)]  // ⌈7/2⌉
    [InlineData(8, 3, 3, 3)]  // ⌈8/3⌉
    public void SamePaddingKeepsTheSizeOverTheStride(int n, int f, int s, int expected)
    {
        Assert.Equal([1, 1, expected, expected], F.Conv2d(Tensor.Zeros(1, 1, n, n), Tensor.Zeros(1, 1, f, f), stride: s, padding: "same").Shape);
        Assert.Equal([1, 1, n - f + 1, n - f + 1], F.Conv2d(Tensor.Zeros(1, 1, n, n), Tensor.Zeros(1, 1, f, f), padding: "valid").Shape);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void WrongChannelCountNamesBothShapes(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var error = Assert.Throws<ArgumentException>(() => F.Conv2d(Tensor.Zeros(1, 4, 8, 8), Tensor.Zeros(6, 3, 3, 3)));
        Assert.Contains("Conv2d", error.Message);
        Assert.Contains("[1, 4, 8, 8]", error.Message);
        Assert.Contains("[6, 3, 3, 3]", error.Message);
        error = Assert.Throws<ArgumentException>(() => F.ConvTranspose2d(Tensor.Zeros(1, 4, 8, 8), Tensor.Zeros(3, 2, 3, 3)));
        Assert.Contains("ConvTranspose2d", error.Message);
        Assert.Contains("[3, 2, 3, 3]", error.Message);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void KernelLargerThanPaddedInputIsRejected(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var error = Assert.Throws<ArgumentException>(() => F.Conv2d(Tensor.Zeros(1, 1, 4, 6), Tensor.Zeros(1, 1, 3, 3), padding: 0, dilation: 2));
        Assert.Contains("larger than the padded input", error.Message);
        Assert.Contains("[1, 1, 4, 6]", error.Message);
        F.Conv2d(Tensor.Zeros(1, 1, 4, 6), Tensor.Zeros(1, 1, 3, 3), padding: 1, dilation: 2);  // 4 + 2 ≥ 5 fits
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void NegativeAndZeroSizesAreRejected(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Tensor.Zeros(1, 2, 5, 5);
        var w = Tensor.Zeros(2, 2, 3, 3);
        Assert.Contains("padding", Assert.Throws<ArgumentException>(() => F.Conv2d(x, w, padding: -1)).Message);
        Assert.Contains("stride", Assert.Throws<ArgumentException>(() => F.Conv2d(x, w, stride: 0)).Message);
        Assert.Contains("dilation", Assert.Throws<ArgumentException>(() => F.Conv2d(x, w, dilation: (1, -2))).Message);
        Assert.Contains("groups", Assert.Throws<ArgumentException>(() => F.Conv2d(x, w, groups: 0)).Message);
        Assert.Contains("4-D", Assert.Throws<ArgumentException>(() => F.Conv2d(Tensor.Zeros(2, 5, 5), w)).Message);
        Assert.Contains("positive", Assert.Throws<ArgumentException>(() => F.Conv2d(x, Tensor.Zeros(2, 2, 0, 3))).Message);
        Assert.Contains("outputPadding", Assert.Throws<ArgumentException>(() => F.ConvTranspose2d(x, w, stride: 2, outputPadding: 2)).Message);
        Assert.Contains("outputPadding", Assert.Throws<ArgumentException>(() => F.ConvTranspose2d(x, w, outputPadding: -1)).Message);
        // (5 − 1)·1 − 2·4 + 2 + 1 = −1 rows
        Assert.Contains("output would be", Assert.Throws<ArgumentException>(() => F.ConvTranspose2d(x, w, padding: 4)).Message);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void MismatchedBiasShapeIsRejected(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var error = Assert.Throws<ArgumentException>(() => F.Conv2d(Tensor.Zeros(1, 2, 5, 5), Tensor.Zeros(3, 2, 3, 3), Tensor.Zeros(2)));
        Assert.Contains("[3]", error.Message);
        Assert.Contains("[2]", error.Message);
        Assert.Throws<ArgumentException>(() => F.ConvTranspose2d(Tensor.Zeros(1, 2, 5, 5), Tensor.Zeros(2, 3, 3, 3), Tensor.Zeros(3, 1)));
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void GroupsMustDivideTheChannels(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var error = Assert.Throws<ArgumentException>(() => F.Conv2d(Tensor.Zeros(1, 4, 5, 5), Tensor.Zeros(6, 1, 3, 3), groups: 3));
        Assert.Contains("groups (3)", error.Message);
        Assert.Throws<ArgumentException>(() => F.Conv2d(Tensor.Zeros(1, 4, 5, 5), Tensor.Zeros(3, 2, 3, 3), groups: 2));
        Assert.Throws<ArgumentException>(() => F.ConvTranspose2d(Tensor.Zeros(1, 3, 5, 5), Tensor.Zeros(3, 2, 3, 3), groups: 2));
    }
}
