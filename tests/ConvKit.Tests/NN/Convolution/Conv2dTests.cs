using ConvKit.Backends;
using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Backends.Reference;

namespace ConvKit.Tests.NN.Convolution;

public class Conv2dTests
{
    static readonly Tensor VerticalEdge = Tensor.FromArray([1, 0, -1, 1, 0, -1, 1, 0, -1], 1, 1, 3, 3);

    [Fact]
    public void BrightLeftDarkRightImageShowsTheEdgeInTheMiddle()
    {
        // The course's picture: a 6×6 image, 10s on the left half and 0s on the right; the vertical-edge filter
        // lights up the two middle columns with 30 in every row.
        var image = new float[36];
        for (int i = 0; i < 36; i++) image[i] = i % 6 < 3 ? 10 : 0;
        var conv = new Conv2d(1, 1, kernelSize: 3, bias: false);
        using (Tensor.NoGrad()) conv.Weight.CopyFrom(VerticalEdge);

        var output = conv.Forward(Tensor.FromArray(image, 1, 1, 6, 6));

        float[] course = [0, 30, 30, 0, 0, 30, 30, 0, 0, 30, 30, 0, 0, 30, 30, 0];
        Assert.Equal(course, output.ToArray());
        var g = new ConvGeometry(1, 1, 6, 6, 1, 4, 4, 3, 3, 1, 1, 0, 0, 1, 1, 1);
        var reference = ReferenceBackend.Instance;
        var expected = reference.Allocate(16);
        reference.ConvForward(reference.FromArray(image), reference.FromArray(VerticalEdge.ToArray()), null, expected, g);
        Assert.Equal(TestBackends.Read(expected), output.ToArray());
    }

    [Theory]
    [InlineData(6, 3, 1, 0, 4)]        // valid: 6×6 * 3×3 → 4×4
    [InlineData(6, 3, 1, "same", 6)]   // same keeps 6×6
    [InlineData(7, 3, 2, 0, 3)]        // ⌊(7 + 0 − 3)/2⌋ + 1 = 3
    [InlineData(6, 3, 1, 1, 6)]
    public void OutputSizeFollowsTheFormula(int n, int f, int s, object padding, int expected)
    {
        Padding pad = padding is string mode ? mode : (int)padding;
        var conv = new Conv2d(3, 2, kernelSize: f, stride: s, padding: pad);
        Assert.Equal([2, 2, expected, expected], conv.OutputShape([2, 3, n, n]));
        Assert.Equal([2, 2, expected, expected], conv.Forward(Tensor.Rand([2, 3, n, n], seed: 1)).Shape);
    }

    [Fact]
    public void TenFiltersOfThreeByThreeByThreeHave280ParametersWhateverTheImageSize()
    {
        var conv = new Conv2d(3, 10, kernelSize: 3);
        Assert.Equal((27 + 1) * 10, conv.ParameterCount());
        Assert.Equal([1, 10, 4, 4], conv.Forward(Tensor.Rand([1, 3, 6, 6], seed: 1)).Shape);
        Assert.Equal([2, 10, 62, 30], conv.Forward(Tensor.Rand([2, 3, 64, 32], seed: 2)).Shape);
        Assert.Equal(280, conv.ParameterCount());
    }

    [Fact]
    public void ParametersHavePyTorchNamesShapesAndDescription()
    {
        var conv = new Conv2d(4, 6, kernelSize: (3, 5), stride: 2, padding: "same", groups: 2);
        Assert.Equal(["weight", "bias"], conv.StateDict().Keys);
        Assert.Equal([6, 2, 3, 5], conv.Weight.Shape);
        Assert.Equal([6], conv.Bias!.Shape);
        Assert.Equal("Conv2d(4, 6, kernelSize=(3, 5), stride=(2, 2), padding=same, groups=2)", conv.ToString());
        var plain = new Conv2d(3, 64, kernelSize: 3, bias: false);
        Assert.Equal(["weight"], plain.StateDict().Keys);
        Assert.Equal("Conv2d(3, 64, kernelSize=(3, 3), stride=(1, 1), bias=false)", plain.ToString());
    }

    [Fact]
    public void DefaultInitialisationIsUniformWithinOneOverRootFanIn()
    {
        // kaiming_uniform(a = √5) draws from U(−b, b), b = √(6 / ((1 + a²)·fan_in)) = 1/√fan_in; PyTorch uses the same b for the bias.
        var conv = new Conv2d(16, 32, kernelSize: 3, random: new Random(7));
        float bound = 1f / MathF.Sqrt(16 * 9);
        var weights = conv.Weight.ToArray();
        Assert.All(weights, v => Assert.InRange(v, -bound, bound));
        Assert.All(conv.Bias!.ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.True(weights.Max() > 0.99f * bound && weights.Min() < -0.99f * bound);
        // Variance of U(−b, b) is b²/3; 4,608 draws estimate it within a few per cent.
        double variance = weights.Select(v => (double)v * v).Average();
        Assert.InRange(variance, 0.95 * bound * bound / 3, 1.05 * bound * bound / 3);
        Assert.Equal(weights, new Conv2d(16, 32, kernelSize: 3, random: new Random(7)).Weight.ToArray());
    }

    [Fact]
    public void LearnsTheVerticalEdgeFilterByGradientDescent()
    {
        // Edge maps of random images made with the true filter are the targets; a randomly initialised 3×3 filter
        // trained on the squared error must end up as the filter. Pixels are centred on zero so the nine inputs
        // of a patch are uncorrelated: the loss is then a well-conditioned quadratic (Hessian ≈ ⅔·I) and plain
        // gradient descent with step 1 shrinks the error about threefold per step.
        var images = Tensor.Rand([8, 1, 12, 12], seed: 3) * 2f - 1f;
        Tensor targets;
        using (Tensor.NoGrad()) targets = F.Conv2d(images, VerticalEdge);
        var conv = new Conv2d(1, 1, kernelSize: 3, bias: false, random: new Random(11));
        const float learningRate = 1f;
        for (int step = 0; step < 100; step++)
        {
            conv.ZeroGrad();
            var loss = (conv.Forward(images) - targets).Square().Mean();
            loss.Backward();
            using (Tensor.NoGrad()) conv.Weight.AddInPlace(conv.Weight.Grad!, -learningRate);
        }
        var learnt = conv.Weight.ToArray();
        var truth = VerticalEdge.ToArray();
        for (int i = 0; i < 9; i++)
            Assert.True(Math.Abs(learnt[i] - truth[i]) < 1e-3, $"tap {i}: learnt {learnt[i]}, true {truth[i]}");
    }

    [Fact]
    public void OutputShapeRejectsBadInputsBeforeComputing()
    {
        var conv = new Conv2d(3, 8, kernelSize: 5, padding: 1);
        var error = Assert.Throws<ArgumentException>(() => conv.OutputShape([1, 4, 16, 16]));
        Assert.StartsWith("Conv2d(3, 8", error.Message);
        Assert.Contains("[1, 4, 16, 16]", error.Message);
        Assert.Contains("[8, 3, 5, 5]", error.Message);
        error = Assert.Throws<ArgumentException>(() => conv.OutputShape([1, 3, 2, 16]));
        Assert.Contains("larger than the padded input", error.Message);
        Assert.Contains("2 + 2 padding = 4", error.Message);
        Assert.Throws<ArgumentException>(() => conv.OutputShape([1, 3, -4, 16]));
        Assert.Throws<ArgumentException>(() => conv.OutputShape([3, 16, 16]));
        Assert.Throws<ArgumentException>(() => conv.Forward(Tensor.Zeros(1, 4, 16, 16)));
    }

    [Fact]
    public void ConstructorRejectsBadConfiguration()
    {
        Assert.Contains("groups (2) must divide inChannels (3)", Assert.Throws<ArgumentException>(() => new Conv2d(3, 4, 3, groups: 2)).Message);
        Assert.Contains("outChannels (5)", Assert.Throws<ArgumentException>(() => new Conv2d(4, 5, 3, groups: 2)).Message);
        Assert.Contains("kernelSize", Assert.Throws<ArgumentException>(() => new Conv2d(3, 4, (3, 0))).Message);
        Assert.Contains("stride", Assert.Throws<ArgumentException>(() => new Conv2d(3, 4, 3, stride: -1)).Message);
        Assert.Contains("padding", Assert.Throws<ArgumentException>(() => new Conv2d(3, 4, 3, padding: -1)).Message);
        Assert.Contains("dilation", Assert.Throws<ArgumentException>(() => new Conv2d(3, 4, 3, dilation: 0)).Message);
        Assert.Contains("inChannels", Assert.Throws<ArgumentException>(() => new Conv2d(0, 4, 3)).Message);
        Assert.Contains("outChannels", Assert.Throws<ArgumentException>(() => new Conv2d(3, -1, 3)).Message);
    }
}
