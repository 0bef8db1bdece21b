using System.Text.Json;
using ConvKit.Data;
using ConvKit.Tests;
using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Tests.Detection;

/// <summary>
/// Box conversion, IoU, GIoU, NMS and batched NMS against torchvision (tools/fixtures/gen_boxes.py): ties in score,
/// IoU exactly at the threshold, degenerate and identical boxes, several classes and 10,000-box inputs made by an
/// integer formula reproduced here.
/// </summary>
public class BoxFixtureTests
{
    // Same float32 formula in the same order as torchvision: the values agree to the last bit in practice; the
    // tolerance only absorbs the 9-digit decimal round trip of the fixture.
    const double Rtol = 1e-6, Atol = 1e-7;

    static readonly JsonElement Root = Fixtures.Load("boxes.json");

    public static TheoryData<int, string> Cases() => Fixtures.Cases(Root);

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTorchvision(int index, string op)
    {
        var c = Root.GetProperty("cases")[index];
        string what = $"{op} #{index} ({c.GetProperty("name").GetString()})";
        switch (op)
        {
            case "convert":
            {
                var input = Boxes(c.GetProperty("input"));
                var output = BoxOps.Convert(input, Format(c.GetProperty("from")), Format(c.GetProperty("to")));
                Close.All(Values(c.GetProperty("output")), output.ToArray(), Rtol, Atol, what);
                break;
            }
            case "iou":
            {
                var (a, b) = (Boxes(c.GetProperty("a")), Boxes(c.GetProperty("b")));
                var iou = BoxOps.BoxIou(a, b);
                var giou = BoxOps.GeneralizedBoxIou(a, b);
                Assert.Equal([a.Size(0), b.Size(0)], iou.Shape);
                Assert.Equal([a.Size(0), b.Size(0)], giou.Shape);
                var expectedIou = Values(c.GetProperty("iou"));
                var expectedGiou = Values(c.GetProperty("giou"));
                var (boxesA, boxesB) = (a.ToArray(), b.ToArray());
                for (int k = 0; k < expectedIou.Length; k++)
                {
                    if (!double.IsNaN(expectedIou[k])) continue;
                    // torchvision's 0/0 for two zero-area boxes: ConvKit's IoU is 0, and GIoU is 0 when the enclosing
                    // box has no area either, −1 otherwise (0 − (C − 0) / C).
                    var boxA = boxesA.AsSpan(4 * (k / b.Size(0)), 4);
                    var boxB = boxesB.AsSpan(4 * (k % b.Size(0)), 4);
                    float enclosing = (MathF.Max(boxA[2], boxB[2]) - MathF.Min(boxA[0], boxB[0])) * (MathF.Max(boxA[3], boxB[3]) - MathF.Min(boxA[1], boxB[1]));
                    expectedIou[k] = 0;
                    expectedGiou[k] = enclosing > 0 ? -1 : 0;
                }
                Close.All(expectedIou, iou.ToArray(), Rtol, Atol, what + " IoU");
                Close.All(expectedGiou, giou.ToArray(), Rtol, Atol, what + " GIoU");
                break;
            }
            case "nms" or "batched_nms":
            {
                var boxes = Boxes(c.GetProperty("boxes"));
                var scores = Tensor.FromArray(Values(c.GetProperty("scores")).Select(v => (float)v).ToArray());
                var classes = op == "nms" ? null : Fixtures.Ints(c.GetProperty("classes"));
                var thresholds = Fixtures.Doubles(c.GetProperty("thresholds"));
                for (int t = 0; t < thresholds.Length; t++)
                {
                    var expected = Fixtures.Ints(c.GetProperty("keep")[t]);
                    var kept = classes == null ? BoxOps.Nms(boxes, scores, thresholds[t]) : BoxOps.BatchedNms(boxes, scores, classes, thresholds[t]);
                    Assert.True(expected.SequenceEqual(kept), $"{what} at threshold {thresholds[t]}: kept [{string.Join(", ", kept)}], torchvision [{string.Join(", ", expected)}]");
                    var reference = classes == null ? BoxOpsReference.Nms(boxes.ToArray(), scores.ToArray(), thresholds[t])
                        : BoxOpsReference.BatchedNms(boxes.ToArray(), scores.ToArray(), classes, thresholds[t]);
                    Assert.Equal(expected, reference);
                }
                break;
            }
            case "formula":
            {
                var (boxes, scores, classes) = Formula(c.GetProperty("n").GetInt32(), c.GetProperty("tied").GetBoolean());
                double threshold = c.GetProperty("threshold").GetDouble();
                var kept = BoxOps.Nms(boxes, scores, threshold);
                Assert.True(Fixtures.Ints(c.GetProperty("keep")).SequenceEqual(kept), $"{what}: NMS differs from torchvision");
                Assert.Equal(kept, BoxOpsReference.Nms(boxes, scores, threshold));
                var batched = BoxOps.BatchedNms(boxes, scores, classes, threshold);
                var expected = Fixtures.Ints(c.GetProperty("batchedKeep"));
                // Above 1,000 boxes torchvision merges the classes' results with an unstable sort, so equal scores
                // come out in an unspecified order (ConvKit's: increasing index). Same boxes kept, and the same
                // score at every position.
                Assert.True(expected.Order().SequenceEqual(batched.Order()), $"{what}: batched NMS keeps other boxes than torchvision");
                Assert.True(expected.Select(i => scores[i]).SequenceEqual(batched.Select(i => scores[i])), $"{what}: batched NMS orders the scores differently");
                Assert.Equal(batched, BoxOpsReference.BatchedNms(boxes, scores, classes, threshold));
                break;
            }
            default:
                throw new InvalidDataException($"unknown fixture op {op}");
        }
    }

    /// <summary>gen_boxes.py's formula: integer boxes 8 to 68 pixels wide in a 360×350 area, scores k/10007 (distinct) or k/101 (tied),
    /// seven classes.</summary>
    internal static (float[] Boxes, float[] Scores, int[] Classes) Formula(int n, bool tied)
    {
        var boxes = new float[4 * n];
        var scores = new float[n];
        var classes = new int[n];
        for (int i = 0; i < n; i++)
        {
            int x1 = (i * 37 + 11) % 293, y1 = (i * 53 + 7) % 283, w = 8 + i * 29 % 61, h = 8 + i * 31 % 59;
            (boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]) = (x1, y1, x1 + w, y1 + h);
            scores[i] = tied ? (float)(i * 7919 % 101 / 101.0) : (float)(i * 7919 % 10007 / 10007.0);
            classes[i] = i * 13 % 7;
        }
        return (boxes, scores, classes);
    }

    static BoxFormat Format(JsonElement name) => name.GetString() switch
    {
        "xyxy" => BoxFormat.Xyxy,
        "xywh" => BoxFormat.Xywh,
        "cxcywh" => BoxFormat.Cxcywh,
        var other => throw new InvalidDataException($"unknown box format {other}"),
    };

    /// <summary>Numbers with null for torchvision's NaN.</summary>
    static double[] Values(JsonElement array) =>
        array.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? double.NaN : v.GetDouble()).ToArray();

    static Tensor Boxes(JsonElement array)
    {
        var values = Values(array).Select(v => (float)v).ToArray();
        return Tensor.FromArray(values, values.Length / 4, 4);
    }
}
