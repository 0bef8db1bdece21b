using ConvKit.NN;

namespace ConvKit.Tests.NN;

public class LinearTests
{
    [Fact]
    public void RegistersPyTorchNamedParametersWithTheirShapes()
    {
        var layer = new Linear(4, 3);
        Assert.Equal(["weight", "bias"], layer.StateDict().Keys);
        Assert.Equal([3, 4], layer.Weight.Shape);
        Assert.Equal([3], layer.Bias!.Shape);
        Assert.Equal(15, layer.ParameterCount());
        Assert.Equal(["weight"], new Linear(4, 3, bias: false).StateDict().Keys);
    }

    [Fact]
    public void InitialisesLikePyTorchWithinOneOverSqrtInFeatures()
    {
        var layer = new Linear(50, 200, random: new Random(1));
        float bound = 1 / MathF.Sqrt(50);
        var weight = layer.Weight.ToArray();
        Assert.All(weight, v => Assert.InRange(v, -bound, bound));
        Assert.True(weight.Max() > 0.95f * bound && weight.Min() < -0.95f * bound, "weights should fill the range");
        Assert.All(layer.Bias!.ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.Equal(weight, new Linear(50, 200, random: new Random(1)).Weight.ToArray());
    }

    [Fact]
    public void ForwardIsXTimesWeightTransposedPlusBias()
    {
        var layer = new Linear(4, 3, random: new Random(2));
        var x = Tensor.Randn([2, 5, 4], seed: 3);
        var expected = x.MatMul(layer.Weight.Transpose(0, 1)) + layer.Bias!;
        var y = layer.Forward(x);
        Assert.Equal([2, 5, 3], y.Shape);
        Close.All(expected.ToArray().Select(v => (double)v).ToArray(), y.ToArray(), 1e-5, 1e-6, "Linear");
    }

    [Fact]
    public void DescribesItsConfiguration()
    {
        Assert.Equal("Linear(4, 3, bias=true)", new Linear(4, 3).ToString());
        Assert.Equal("Linear(4, 3, bias=false)", new Linear(4, 3, bias: false).ToString());
    }

    [Theory]
    [InlineData(0, 3, "inFeatures", "0")]
    [InlineData(4, -2, "outFeatures", "-2")]
    public void RejectsNonPositiveSizes(int inFeatures, int outFeatures, string name, string value)
    {
        var error = Assert.Throws<ArgumentException>(() => new Linear(inFeatures, outFeatures));
        Assert.Contains("Linear", error.Message);
        Assert.Contains(name, error.Message);
        Assert.Contains(value, error.Message);
    }

    [Fact]
    public void IdentityReturnsItsInput()
    {
        var x = Tensor.Randn([2, 3], seed: 4);
        Assert.Same(x, new Identity().Forward(x));
        Assert.Empty(new Identity().StateDict());
    }
}
