using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Tests.NN.Pooling;

public class PoolingLayerTests
{
    static void Throws<T>(Func<object> act, params string[] parts) where T : Exception
    {
        var error = Assert.ThrowsAny<T>(act);
        foreach (var part in parts) Assert.Contains(part, error.Message);
    }

    [Fact]
    public void PoolingLayersHaveNoParameters()
    {
        Module[] layers = [new MaxPool2d(2), new AvgPool2d(3, stride: 1, padding: 1), new AdaptiveAvgPool2d(1)];
        Assert.All(layers, layer => Assert.Equal(0, layer.ParameterCount()));
        Assert.All(layers, layer => Assert.Empty(layer.StateDict()));
    }

    [Fact]
    public void ForwardMatchesTheFunctionalOps()
    {
        var x = Tensor.Randn([2, 3, 9, 8], seed: 1);
        Assert.Equal(F.MaxPool2d(x, 3, 2, 1, ceilMode: true).ToArray(), new MaxPool2d(3, stride: 2, padding: 1, ceilMode: true).Forward(x).ToArray());
        Assert.Equal(F.AvgPool2d(x, 2, countIncludePad: false).ToArray(), new AvgPool2d(2, countIncludePad: false).Forward(x).ToArray());
        Assert.Equal(F.AdaptiveAvgPool2d(x, (2, 3)).ToArray(), new AdaptiveAvgPool2d((2, 3)).Forward(x).ToArray());
    }

    [Fact]
    public void OutputShapeAgreesWithForward()
    {
        var x = Tensor.Zeros(2, 3, 11, 7);
        var max = new MaxPool2d((3, 2), stride: (2, 1), padding: (1, 0), dilation: (1, 2), ceilMode: true);
        var avg = new AvgPool2d(3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false);
        var adaptive = new AdaptiveAvgPool2d((4, 5));
        Assert.Equal(max.Forward(x).Shape, max.OutputShape([2, 3, 11, 7]));
        Assert.Equal(avg.Forward(x).Shape, avg.OutputShape([2, 3, 11, 7]));
        Assert.Equal(adaptive.Forward(x).Shape, adaptive.OutputShape([2, 3, 11, 7]));
        Assert.Equal([3, 4, 5], adaptive.OutputShape([3, 11, 7]));
    }

    [Fact]
    public void OutputShapeReportsErrorsWithoutAllocating()
    {
        // A shape far too large to allocate: the error must come from shape arithmetic alone.
        Throws<ArgumentException>(() => new MaxPool2d(7).OutputShape([100_000, 100_000, 5, 5]), "MaxPool2d", "[100000, 100000, 5, 5]", "(7, 7)");
        Throws<ArgumentException>(() => new AvgPool2d(2).OutputShape([1, 1]), "AvgPool2d", "[1, 1]");
        Throws<ArgumentException>(() => new AdaptiveAvgPool2d(2).OutputShape([4, 0, 4]), "AdaptiveAvgPool2d", "[4, 0, 4]");
    }

    [Fact]
    public void ConstructorsRejectBadConfiguration()
    {
        Throws<ArgumentException>(() => new MaxPool2d(2, padding: 2), "MaxPool2d", "padding (2, 2)", "half of kernelSize (2, 2)");
        Throws<ArgumentException>(() => new MaxPool2d(0), "MaxPool2d", "kernelSize");
        Throws<ArgumentException>(() => new MaxPool2d(3, dilation: 0), "MaxPool2d", "dilation");
        Throws<ArgumentException>(() => new AvgPool2d(3, stride: 0), "AvgPool2d", "stride");
        Throws<ArgumentException>(() => new AvgPool2d(3, divisorOverride: 0), "AvgPool2d", "divisorOverride");
        Throws<ArgumentException>(() => new AdaptiveAvgPool2d((1, 0)), "AdaptiveAvgPool2d", "outputSize");
    }

    [Fact]
    public void DescribeShowsTheConfiguration()
    {
        Assert.Equal("MaxPool2d(kernelSize=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1), ceilMode=false)", new MaxPool2d(2).ToString());
        Assert.Equal("AvgPool2d(kernelSize=(3, 3), stride=(1, 1), padding=(1, 1), ceilMode=false, countIncludePad=false, divisorOverride=4)",
            new AvgPool2d(3, 1, 1, countIncludePad: false, divisorOverride: 4).ToString());
        Assert.Equal("AdaptiveAvgPool2d(outputSize=(1, 1))", new AdaptiveAvgPool2d(1).ToString());
    }
}
