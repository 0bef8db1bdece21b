using ConvKit.Ops;

namespace ConvKit.Tests.Ops;

/// <summary>Dropout's statistics, modes and mask; activation values at their kinks are pinned by pool.json.</summary>
public class ActivationTests
{
    const int Count = 200_000;

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void DropoutZeroesAboutPAndScalesTheRest(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        const float p = 0.3f;
        var y = F.Dropout(Tensor.Ones(Count), p, training: true, new Random(1)).ToArray();
        double zeroed = y.Count(v => v == 0) / (double)Count;
        // The fraction's standard deviation is √(p(1−p)/Count) ≈ 0.001: 5σ.
        Assert.InRange(zeroed, p - 0.005, p + 0.005);
        Assert.All(y, v => Assert.True(v == 0 || v == 1f / (1f - p), $"value {v}"));
        Assert.InRange(y.Average(), 0.99, 1.01);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void DropoutKeepsAnElementWhenItsUniformDrawIsAtLeastP(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var y = F.Dropout(Tensor.Ones(1000), 0.6f, training: true, new Random(9)).ToArray();
        var draws = Tensor.Rand([1000], new Random(9)).ToArray();
        for (int i = 0; i < draws.Length; i++) Assert.Equal(draws[i] >= 0.6f, y[i] != 0);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void ReluInPlaceOverwritesItsInputAndABackwardThatNeededItIsRefused(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Tensor.Randn([3, 50], seed: 1);
        var expected = F.Relu(x).ToArray();
        Assert.Same(x, F.Relu(x, inPlace: true));
        Assert.Equal(expected, x.ToArray());

        var leaf = Tensor.Randn([4], seed: 2).RequireGrad();
        var hidden = leaf.Exp();
        var loss = F.Relu(hidden * 2f - 3f, inPlace: true).Sum();
        var error = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("the output of Sub", error.Message);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void DropoutIsIdentityInEvaluationAndAtZero(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Tensor.Randn([10, 10], seed: 1);
        Assert.Same(x, F.Dropout(x, 0.5f, training: false));
        Assert.Same(x, F.Dropout(x, 0f, training: true));
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void DropoutWithPOneGivesZerosAndZeroGradient(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Tensor.Randn([4, 5], seed: 1).RequireGrad();
        var y = F.Dropout(x, 1f, training: true);
        Assert.All(y.ToArray(), v => Assert.Equal(0f, v));
        y.Sum().Backward();
        Assert.All(x.Grad!.ToArray(), v => Assert.Equal(0f, v));
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void DropoutIsReproducibleWithASeed(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Tensor.Ones(500);
        Assert.Equal(F.Dropout(x, 0.5f, true, new Random(3)).ToArray(), F.Dropout(x, 0.5f, true, new Random(3)).ToArray());
        Assert.NotEqual(F.Dropout(x, 0.5f, true, new Random(3)).ToArray(), F.Dropout(x, 0.5f, true, new Random(4)).ToArray());
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void DropoutGradientUsesTheForwardMask(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Tensor.Ones(1000).RequireGrad();
        var y = F.Dropout(x, 0.5f, training: true);
        y.Sum().Backward();
        // d(Σ y)/dx = mask = y / x, and x is all ones.
        Assert.Equal(y.ToArray(), x.Grad!.ToArray());
    }

    [Theory]
    [InlineData(-0.1f)]
    [InlineData(1.5f)]
    [InlineData(float.NaN)]
    public void DropoutRejectsBadProbabilities(float p)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => F.Dropout(Tensor.Ones(3), p, true));
        Assert.Contains("Dropout", error.Message);
    }
}
