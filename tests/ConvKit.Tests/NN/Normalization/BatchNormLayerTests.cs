using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Tests.NN.Normalization;

public class BatchNormLayerTests
{
    static void Throws<T>(Func<object> act, params string[] parts) where T : Exception
    {
        var error = Assert.ThrowsAny<T>(act);
        foreach (var part in parts) Assert.Contains(part, error.Message);
    }

    [Fact]
    public void RegistersPyTorchNamesAndInitialValues()
    {
        var bn = new BatchNorm2d(3);
        var state = bn.StateDict();
        Assert.Equal(["weight", "bias", "running_mean", "running_var", "num_batches_tracked"], state.Keys);
        Assert.Equal([1f, 1f, 1f], state["weight"].ToArray());
        Assert.Equal([0f, 0f, 0f], state["bias"].ToArray());
        Assert.Equal([0f, 0f, 0f], state["running_mean"].ToArray());
        Assert.Equal([1f, 1f, 1f], state["running_var"].ToArray());
        Assert.Empty(state["num_batches_tracked"].Shape);
        Assert.Equal(0f, state["num_batches_tracked"].Item());
        Assert.Equal(6, bn.ParameterCount());
    }

    [Fact]
    public void OptionsDropParametersOrBuffers()
    {
        Assert.Equal(["running_mean", "running_var", "num_batches_tracked"], new BatchNorm1d(4, affine: false).StateDict().Keys);
        Assert.Equal(["weight", "bias"], new BatchNorm1d(4, trackRunningStats: false).StateDict().Keys);
    }

    [Fact]
    public void TrainingModeUpdatesBuffersAndEvaluationModeUsesThem()
    {
        var bn = new BatchNorm2d(2, momentum: 0.5f);
        var x = Tensor.Randn([4, 2, 3, 3], seed: 1) + 2f;
        var train = bn.Forward(x);
        Assert.Equal(F.BatchNorm(x, null, null, null, null, training: true).ToArray(), train.ToArray());
        Assert.Equal(1f, bn.NumBatchesTracked!.Item());
        Close.All((x.Mean([0, 2, 3]) * 0.5f).ToArray().Select(v => (double)v).ToArray(), bn.RunningMean!.ToArray(), 1e-5, 1e-6, "running mean");

        bn.Eval();
        var before = bn.RunningMean.ToArray();
        var eval = bn.Forward(x);
        var expected = F.BatchNorm(x, bn.RunningMean.Clone(), bn.RunningVar!.Clone(), null, null, training: false);
        Assert.Equal(expected.ToArray(), eval.ToArray());
        Assert.Equal(before, bn.RunningMean.ToArray());
        Assert.Equal(1f, bn.NumBatchesTracked.Item());
    }

    [Fact]
    public void NullMomentumKeepsACumulativeAverage()
    {
        var bn = new BatchNorm1d(3, momentum: null);
        var a = Tensor.Randn([5, 3], seed: 1);
        var b = Tensor.Randn([5, 3], seed: 2) + 1f;
        bn.Forward(a);
        bn.Forward(b);
        var expected = (a.Mean(0) + b.Mean(0)) * 0.5f;
        Close.All(expected.ToArray().Select(v => (double)v).ToArray(), bn.RunningMean!.ToArray(), 1e-5, 1e-6, "cumulative mean");
        Assert.Equal(2f, bn.NumBatchesTracked!.Item());
    }

    [Fact]
    public void WithoutRunningStatisticsEvaluationUsesTheBatch()
    {
        var bn = new BatchNorm1d(3, trackRunningStats: false);
        bn.Eval();
        var x = Tensor.Randn([6, 3, 2], seed: 3);
        Assert.Equal(F.BatchNorm(x, null, null, bn.Weight, bn.Bias, training: true).ToArray(), bn.Forward(x).ToArray());
    }

    [Fact]
    public void GradientsReachWeightAndBias()
    {
        var bn = new BatchNorm2d(2);
        bn.Forward(Tensor.Randn([3, 2, 2, 2], seed: 4)).Square().Sum().Backward();
        Assert.NotNull(bn.Weight!.Grad);
        Assert.NotNull(bn.Bias!.Grad);
    }

    [Fact]
    public void RejectsBadInputsAndConfiguration()
    {
        Throws<ArgumentException>(() => new BatchNorm2d(3).Forward(Tensor.Zeros(2, 3, 4)), "BatchNorm2d", "(N, C, H, W)", "[2, 3, 4]");
        Throws<ArgumentException>(() => new BatchNorm1d(3).Forward(Tensor.Zeros(2, 3, 4, 4)), "BatchNorm1d", "[2, 3, 4, 4]");
        Throws<ArgumentException>(() => new BatchNorm2d(3).Forward(Tensor.Zeros(2, 4, 5, 5)), "BatchNorm2d", "3 channels", "[2, 4, 5, 5]");
        Throws<ArgumentException>(() => new BatchNorm2d(0), "BatchNorm2d", "numFeatures");
        Throws<ArgumentException>(() => new BatchNorm1d(3, eps: -1), "BatchNorm1d", "eps");
        Throws<ArgumentException>(() => new BatchNorm1d(3, momentum: 2), "BatchNorm1d", "momentum");
    }

    [Fact]
    public void DescribeShowsTheConfiguration() =>
        Assert.Equal("BatchNorm2d(64, eps=1E-05, momentum=0.1, affine=true, trackRunningStats=true)", new BatchNorm2d(64).ToString());

    [Fact]
    public void LocalResponseNormLayer()
    {
        var x = Tensor.Randn([2, 6, 3, 3], seed: 5);
        var lrn = new LocalResponseNorm(5, alpha: 1e-4f, beta: 0.75f, k: 2f);
        Assert.Equal(F.LocalResponseNorm(x, 5, 1e-4f, 0.75f, 2f).ToArray(), lrn.Forward(x).ToArray());
        Assert.Equal(0, lrn.ParameterCount());
        Assert.Equal("LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=2)", lrn.ToString());
        Throws<ArgumentException>(() => new LocalResponseNorm(0), "LocalResponseNorm", "size");
        Throws<ArgumentException>(() => lrn.Forward(Tensor.Zeros(2, 6)), "LocalResponseNorm", "[2, 6]");
    }
}
