using ConvKit.Ops;

namespace ConvKit.Tests.Ops;

/// <summary>
/// RoI pooling's edge cases beyond the torchvision fixture: bad feature maps, boxes and settings fail with the op's
/// name and the shapes or values at fault; boxes of zero size and no boxes at all work; boxes get no gradient.
/// </summary>
public class RoiTests
{
    // Made on each use, so it lives on the backend the test runs on.
    static Tensor Map => Tensor.Rand([2, 3, 5, 7], seed: 5);

    public static TheoryData<string> Ops() => new() { "RoiPool", "RoiAlign" };

    static Tensor Apply(string op, Tensor input, Tensor boxes, Size2? size = null, float scale = 1f) => op == "RoiPool"
        ? F.RoiPool(input, boxes, size ?? 2, scale)
        : F.RoiAlign(input, boxes, size ?? 2, scale, samplingRatio: 2, aligned: true);

    static Tensor Apply(string op, Tensor input, Tensor[] boxes) => op == "RoiPool"
        ? F.RoiPool(input, boxes, 2)
        : F.RoiAlign(input, boxes, 2, aligned: true);

    static Tensor Rows(params float[][] rows) => Tensor.FromArray(rows.SelectMany(r => r).ToArray(), rows.Length, rows[0].Length);

    static void AssertError(Func<object> act, params string[] parts)
    {
        var error = Assert.ThrowsAny<ArgumentException>(act);
        foreach (var part in parts) Assert.Contains(part, error.Message);
    }

    [Theory, MemberData(nameof(Ops))]
    public void RejectsAFeatureMapThatIsNotNchw(string op) =>
        AssertError(() => Apply(op, Tensor.Rand([3, 5, 7], seed: 1), Rows([0, 1, 1, 2, 2])), op + ":", "(N, C, H, W)", "[3, 5, 7]");

    [Theory, MemberData(nameof(Ops))]
    public void RejectsBoxesThatAreNotKBy5(string op) =>
        AssertError(() => Apply(op, Map, Rows([1, 1, 2, 2])), op + ":", "(K, 5)", "[1, 4]");

    [Theory, MemberData(nameof(Ops))]
    public void RejectsAListEntryThatIsNotLBy4(string op) =>
        AssertError(() => Apply(op, Map, [Rows([1, 1, 2, 2]), Rows([0, 1, 1, 2, 2])]), op + ":", "boxes[1]", "[1, 5]");

    [Theory, MemberData(nameof(Ops))]
    public void RejectsMoreListsThanPictures(string op) =>
        AssertError(() => Apply(op, Map, [Rows([1, 1, 2, 2]), Rows([1, 1, 2, 2]), Rows([1, 1, 2, 2])]), op + ":", "3 pictures", "[2, 3, 5, 7]");

    [Theory, MemberData(nameof(Ops))]
    public void RejectsABatchIndexOutOfRange(string op)
    {
        AssertError(() => Apply(op, Map, Rows([0, 1, 1, 2, 2], [2, 1, 1, 2, 2])), op + ":", "box 1", "batch index 2", "[2, 3, 5, 7]");
        AssertError(() => Apply(op, Map, Rows([-1, 1, 1, 2, 2])), op + ":", "box 0", "batch index -1");
        AssertError(() => Apply(op, Map, Rows([0.5f, 1, 1, 2, 2])), op + ":", "batch index 0.5");
    }

    [Theory, MemberData(nameof(Ops))]
    public void RejectsCoordinatesThatAreNotFinite(string op)
    {
        AssertError(() => Apply(op, Map, Rows([0, 1, float.NaN, 2, 2])), op + ":", "box 0", "NaN", "not finite");
        AssertError(() => Apply(op, Map, [Rows([1, 1, 2, float.PositiveInfinity])]), op + ":", "boxes[0] row 0", "not finite");
    }

    [Theory, MemberData(nameof(Ops))]
    public void RejectsInvertedBoxes(string op)
    {
        AssertError(() => Apply(op, Map, Rows([0, 1, 1, 2, 2], [1, 3, 1, 2, 2])), op + ":", "box 1", "[3, 1, 2, 2]", "x2 < x1");
        AssertError(() => Apply(op, Map, Rows([0, 1, 3, 2, 2])), op + ":", "box 0", "y2 < y1");
    }

    [Theory, MemberData(nameof(Ops))]
    public void RejectsBadSettings(string op)
    {
        AssertError(() => Apply(op, Map, Rows([0, 1, 1, 2, 2]), size: (0, 2)), op + ":", "outputSize");
        AssertError(() => Apply(op, Map, Rows([0, 1, 1, 2, 2]), scale: 0f), op + ":", "spatialScale");
        AssertError(() => Apply(op, Map, Rows([0, 1, 1, 2, 2]), scale: float.NaN), op + ":", "spatialScale");
    }

    [Theory, MemberData(nameof(Ops))]
    public void NoBoxesGiveAnEmptyOutputAndAZeroGradient(string op)
    {
        var input = Map.Clone().RequireGrad();
        var y = Apply(op, input, Tensor.Zeros(0, 5), size: (3, 4));
        Assert.Equal([0, 3, 3, 4], y.Shape);
        y.Sum().Backward();
        Assert.All(input.Grad!.ToArray(), g => Assert.Equal(0f, g));
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void ZeroSizeBoxes(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        // A point box: roi_pool pools the one cell it rounds to; unaligned RoIAlign widens it to a 1×1 cell around
        // the point; aligned RoIAlign has no samples in it and gives 0, as torchvision.
        var point = Rows([1, 3, 2, 3, 2]);
        Assert.Equal(Map[1, 0, 2, 3], F.RoiPool(Map, point, 1)[0, 0, 0, 0]);
        float expected = (Map[1, 0, 2, 3] + Map[1, 0, 2, 4] + Map[1, 0, 3, 3] + Map[1, 0, 3, 4]) / 4;
        Assert.Equal(expected, F.RoiAlign(Map, point, 1)[0, 0, 0, 0], 6);
        Assert.Equal(0f, F.RoiAlign(Map, point, 1, aligned: true)[0, 0, 0, 0]);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void BoxesGetNoGradient(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var input = Map.Clone().RequireGrad();
        var boxes = Rows([0, 1, 1, 4, 3]).RequireGrad();
        F.RoiAlign(input, boxes, 2).Sum().Backward();
        Assert.Null(boxes.Grad);
        Assert.NotNull(input.Grad);
    }

    [Theory, MemberData(nameof(Ops))]
    public void BackwardRefusesBoxesOverwrittenAfterTheForwardPass(string op)
    {
        var input = Map.Clone().RequireGrad();
        var boxes = Rows([0, 1, 1, 4, 3]);
        var y = Apply(op, input, boxes);
        boxes.CopyFrom(Rows([1, 0, 0, 2, 2]));
        var error = Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
        Assert.Contains($"input 1 of {op}", error.Message);
    }
}
