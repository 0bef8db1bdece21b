using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Tests.NN.Activation;

public class ActivationLayerTests
{
    [Fact]
    public void LayersApplyTheirFunctions()
    {
        var x = Tensor.Randn([3, 4, 5], seed: 1) * 4f;
        Assert.Equal(F.Relu(x).ToArray(), new ReLU().Forward(x).ToArray());
        Assert.Equal(F.LeakyRelu(x, 0.2f).ToArray(), new LeakyReLU(0.2f).Forward(x).ToArray());
        Assert.Equal(F.LeakyRelu(x).ToArray(), new LeakyReLU().Forward(x).ToArray());
        Assert.Equal(F.Relu6(x).ToArray(), new ReLU6().Forward(x).ToArray());
        Assert.Equal(F.Tanh(x).ToArray(), new Tanh().Forward(x).ToArray());
        Assert.Equal(F.Sigmoid(x).ToArray(), new Sigmoid().Forward(x).ToArray());
    }

    [Fact]
    public void ActivationLayersHaveNoParameters()
    {
        Module[] layers = [new ReLU(), new LeakyReLU(), new ReLU6(), new Tanh(), new Sigmoid()];
        Assert.All(layers, layer => Assert.Equal(0, layer.ParameterCount()));
    }

    [Fact]
    public void LeakyReluRejectsNonFiniteSlopeAndDescribesItself()
    {
        Assert.Contains("LeakyReLU", Assert.Throws<ArgumentOutOfRangeException>(() => new LeakyReLU(float.NaN)).Message);
        Assert.Equal("LeakyReLU(negativeSlope=0.2)", new LeakyReLU(0.2f).ToString());
    }
}
