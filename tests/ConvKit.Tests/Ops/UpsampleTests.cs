using ConvKit.Ops;

namespace ConvKit.Tests.Ops;

/// <summary>Up-sampling's structure and bad arguments; values against PyTorch are in pool.json.</summary>
public class UpsampleTests
{
    static void Throws<T>(Func<object> act, params string[] parts) where T : Exception
    {
        var error = Assert.ThrowsAny<T>(act);
        foreach (var part in parts) Assert.Contains(part, error.Message);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void NearestDoublingRepeatsEachPixelInA2x2Block(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Tensor.Randn([2, 3, 4, 5], seed: 1);
        var y = F.Upsample(x, scaleFactor: 2);
        Assert.Equal([2, 3, 8, 10], y.Shape);
        for (int h = 0; h < 8; h++)
            for (int w = 0; w < 10; w++)
                Assert.Equal(x[1, 2, h / 2, w / 2], y[1, 2, h, w]);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void BilinearWithAlignedCornersKeepsTheCorners(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Tensor.Randn([1, 1, 3, 4], seed: 2);
        var y = F.Upsample(x, size: (7, 9), mode: UpsampleMode.Bilinear, alignCorners: true);
        Assert.Equal(x[0, 0, 0, 0], y[0, 0, 0, 0]);
        Assert.Equal(x[0, 0, 2, 3], y[0, 0, 6, 8], 6);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void BadArguments(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Tensor.Zeros(1, 1, 4, 4);
        Throws<ArgumentException>(() => F.Upsample(x), "Upsample", "exactly one");
        Throws<ArgumentException>(() => F.Upsample(x, size: 8, scaleFactor: 2), "Upsample", "exactly one");
        Throws<ArgumentException>(() => F.Upsample(x, size: (0, 3)), "Upsample", "size");
        Throws<ArgumentException>(() => F.Upsample(x, scaleFactor: -1), "Upsample", "scaleFactor");
        Throws<ArgumentException>(() => F.Upsample(x, scaleFactor: 0.1f), "Upsample", "[1, 1, 4, 4]", "0×0");
        Throws<ArgumentException>(() => F.Upsample(x, scaleFactor: 2, alignCorners: true), "Upsample", "alignCorners");
        Throws<ArgumentException>(() => F.Upsample(Tensor.Zeros(1, 4, 4), scaleFactor: 2), "Upsample", "[1, 4, 4]");
    }
}
