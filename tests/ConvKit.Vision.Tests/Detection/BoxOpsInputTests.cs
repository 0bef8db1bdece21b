using ConvKit.Data;
using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Tests.Detection;

/// <summary>Bad input to the box operations: clear errors naming the op, and empty inputs giving empty results.</summary>
public class BoxOpsInputTests
{
    static readonly Tensor TwoBoxes = Tensor.FromArray([0, 0, 10, 10, 5, 5, 15, 15], 2, 4);
    static readonly Tensor TwoScores = Tensor.FromArray([0.9f, 0.8f]);

    [Fact]
    public void ShapesOtherThanNBy4AreErrorsNamingTheOpAndShape()
    {
        var wrong = Tensor.FromArray(new float[6], 2, 3);
        Assert.Contains("BoxIou: a must be (N, 4) xyxy pixels, not shape [2, 3]", Assert.Throws<ArgumentException>(() => BoxOps.BoxIou(wrong, TwoBoxes)).Message);
        Assert.Contains("GeneralizedBoxIou: b must be (N, 4)", Assert.Throws<ArgumentException>(() => BoxOps.GeneralizedBoxIou(TwoBoxes, Tensor.FromArray(new float[8]))).Message);
        Assert.Contains("Nms: boxes must be (N, 4) xyxy pixels, not shape [2, 3]", Assert.Throws<ArgumentException>(() => BoxOps.Nms(wrong, TwoScores, 0.5)).Message);
        Assert.Contains("Convert: boxes must be (N, 4)", Assert.Throws<ArgumentException>(() => BoxOps.Convert(wrong, BoxFormat.Xywh, BoxFormat.Xyxy)).Message);
        Assert.Contains("Nms: scores must be (2), one per box, not shape [3]", Assert.Throws<ArgumentException>(() => BoxOps.Nms(TwoBoxes, Tensor.FromArray([1f, 2f, 3f]), 0.5)).Message);
        Assert.Contains("Nms: boxes holds 6 numbers", Assert.Throws<ArgumentException>(() => BoxOps.Nms(new float[6], new float[1], 0.5)).Message);
        Assert.Contains("BatchedNms: 1 class indices for 2 boxes", Assert.Throws<ArgumentException>(() => BoxOps.BatchedNms(TwoBoxes, TwoScores, [0], 0.5)).Message);
    }

    [Fact]
    public void BoxesWithX2BelowX1AreErrors()
    {
        var flipped = Tensor.FromArray([0, 0, 10, 10, 15, 5, 5, 15], 2, 4);
        var message = Assert.Throws<ArgumentException>(() => BoxOps.Nms(flipped, TwoScores, 0.5)).Message;
        Assert.Contains("Nms: box 1 of boxes is (15, 5, 5, 15)", message);
        Assert.Contains("x2 < x1", message);
        Assert.Contains("BoxIou: box 1 of b", Assert.Throws<ArgumentException>(() => BoxOps.BoxIou(TwoBoxes, flipped)).Message);
        var upsideDown = Tensor.FromArray([0, 10, 10, 0], 1, 4);
        Assert.Contains("y2 < y1", Assert.Throws<ArgumentException>(() => BoxOps.GeneralizedBoxIou(upsideDown, TwoBoxes)).Message);
    }

    [Fact]
    public void NaNScoresCoordinatesAndThresholdsAreErrors()
    {
        Assert.Contains("Nms: score 1 is NaN", Assert.Throws<ArgumentException>(() => BoxOps.Nms(TwoBoxes, Tensor.FromArray([0.5f, float.NaN]), 0.5)).Message);
        Assert.Contains("BatchedNms: score 0 is NaN", Assert.Throws<ArgumentException>(() => BoxOps.BatchedNms(TwoBoxes, Tensor.FromArray([float.NaN, 0.5f]), [0, 1], 0.5)).Message);
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => BoxOps.BoxIou(Tensor.FromArray([0, 0, float.NaN, 1], 1, 4), TwoBoxes)).Message);
        Assert.Contains("Nms: the IoU threshold", Assert.Throws<ArgumentOutOfRangeException>(() => BoxOps.Nms(TwoBoxes, TwoScores, double.NaN)).Message);
        Assert.Contains("BatchedNms: the IoU threshold", Assert.Throws<ArgumentOutOfRangeException>(() => BoxOps.BatchedNms(TwoBoxes, TwoScores, [0, 0], -0.1)).Message);
    }

    [Fact]
    public void EmptyInputsGiveEmptyResults()
    {
        var none = Tensor.FromArray([], 0, 4);
        Assert.Empty(BoxOps.Nms(none, Tensor.FromArray([]), 0.5));
        Assert.Empty(BoxOps.BatchedNms(none, Tensor.FromArray([]), [], 0.5));
        Assert.Empty(BoxOps.Nms([], [], 0.5));
        Assert.Equal([0, 2], BoxOps.BoxIou(none, TwoBoxes).Shape);
        Assert.Equal([2, 0], BoxOps.GeneralizedBoxIou(TwoBoxes, none).Shape);
        Assert.Equal([0, 4], BoxOps.Convert(none, BoxFormat.Cxcywh, BoxFormat.Xyxy).Shape);
    }

    [Fact]
    public void ZeroAreaBoxesHaveIouZeroNeverNaN()
    {
        var points = Tensor.FromArray([3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 4], 3, 4);
        Assert.All(BoxOps.BoxIou(points, points).ToArray(), v => Assert.Equal(0f, v));
        Assert.All(BoxOps.GeneralizedBoxIou(points, points).ToArray(), v => Assert.False(float.IsNaN(v)));
        Assert.Equal([0, 1, 2], BoxOps.Nms(points, Tensor.FromArray([0.9f, 0.8f, 0.7f]), 0.0));
    }
}
