using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Tests.Detection;

/// <summary>
/// The vectorised NMS against its plain twin (<see cref="BoxOpsReference"/>) on random inputs: odd counts around the
/// vector width, boxes on a coarse grid (equal boxes, IoUs exactly at the threshold, tied scores), zero-area boxes,
/// several classes, and 10,000 boxes. The IoU against a float64 direct loop.
/// </summary>
public class NmsKernelTests
{
    public static TheoryData<int, bool, int> Inputs() => new()
    {
        { 1, false, 1 }, { 2, true, 1 }, { 7, true, 2 }, { 8, false, 1 }, { 9, true, 3 }, { 15, false, 2 }, { 16, true, 1 },
        { 17, true, 4 }, { 33, false, 3 }, { 100, true, 5 }, { 1000, false, 7 }, { 1000, true, 7 }, { 10_000, false, 20 },
        { 10_000, true, 20 },
    };

    [Theory]
    [MemberData(nameof(Inputs))]
    public void FastPathEqualsPlainTwin(int n, bool grid, int classCount)
    {
        var random = new Random(n * 31 + (grid ? 1 : 0));
        var (boxes, scores) = RandomBoxes(random, n, grid);
        var classes = Enumerable.Range(0, n).Select(_ => random.Next(classCount)).ToArray();
        foreach (double threshold in new[] { 0.0, 0.25, 0.3, 0.5, 0.7, 1.0 })
        {
            Assert.Equal(BoxOpsReference.Nms(boxes, scores, threshold), BoxOps.Nms(boxes, scores, threshold));
            Assert.Equal(BoxOpsReference.BatchedNms(boxes, scores, classes, threshold), BoxOps.BatchedNms(boxes, scores, classes, threshold));
        }
    }

    [Fact]
    public void KeptIndicesAreByDecreasingScoreAndNoKeptPairOverlapsAboveTheThreshold()
    {
        var random = new Random(7);
        var (boxes, scores) = RandomBoxes(random, 2000, grid: true);
        var kept = BoxOps.Nms(boxes, scores, 0.4);
        for (int k = 1; k < kept.Length; k++)
            Assert.True(scores[kept[k - 1]] > scores[kept[k]] || (scores[kept[k - 1]] == scores[kept[k]] && kept[k - 1] < kept[k]));
        foreach (int i in kept)
            foreach (int j in kept)
                if (i != j) Assert.True(BoxOps.Iou(boxes.AsSpan(4 * i, 4), boxes.AsSpan(4 * j, 4)) <= 0.4);
    }

    [Fact]
    public void IouMatchesAFloat64DirectLoop()
    {
        var random = new Random(11);
        var (a, _) = RandomBoxes(random, 37, grid: false);
        var (b, _) = RandomBoxes(random, 29, grid: true);
        var iou = BoxOps.BoxIou(Tensor.FromArray(a, 37, 4), Tensor.FromArray(b, 29, 4)).ToArray();
        var giou = BoxOps.GeneralizedBoxIou(Tensor.FromArray(a, 37, 4), Tensor.FromArray(b, 29, 4)).ToArray();
        for (int i = 0; i < 37; i++)
            for (int j = 0; j < 29; j++)
            {
                double[] p = [a[4 * i], a[4 * i + 1], a[4 * i + 2], a[4 * i + 3]], q = [b[4 * j], b[4 * j + 1], b[4 * j + 2], b[4 * j + 3]];
                double inter = Math.Max(0, Math.Min(p[2], q[2]) - Math.Max(p[0], q[0])) * Math.Max(0, Math.Min(p[3], q[3]) - Math.Max(p[1], q[1]));
                double union = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - inter;
                double enclosing = (Math.Max(p[2], q[2]) - Math.Min(p[0], q[0])) * (Math.Max(p[3], q[3]) - Math.Min(p[1], q[1]));
                double expected = union > 0 ? inter / union : 0;
                double expectedG = enclosing > 0 ? expected - (enclosing - union) / enclosing : expected;
                Assert.True(Math.Abs(iou[i * 29 + j] - expected) <= 1e-5, $"IoU[{i}, {j}] = {iou[i * 29 + j]}, expected {expected}");
                Assert.True(Math.Abs(giou[i * 29 + j] - expectedG) <= 1e-5, $"GIoU[{i}, {j}] = {giou[i * 29 + j]}, expected {expectedG}");
            }
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(1.0 / 3)]
    [InlineData(0.7)]
    [InlineData(0.0)]
    public void FloatThresholdComparesLikeFloat64(double threshold)
    {
        float t = BoxOps.FloatThreshold(threshold);
        float near = (float)threshold;
        foreach (float x in new[] { MathF.BitDecrement(MathF.BitDecrement(near)), MathF.BitDecrement(near), near, MathF.BitIncrement(near), MathF.BitIncrement(MathF.BitIncrement(near)) })
            Assert.Equal((double)x > threshold, x > t);
    }

    /// <summary>n xyxy boxes in a 200×200 area, up to 80 wide; on a grid of 8 pixels with scores in tenths (equal boxes,
    /// exact IoU ratios, tied scores), or continuous; one box in ten has zero width or height.</summary>
    static (float[] Boxes, float[] Scores) RandomBoxes(Random random, int n, bool grid)
    {
        var boxes = new float[4 * n];
        var scores = new float[n];
        float Coordinate(float max) => grid ? 8 * random.Next((int)(max / 8) + 1) : random.NextSingle() * max;
        for (int i = 0; i < n; i++)
        {
            float x1 = Coordinate(200), y1 = Coordinate(200), w = Coordinate(80), h = Coordinate(80);
            if (random.Next(10) == 0) { if (random.Next(2) == 0) w = 0; else h = 0; }
            (boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]) = (x1, y1, x1 + w, y1 + h);
            scores[i] = grid ? random.Next(11) / 10f : random.NextSingle();
        }
        return (boxes, scores);
    }
}
