using ConvKit.NN;

namespace ConvKit.Tests.NN.Regularization;

public class DropoutLayerTests
{
    [Fact]
    public void TrainingModeDropsAndEvaluationModePassesThrough()
    {
        var dropout = new Dropout(0.5f, new Random(1));
        var x = Tensor.Ones(10_000);
        var train = dropout.Forward(x).ToArray();
        Assert.InRange(train.Count(v => v == 0), 4_800, 5_200);
        dropout.Eval();
        Assert.Same(x, dropout.Forward(x));
    }

    [Fact]
    public void SeededLayersGiveTheSameMasks()
    {
        float[] Mask(int seed) => new Dropout(0.3f, new Random(seed)).Forward(Tensor.Ones(100)).ToArray();
        Assert.Equal(Mask(5), Mask(5));
        Assert.NotEqual(Mask(5), Mask(6)); // the mask comes from the generator
        Assert.Contains(0f, Mask(5));
    }

    [Fact]
    public void RejectsBadProbability()
    {
        Assert.Contains("Dropout", Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(1.2f)).Message);
        Assert.Equal("Dropout(p=0.5)", new Dropout().ToString());
        Assert.Equal(0, new Dropout().ParameterCount());
    }
}
