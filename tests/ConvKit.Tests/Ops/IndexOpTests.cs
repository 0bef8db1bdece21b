using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Tests.Autograd;

namespace ConvKit.Tests.Ops;

/// <summary>Finite-difference gradients and bad inputs of the index, sort, pad and split ops.</summary>
public class IndexOpTests
{
    static Tensor Spread(params int[] shape) => Tensor.Rand(shape, seed: 7) * 4f - 2f;

    static Tensor Distinct(params int[] shape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        var values = Enumerable.Range(0, n).Select(i => (i * 7919 % n - n / 2) * 0.1f).ToArray();
        return Tensor.FromArray(values, shape);
    }

    static Tensor Indices(params float[] values) => Tensor.FromArray(values, values.Length);

    [Fact]
    public void PadGradients()
    {
        GradCheck.Check(x => F.Pad(x[0], [1, -1, 2, 0], value: 0.5f), Spread(2, 3, 4));
        GradCheck.Check(x => F.Pad(x[0], [2, 1, 1, 2], PadMode.Reflect), Spread(1, 2, 3, 4));
        GradCheck.Check(x => F.Pad(x[0], [3, 0, 0, 2], PadMode.Replicate), Spread(2, 3, 2));
    }

    [Fact]
    public void IndexGradients()
    {
        GradCheck.Check(x => F.Gather(x[0], 1, Tensor.FromArray([0, 2, 2, 1, 0, 0], 2, 3)), Spread(2, 4));
        GradCheck.Check(x => F.IndexSelect(x[0], 0, Indices(2, 0, 2)), Spread(3, 2));
        GradCheck.Check(x => F.Where(Tensor.FromArray([1, 0, 0, 1, 1, 0], 2, 3), x[0], x[1]), Spread(2, 3), Spread(1, 3));
    }

    [Fact]
    public void SortAndSplitGradients()
    {
        GradCheck.Check(x => F.Sort(x[0], 1, descending: true).Values, Distinct(3, 5));
        GradCheck.Check(x => F.TopK(x[0], 2, 0, largest: false).Values, Distinct(4, 3));
        GradCheck.Check(x => F.Stack(F.Split(x[0], [1, 3], 1).Select(p => p.Sum(1)).ToArray()) * F.Chunk(x[0], 3, 0)[1].Sum(), Spread(5, 4));
        GradCheck.Check(x => F.MaxPool2d(x[0], 2, 1, Pads2d.Same((5, 5), 2, 1)), Distinct(1, 2, 5, 5));
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void SortIsStableAndPutsNaNAboveNumbers(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Tensor.FromArray([2, float.NaN, 1, 2, float.NaN, 1], 6);
        Assert.Equal([2, 5, 0, 3, 1, 4], x.ArgSort().ToArray());
        Assert.Equal([1, 4, 0, 3, 2, 5], x.ArgSort(descending: true).ToArray());
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void SameMaxPoolKeepsTheFaceDetectorsMapSize(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Distinct(1, 4, 13, 13);
        Assert.Equal(new Pads2d(0, 0, 1, 1), Pads2d.Same((13, 13), 2, 1));
        var layer = MaxPool2d.Same(2, stride: 1);
        Assert.Equal([1, 4, 13, 13], layer.OutputShape([1, 4, 13, 13]));
        var y = layer.Forward(x);
        Assert.Equal([1, 4, 13, 13], y.Shape);
        // The last row and column see only themselves and their right/lower neighbour inside the map: padding never wins.
        Assert.Equal(x.Narrow(2, 12, 1).Narrow(3, 12, 1).ToArray(), y.Narrow(2, 12, 1).Narrow(3, 12, 1).ToArray());
        Assert.Contains("padding=same", layer.ToString());
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void SplitAndChunkFollowPyTorchSizes(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Tensor.Zeros(5, 2);
        Assert.Equal([2, 2, 1], F.Chunk(x, 4).Select(p => p.Shape[0]));
        Assert.Equal([2, 2, 1], F.Split(x, 2).Select(p => p.Shape[0]));
        Assert.Equal([5], x.Chunk(1).Select(p => p.Shape[0]));
    }

    static void Throws(Func<object> act, params string[] parts)
    {
        var error = Assert.ThrowsAny<ArgumentException>(act);
        foreach (var part in parts) Assert.Contains(part, error.Message);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void BadInputsNameTheOpAndShapes(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Tensor.Zeros(2, 3);
        Throws(() => F.Gather(x, 1, Tensor.FromArray([0, 3], 2, 1)), "Gather", "index 3", "size 3", "[2, 3]", "[2, 1]");
        Throws(() => F.Gather(x, 1, Tensor.FromArray([0, 1.5f], 2, 1)), "Gather", "1.5", "not an integer", "[2, 3]");
        Throws(() => F.Gather(x, 0, Tensor.Zeros(3)), "Gather", "[3]", "[2, 3]");
        Throws(() => F.Gather(x, 0, Tensor.Zeros(2, 4)), "Gather", "[2, 4]", "[2, 3]", "outside axis 0");
        Throws(() => F.IndexSelect(x, 0, Indices(1, -1)), "IndexSelect", "index -1", "size 2", "[2, 3]");
        Throws(() => F.IndexSelect(x, 1, Tensor.Zeros(2, 2)), "IndexSelect", "[2, 2]", "[2, 3]");
        Throws(() => F.IndexSelect(x, 2, Indices(0)), "IndexSelect", "axis 2");
        Throws(() => F.Where(Tensor.Zeros(2, 1), x, Tensor.Zeros(4)), "Where", "[2, 1]", "[2, 3]", "[4]");
        Throws(() => F.TopK(x, 4), "TopK", "k = 4", "[2, 3]");
        Throws(() => F.Sort(Tensor.Scalar(1), 0), "Sort", "rank 0");
        Throws(() => F.Pad(x, [3, 0], PadMode.Reflect), "Pad", "reflect", "(3, 0)", "size 3", "[2, 3]");
        Throws(() => F.Pad(x, [0, 0, -1, 0], PadMode.Replicate), "Pad", "negative", "[2, 3]");
        Throws(() => F.Pad(x, [-2, -2]), "Pad", "negative size", "[2, 3]");
        Throws(() => F.Pad(x, [1, 1, 1]), "Pad", "[1, 1, 1]", "[2, 3]");
        Throws(() => F.Pad(x, [1, 1, 1, 1, 1, 1]), "Pad", "[2, 3]");
        Throws(() => F.Split(x, [1, 1], 1), "Split", "[1, 1]", "[2, 3]");
        Throws(() => F.Split(x, 0, 1), "Split", "[2, 3]");
        Throws(() => F.Chunk(x, 0), "Chunk", "[2, 3]");
        Throws(() => F.MaxPool2d(Tensor.Zeros(1, 1, 4, 4), 2, 1, new Pads2d(0, 0, 2, 0)), "MaxPool2d", "bottom 2", "(2, 2)");
        Throws(() => F.MaxPool2d(Tensor.Zeros(1, 1, 4, 4), 2, 1, new Pads2d(0, -1, 0, 0)), "MaxPool2d", "left -1");
        Throws(() => F.MaxPool2d(Tensor.Zeros(4, 4), 2, 1, new Pads2d(0, 0, 1, 1)), "MaxPool2d", "[4, 4]");
    }
}
