using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Tests.NN;

public class SoftmaxLayerTests
{
    [Fact]
    public void SoftmaxLayersNormaliseAlongTheirAxis()
    {
        var x = Tensor.Randn([2, 3, 4], seed: 6);
        Assert.Equal(F.Softmax(x, 1).ToArray(), new Softmax(1).Forward(x).ToArray());
        Assert.Equal(F.LogSoftmax(x, -1).ToArray(), new LogSoftmax().Forward(x).ToArray());
        Close.All(Enumerable.Repeat(1.0, 8).ToArray(), new Softmax(1).Forward(x).Sum(1).ToArray(), 1e-6, 1e-6, "softmax sums");
        Assert.Equal("Softmax(dim=1)", new Softmax(1).ToString());
        Assert.Equal("LogSoftmax(dim=-1)", new LogSoftmax().ToString());
    }
}
