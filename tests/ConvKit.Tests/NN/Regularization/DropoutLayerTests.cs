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
    public void SeededLayersGiveTheSameMasks() =>
        Assert.Equal(new Dropout(0.3f, new Random(5)).Forward(Tensor.Ones(100)).ToArray(),
            new Dropout(0.3f, new Random(5)).Forward(Tensor.Ones(100)).ToArray());

    [Fact]
    public void RejectsBadProbability()
    {
        Assert.Contains("Dropout", Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(1.2f)).Message);
        Assert.Equal("Dropout(p=0.5)", new Dropout().ToString());
        Assert.Equal(0, new Dropout().ParameterCount());
    }
}
