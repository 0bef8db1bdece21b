using ConvKit.Ops;

namespace ConvKit.Tests.Ops;

/// <summary>The course's worked pooling examples, output sizes, and bad arguments failing at the op's boundary.</summary>
public class PoolTests
{
    // The course's 4×4 example (also a case in pool.json, where PyTorch computes the same numbers).
    static Tensor CourseInput() => Tensor.FromArray([1, 3, 2, 1, 2, 9, 1, 1, 1, 3, 2, 3, 5, 6, 1, 2], 1, 1, 4, 4);

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void CourseMaxPoolingExample(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var y = F.MaxPool2d(CourseInput(), kernelSize: 2, stride: 2);
        Assert.Equal([1, 1, 2, 2], y.Shape);
        Assert.Equal([9f, 2f, 6f, 3f], y.ToArray());
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void CourseAveragePoolingExample(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var y = F.AvgPool2d(CourseInput(), kernelSize: 2, stride: 2);
        Assert.Equal([3.75f, 1.25f, 3.75f, 2f], y.ToArray());
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void MaxPoolGradientGoesToTheMaximumOnly(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = CourseInput().RequireGrad();
        F.MaxPool2d(x, 2).Sum().Backward();
        // The maxima: 9 at (1, 1), 2 at (0, 2), 6 at (3, 1), 3 at (2, 3).
        var expected = new float[16];
        expected[5] = expected[2] = expected[13] = expected[11] = 1;
        Assert.Equal(expected, x.Grad!.ToArray());
    }

    // Expected sizes as printed by torch.nn.functional.max_pool2d(torch.zeros(1, 1, size, size), ...).shape.
    [Theory]
    [InlineData(224, 2, 2, 0, 1, false, 112)]
    [InlineData(112, 3, 2, 1, 1, false, 56)]  // ResNet's stem pooling
    [InlineData(55, 3, 2, 0, 1, false, 27)]   // AlexNet
    [InlineData(5, 2, 2, 0, 1, true, 3)]
    [InlineData(5, 2, 2, 1, 1, true, 3)]      // a 4th window would start in the right padding: dropped
    [InlineData(7, 3, 1, 0, 2, false, 3)]
    public void OutputSizeFollowsPyTorch(int size, int kernel, int stride, int padding, int dilation, bool ceil, int expected)
    {
        var y = F.MaxPool2d(Tensor.Zeros(1, 1, size, size), kernel, stride, padding, dilation, ceil);
        Assert.Equal([1, 1, expected, expected], y.Shape);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void GlobalAveragePoolingIsThePlaneMean(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Tensor.Randn([2, 3, 5, 7], seed: 1);
        var y = F.GlobalAvgPool2d(x);
        Assert.Equal([2, 3, 1, 1], y.Shape);
        Close.All(x.Mean([2, 3]).ToArray().Select(v => (double)v).ToArray(), y.ToArray(), 1e-6, 1e-6, "global mean");
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void ThreeDimensionalInputsPoolToo(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        Assert.Equal([3, 2, 3], F.AvgPool2d(Tensor.Zeros(3, 5, 7), 2).Shape);
    }

    static void Throws<T>(Func<object> act, params string[] parts) where T : Exception
    {
        var error = Assert.ThrowsAny<T>(act);
        foreach (var part in parts) Assert.Contains(part, error.Message);
    }

    [Fact]
    public void WrongRank() => Throws<ArgumentException>(() => F.MaxPool2d(Tensor.Zeros(4, 4), 2), "MaxPool2d", "[4, 4]");

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void KernelLargerThanInput(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        Throws<ArgumentException>(() => F.MaxPool2d(Tensor.Zeros(1, 1, 5, 5), 7), "MaxPool2d", "[1, 1, 5, 5]", "(7, 7)", "0×0");
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void PaddingOverHalfTheKernel(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        Throws<ArgumentException>(() => F.AvgPool2d(Tensor.Zeros(1, 1, 5, 5), 2, padding: 2), "AvgPool2d", "padding (2, 2)", "kernelSize (2, 2)");
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void NonPositiveKernelStrideDilation(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Tensor.Zeros(1, 1, 5, 5);
        Throws<ArgumentException>(() => F.MaxPool2d(x, 0), "MaxPool2d", "kernelSize");
        Throws<ArgumentException>(() => F.MaxPool2d(x, 2, stride: (1, 0)), "MaxPool2d", "stride");
        Throws<ArgumentException>(() => F.MaxPool2d(x, 2, dilation: 0), "MaxPool2d", "dilation");
        Throws<ArgumentException>(() => F.MaxPool2d(x, 2, padding: -1), "MaxPool2d", "padding");
    }

    [Fact]
    public void ZeroDivisor() => Throws<ArgumentException>(() => F.AvgPool2d(Tensor.Zeros(1, 1, 4, 4), 2, divisorOverride: 0), "AvgPool2d", "divisorOverride");

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void AdaptiveBadArguments(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        Throws<ArgumentException>(() => F.AdaptiveAvgPool2d(Tensor.Zeros(1, 1, 4, 4), (0, 2)), "AdaptiveAvgPool2d", "outputSize");
        Throws<ArgumentException>(() => F.AdaptiveAvgPool2d(Tensor.Zeros(2, 3, 0, 4), 1), "AdaptiveAvgPool2d", "[2, 3, 0, 4]");
    }
}
