using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Tests.NN.Convolution;

public class ConvTranspose2dTests
{
    [Theory]
    [InlineData(5, 2, 2, 0, 0, 10)]  // U-Net up-sampling: k = s = 2 doubles the size
    [InlineData(5, 3, 2, 1, 1, 10)]  // (5 − 1)·2 − 2 + 2 + 1 + 1
    [InlineData(4, 3, 1, 0, 0, 6)]
    [InlineData(4, 4, 3, 1, 2, 13)]
    public void OutputSizeFollowsTheFormula(int n, int k, int s, int p, int outputPadding, int expected)
    {
        Assert.Equal(expected, (n - 1) * s - 2 * p + k + outputPadding);
        var layer = new ConvTranspose2d(4, 2, kernelSize: k, stride: s, padding: p, outputPadding: outputPadding);
        Assert.Equal([3, 2, expected, expected], layer.OutputShape([3, 4, n, n]));
        Assert.Equal([3, 2, expected, expected], layer.Forward(Tensor.Rand([3, 4, n, n], seed: 1)).Shape);
    }

    /// <summary>
    /// The course's example: a 2×2 input, a 3×3 filter, padding 1, stride 2 gives a 4×4 output (PyTorch needs
    /// output_padding 1 to say which of the two sizes that fit — 3 or 4 — is meant). Each input value stamps the filter,
    /// times itself, onto the output at twice its position; where stamps overlap their contributions add up; the
    /// padding trims one row and column. With an all-ones filter the full 5×5 stamp canvas is
    /// <code>
    /// 1 1  3 2 2
    /// 1 1  3 2 2
    /// 4 4 10 6 6      (the centre is covered by all four stamps: 1 + 2 + 3 + 4)
    /// 3 3  7 4 4
    /// 3 3  7 4 4
    /// </code>
    /// and the output is its rows and columns 1 to 4.
    /// </summary>
    [Fact]
    public void TheCoursesTwoByTwoToFourByFourExampleSumsTheOverlappingStamps()
    {
        var x = Tensor.FromArray([1f, 2f, 3f, 4f], 1, 1, 2, 2);
        var ones = Tensor.Ones([1, 1, 3, 3]);
        var y = F.ConvTranspose2d(x, ones, stride: 2, padding: 1, outputPadding: 1);
        Assert.Equal([1, 1, 4, 4], y.Shape);
        Assert.Equal([1f, 3, 2, 2, 4, 10, 6, 6, 3, 7, 4, 4, 3, 7, 4, 4], y.ToArray());

        // With a filter of distinct values, the centre pixel (1, 1) collects one distinct filter tap from each input value.
        var w = Tensor.FromArray([1f, 2, 3, 4, 5, 6, 7, 8, 9], 1, 1, 3, 3);
        var z = F.ConvTranspose2d(x, w, stride: 2, padding: 1, outputPadding: 1).ToArray();
        // output (1, 1) is canvas (2, 2): tap (2, 2) of x[0, 0], tap (2, 0) of x[0, 1], tap (0, 2) of x[1, 0], tap (0, 0) of x[1, 1]
        Assert.Equal(1 * 9 + 2 * 7 + 3 * 3 + 4 * 1, z[1 * 4 + 1]);
        // output (0, 0) is canvas (1, 1): only x[0, 0] reaches it, through tap (1, 1)
        Assert.Equal(1 * 5, z[0]);
    }

    [Fact]
    public void ForwardIsTheFunctionalOpWithTheLayersParameters()
    {
        var layer = new ConvTranspose2d(4, 6, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1, groups: 2, random: new Random(3));
        var x = Tensor.Rand([2, 4, 5, 4], seed: 2);
        var expected = F.ConvTranspose2d(x, layer.Weight, layer.Bias, stride: 2, padding: 1, outputPadding: 1, groups: 2);
        Assert.Equal(expected.ToArray(), layer.Forward(x).ToArray());
    }

    [Fact]
    public void ParametersHavePyTorchNamesShapesInitialisationAndDescription()
    {
        var layer = new ConvTranspose2d(8, 6, kernelSize: 4, stride: 2, padding: 1, groups: 2, random: new Random(5));
        Assert.Equal(["weight", "bias"], layer.StateDict().Keys);
        Assert.Equal([8, 3, 4, 4], layer.Weight.Shape);
        Assert.Equal([6], layer.Bias!.Shape);
        Assert.Equal(8 * 3 * 16 + 6, layer.ParameterCount());
        // PyTorch's fan_in for this layout is weight.size(1)·kH·kW = out/groups·kH·kW.
        float bound = 1f / MathF.Sqrt(3 * 16);
        var weights = layer.Weight.ToArray();
        Assert.All(weights, v => Assert.InRange(v, -bound, bound));
        Assert.All(layer.Bias.ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.True(weights.Max() > 0.9f * bound && weights.Min() < -0.9f * bound);
        Assert.Equal("ConvTranspose2d(8, 6, kernelSize=(4, 4), stride=(2, 2), padding=(1, 1), groups=2)", layer.ToString());
    }

    [Fact]
    public void RejectsBadConfigurationAndInputs()
    {
        Assert.Contains("outputPadding", Assert.Throws<ArgumentException>(() => new ConvTranspose2d(2, 2, 3, stride: 2, outputPadding: 2)).Message);
        Assert.Contains("groups (3) must divide inChannels (4)", Assert.Throws<ArgumentException>(() => new ConvTranspose2d(4, 6, 3, groups: 3)).Message);
        Assert.Contains("padding", Assert.Throws<ArgumentException>(() => new ConvTranspose2d(2, 2, 3, padding: -1)).Message);
        Assert.Contains("kernelSize", Assert.Throws<ArgumentException>(() => new ConvTranspose2d(2, 2, 0)).Message);

        var layer = new ConvTranspose2d(4, 2, kernelSize: 3, padding: 2);
        var error = Assert.Throws<ArgumentException>(() => layer.OutputShape([1, 3, 5, 5]));
        Assert.StartsWith("ConvTranspose2d(4, 2", error.Message);
        Assert.Contains("[1, 3, 5, 5]", error.Message);
        Assert.Contains("[4, 2, 3, 3]", error.Message);
        // (2 − 1) − 4 + 2 + 1 = 0 rows
        Assert.Contains("output would be", Assert.Throws<ArgumentException>(() => layer.OutputShape([1, 4, 2, 2])).Message);
        Assert.Throws<ArgumentException>(() => layer.OutputShape([1, 4, 0, 5]));
    }
}
