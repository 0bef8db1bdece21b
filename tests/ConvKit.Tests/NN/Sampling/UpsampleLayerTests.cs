using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Tests.NN.Sampling;

public class UpsampleLayerTests
{
    [Fact]
    public void ForwardAndOutputShape()
    {
        var x = Tensor.Randn([2, 3, 4, 5], seed: 1);
        var up = new Upsample(scaleFactor: 1.5f, mode: UpsampleMode.Bilinear, alignCorners: true);
        var y = up.Forward(x);
        Assert.Equal(F.Upsample(x, scaleFactor: 1.5f, mode: UpsampleMode.Bilinear, alignCorners: true).ToArray(), y.ToArray());
        Assert.Equal(y.Shape, up.OutputShape([2, 3, 4, 5]));
        Assert.Equal([1, 1, 7, 3], new Upsample(size: (7, 3)).OutputShape([1, 1, 2, 2]));
        Assert.Equal(0, up.ParameterCount());
    }

    [Fact]
    public void RejectsBadConfigurationAndInputs()
    {
        Assert.Contains("Upsample", Assert.ThrowsAny<ArgumentException>(() => new Upsample()).Message);
        Assert.Contains("alignCorners", Assert.ThrowsAny<ArgumentException>(() => new Upsample(scaleFactor: 2, alignCorners: true)).Message);
        var error = Assert.ThrowsAny<ArgumentException>(() => new Upsample(scaleFactor: 2).OutputShape([3, 4, 4]));
        Assert.Contains("[3, 4, 4]", error.Message);
    }

    [Fact]
    public void DescribeShowsTheConfiguration()
    {
        Assert.Equal("Upsample(scaleFactor=2, mode=Nearest)", new Upsample(scaleFactor: 2).ToString());
        Assert.Equal("Upsample(size=(7, 3), mode=Bilinear, alignCorners=true)",
            new Upsample(size: (7, 3), mode: UpsampleMode.Bilinear, alignCorners: true).ToString());
    }
}
