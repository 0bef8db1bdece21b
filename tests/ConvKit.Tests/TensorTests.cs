namespace ConvKit.Tests;

public class TensorTests
{
    [Fact]
    public void CreationFunctionsFillShapeAndValues()
    {
        Assert.Equal([2, 3], Tensor.Zeros(2, 3).Shape);
        Assert.All(Tensor.Zeros(2, 3).ToArray(), v => Assert.Equal(0f, v));
        Assert.All(Tensor.Ones(4).ToArray(), v => Assert.Equal(1f, v));
        Assert.All(Tensor.Full([2, 2], 7.5f).ToArray(), v => Assert.Equal(7.5f, v));
        Assert.Equal([0f, 0.5f, 1f, 1.5f], Tensor.Arange(0, 2, 0.5f).ToArray());
        Assert.Equal([0f, 1f, 2f], Tensor.Arange(3).ToArray());
        Assert.Equal([5f, 3f], Tensor.Arange(5, 1, -2).ToArray());
        Assert.Equal(3f, Tensor.Scalar(3f).Item());
        Assert.Empty(Tensor.Scalar(3f).Shape);
    }

    [Fact]
    public void SeededRandomIsReproducibleAndPlausible()
    {
        Assert.Equal(Tensor.Randn([100], seed: 7).ToArray(), Tensor.Randn([100], seed: 7).ToArray());
        Assert.NotEqual(Tensor.Randn([100], seed: 7).ToArray(), Tensor.Randn([100], seed: 8).ToArray());
        var normal = Tensor.Randn([20000], seed: 1);
        Assert.InRange(normal.Mean().Item(), -0.03f, 0.03f);
        Assert.InRange(normal.Var().Item(), 0.95f, 1.05f);
        var uniform = Tensor.Rand([20000], seed: 1).ToArray();
        Assert.All(uniform, v => Assert.InRange(v, 0f, 1f));
        Assert.InRange(uniform.Average(), 0.49, 0.51);
    }

    [Fact]
    public void IndexerReadsAndWritesRowMajor()
    {
        var x = Tensor.Arange(24).Reshape(2, 3, 4);
        Assert.Equal(23f, x[1, 2, 3]);
        Assert.Equal(23f, x[-1, -1, -1]);
        Assert.Equal(6f, x[0, 1, 2]);
        x[0, 1, 2] = 100f;
        Assert.Equal(100f, x.ToArray()[6]);
        Assert.Throws<IndexOutOfRangeException>(() => x[2, 0, 0]);
        Assert.Throws<ArgumentException>(() => x[0, 0]);
    }

    [Fact]
    public void ReshapeIsAViewOverTheSameValues()
    {
        var x = Tensor.Arange(6);
        var y = x.View(2, -1);
        Assert.Equal([2, 3], y.Shape);
        y[1, 0] = -1f;
        Assert.Equal(-1f, x[3]);
    }

    [Fact]
    public void ToStringLooksLikePyTorch()
    {
        Assert.Equal("tensor([1.0000, 2.5000])", Tensor.FromArray([1f, 2.5f]).ToString());
        Assert.Equal("tensor([[0.0000, 1.0000],\n        [2.0000, 3.0000]], shape=[2, 2])", Tensor.Arange(4).Reshape(2, 2).ToString());
        Assert.Equal("tensor(3.0000)", Tensor.Scalar(3).ToString());
        var big = Tensor.Arange(2000).ToString();
        Assert.Contains("...", big);
        Assert.Contains("1999.0000", big);
        Assert.EndsWith("shape=[2000])", big);
    }

    [Fact]
    public void AddInPlaceUpdatesValuesWithBroadcast()
    {
        var x = Tensor.Zeros(2, 3);
        x.AddInPlace(Tensor.FromArray([1f, 2f, 3f]), alpha: -2f);
        Assert.Equal([-2f, -4f, -6f, -2f, -4f, -6f], x.ToArray());
        var parameter = Tensor.Ones(3).RequireGrad();
        parameter.AddInPlace(Tensor.Ones(3));
        Assert.Equal([2f, 2f, 2f], parameter.ToArray());
        Assert.Equal(1, parameter.Version);
    }

    [Fact]
    public void SeedsAreScrambledSoNearbySeedsAreNotShiftedCopies()
    {
        // With .NET's seeded Random, Rand(s) − Rand(s + k) (mod 1) is the same sequence for every s: the streams
        // of nearby seeds are shifted copies of each other. Scrambled seeds must break that pattern.
        static float[] ShiftModOne(int seed, int k)
        {
            var a = Tensor.Rand([64], seed).ToArray();
            var b = Tensor.Rand([64], seed + k).ToArray();
            return a.Zip(b, (x, y) => ((x - y) % 1 + 1) % 1).ToArray();
        }
        var first = ShiftModOne(0, 1000);
        var second = ShiftModOne(7, 1000);
        int same = first.Zip(second, (x, y) => Math.Abs(x - y) < 1e-4f ? 1 : 0).Sum();
        Assert.True(same < 4, $"{same} of 64 positions repeat the same shift");
    }
}
