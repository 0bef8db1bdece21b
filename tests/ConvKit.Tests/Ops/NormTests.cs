using ConvKit.Ops;

namespace ConvKit.Tests.Ops;

/// <summary>Batch norm's modes and buffers, and bad arguments of the normalisation ops.</summary>
public class NormTests
{
    static void Throws<T>(Func<object> act, params string[] parts) where T : Exception
    {
        var error = Assert.ThrowsAny<T>(act);
        foreach (var part in parts) Assert.Contains(part, error.Message);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void TrainingNormalisesEachChannelToZeroMeanUnitVariance(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Tensor.Randn([6, 3, 4, 5], seed: 1) * 3f + 7f;
        var y = F.BatchNorm(x, null, null, null, null, training: true, eps: 0f);
        var mean = y.Mean([0, 2, 3]).ToArray();
        var variance = y.Var([0, 2, 3], correction: 0).ToArray();
        Assert.All(mean, m => Assert.True(Math.Abs(m) < 1e-5, $"mean {m}"));
        Assert.All(variance, v => Assert.True(Math.Abs(v - 1) < 1e-4, $"variance {v}"));
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void EvaluationUsesAndKeepsTheRunningStatistics(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Tensor.Randn([4, 2, 3], seed: 2);
        var runningMean = Tensor.FromArray([0.5f, -1f]);
        var runningVar = Tensor.FromArray([4f, 0.25f]);
        var y = F.BatchNorm(x, runningMean, runningVar, null, null, training: false, eps: 0f);
        var expected = (x - runningMean.Reshape(1, 2, 1)) / runningVar.Reshape(1, 2, 1).Sqrt();
        Close.All(expected.ToArray().Select(v => (double)v).ToArray(), y.ToArray(), 1e-6, 1e-6, "output");
        Assert.Equal([0.5f, -1f], runningMean.ToArray());
        Assert.Equal([4f, 0.25f], runningVar.ToArray());
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void TrainingUpdatesRunningStatisticsWithUnbiasedVariance(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Tensor.Randn([5, 2, 3], seed: 3);
        var runningMean = Tensor.Zeros(2);
        var runningVar = Tensor.Ones(2);
        F.BatchNorm(x, runningMean, runningVar, null, null, training: true, momentum: 0.25f);
        var expectedMean = x.Mean([0, 2]) * 0.25f;
        var expectedVar = x.Var([0, 2], correction: 1) * 0.25f + 0.75f;
        Close.All(expectedMean.ToArray().Select(v => (double)v).ToArray(), runningMean.ToArray(), 1e-5, 1e-6, "running mean");
        Close.All(expectedVar.ToArray().Select(v => (double)v).ToArray(), runningVar.ToArray(), 1e-5, 1e-6, "running var");
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void BatchNormBadArguments(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Tensor.Zeros(4, 3, 2);
        Throws<ArgumentException>(() => F.BatchNorm(Tensor.Zeros(3), null, null, null, null, true), "BatchNorm", "[3]");
        Throws<ArgumentException>(() => F.BatchNorm(x, null, null, Tensor.Ones(4), null, true), "BatchNorm", "weight", "[3]", "[4]", "[4, 3, 2]");
        Throws<ArgumentException>(() => F.BatchNorm(x, Tensor.Zeros(3), null, null, null, true), "BatchNorm", "runningMean and runningVar");
        Throws<ArgumentException>(() => F.BatchNorm(x, null, null, null, null, training: false), "BatchNorm", "evaluation");
        Throws<ArgumentException>(() => F.BatchNorm(Tensor.Zeros(1, 3), null, null, null, null, true), "BatchNorm", "more than 1 value", "[1, 3]");
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void LocalResponseNormBadArguments(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        Throws<ArgumentException>(() => F.LocalResponseNorm(Tensor.Zeros(2, 3), 2), "LocalResponseNorm", "[2, 3]");
        Throws<ArgumentException>(() => F.LocalResponseNorm(Tensor.Zeros(2, 3, 4), 0), "LocalResponseNorm", "size");
    }
}
