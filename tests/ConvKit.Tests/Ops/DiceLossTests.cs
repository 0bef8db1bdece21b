using ConvKit.Ops;
using ConvKit.Tests.Autograd;

namespace ConvKit.Tests.Ops;

/// <summary>F.DiceLoss: its gradient against finite differences, hand-computed values, ignored pixels and bad input (values against PyTorch are in LossFixtureTests).</summary>
public class DiceLossTests
{
    static Tensor Uniform(int seed, float low, float high, params int[] shape) => Tensor.Rand(shape, seed) * (high - low) + low;

    [Fact]
    public void GradientMatchesFiniteDifferencesWithIgnoredPixels()
    {
        GradCheck.Check(x => F.DiceLoss(x[0], Tensor.FromArray([0, 2, 255, 1, 1, 0, 255, 2, 2, 0, 1, 255], 2, 2, 3), ignoreIndex: 255, smooth: 0.5f), Uniform(3, -2, 2, 2, 3, 2, 3));
    }

    [Fact]
    public void GradientMatchesFiniteDifferencesOnSequences()
    {
        GradCheck.Check(x => F.DiceLoss(x[0], Tensor.FromArray([0, 1, 3, 3, 1, 0, 2, 1], 2, 4)), Uniform(4, -2, 2, 2, 4, 4));
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void EqualLogitsGiveTheHandComputedValue(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        // Two classes, p = ½ everywhere; targets [0, 0, 1] and one ignored pixel, smooth 1:
        // class 0: I = 1, S = 1.5 + 2 → dice = 3/4.5; class 1: I = 0.5, S = 1.5 + 1 → dice = 2/3.5.
        var logits = Tensor.Zeros([1, 2, 1, 4]);
        var loss = F.DiceLoss(logits, Tensor.FromArray([0, 0, 1, 255], 1, 1, 4), ignoreIndex: 255).Item();
        Assert.Equal(1 - (3 / 4.5 + 2 / 3.5) / 2, loss, 5);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void ConfidentCorrectLogitsGiveAlmostNothing(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var target = Tensor.FromArray([0, 1, 1, 255], 1, 2, 2);
        var logits = Tensor.FromArray([20, -20, -20, 0, -20, 20, 20, 0], 1, 2, 2, 2);
        Assert.InRange(F.DiceLoss(logits, target, ignoreIndex: 255).Item(), 0, 1e-5);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void IgnoredPixelsNeitherCountNorReceiveGradient(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var target = Tensor.FromArray([0, 1, 255, 2], 1, 2, 2);
        var a = Uniform(5, -2, 2, 1, 3, 2, 2).RequireGrad();
        var values = a.ToArray();
        for (int c = 0; c < 3; c++) values[c * 4 + 2] += 7 * (c + 1);   // change only the ignored pixel's logits
        var b = Tensor.FromArray(values, 1, 3, 2, 2);
        var lossA = F.DiceLoss(a, target, ignoreIndex: 255);
        Assert.Equal(lossA.Item(), F.DiceLoss(b, target, ignoreIndex: 255).Item(), 6);
        lossA.Backward();
        var grad = a.Grad!.ToArray();
        for (int c = 0; c < 3; c++) Assert.Equal(0f, grad[c * 4 + 2]);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void BadInputIsRejectedClearly(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var logits = Tensor.Zeros([1, 3, 2, 2]);
        var shape = Assert.Throws<ArgumentException>(() => F.DiceLoss(logits, Tensor.Zeros([1, 2, 3])));
        Assert.Contains("[1, 2, 2]", shape.Message);
        var value = Assert.Throws<ArgumentOutOfRangeException>(() => F.DiceLoss(logits, Tensor.FromArray([0, 1, 3, 2], 1, 2, 2)));
        Assert.Contains("target 3", value.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => F.DiceLoss(logits, Tensor.Zeros([1, 2, 2]), smooth: 0));
    }
}
