using System.Text.Json;
using ConvKit.Data;
using ConvKit.Tests;
using ConvKit.Tests.Autograd;
using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Tests.Detection;

/// <summary>
/// YOLO v2's target assignment, loss terms, gradient and decoding against the torch twin of YOLO_SPEC
/// (tools/fixtures/gen_yolo.py): two ground truths sharing a cell and anchor (the later wins), centres exactly on cell
/// edges and at the picture's edge, a prediction ignored for overlapping a ground truth it is not responsible for, a
/// tw beyond the clamp, and a picture without boxes.
/// </summary>
public class YoloFixtureTests
{
    static readonly JsonElement Root = Fixtures.Load("yolo.json");

    public static TheoryData<int> Cases() => [.. Enumerable.Range(0, Root.GetProperty("cases").GetArrayLength())];

    sealed record Case(string Name, Tensor Output, Tensor Anchors, int Stride, BoundingBoxes[] Boxes, JsonElement Json);

    static Case Load(int index)
    {
        var c = Root.GetProperty("cases")[index];
        var output = Fixtures.Tensor(c.GetProperty("output"));
        int canvas = output.Shape[2] * c.GetProperty("stride").GetInt32();
        var boxes = c.GetProperty("boxes").EnumerateArray()
            .Select(b => new BoundingBoxes(Fixtures.Floats(b.GetProperty("xyxy")), Fixtures.Ints(b.GetProperty("labels")), BoxFormat.Xyxy, canvas, canvas))
            .ToArray();
        var anchors = Fixtures.Floats(c.GetProperty("anchors"));
        return new Case(c.GetProperty("name").GetString()!, output, Tensor.FromArray(anchors, anchors.Length / 2, 2), c.GetProperty("stride").GetInt32(), boxes, c);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheTargetsMatchTorch(int index)
    {
        var c = Load(index);
        var grid = YoloGrid.Of("test", c.Output, c.Anchors, c.Stride);
        var truths = c.Boxes.Select(b => (b.Coordinates.ToArray(), b.Labels.ToArray())).ToArray();
        var targets = YoloTargets.Assign(grid, truths, c.Anchors.ToArray());
        var responsible = Enumerable.Range(0, grid.Positions).Where(p => targets.Responsible[p]).ToArray();
        Assert.Equal(Fixtures.Ints(c.Json.GetProperty("responsible")), responsible);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheLossTermsAndTheGradientMatchTorch(int index)
    {
        var c = Load(index);
        var output = c.Output.Detach();
        output.RequiresGrad = true;
        var terms = new YoloLoss().Compute(output, c.Anchors, c.Stride, c.Boxes);
        foreach (var (name, value) in new[] { ("box_loss", terms.BoxLoss), ("obj_loss", terms.ObjectLoss), ("cls_loss", terms.ClassLoss), ("loss", terms.Loss) })
            Close.All([c.Json.GetProperty(name).GetDouble()], [value.Item()], 1e-5, 1e-6, $"{c.Name}: {name}");

        terms.Loss.Backward();
        Close.All(Fixtures.Doubles(c.Json.GetProperty("grad")), output.Grad!.ToArray(), 1e-5, 1e-6, $"{c.Name}: d loss / d output");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheDecodedDetectionsMatchTorch(int index)
    {
        var c = Load(index);
        foreach (var expected in c.Json.GetProperty("decoded").EnumerateArray())
        {
            var options = new DetectionOptions((float)expected.GetProperty("score_threshold").GetDouble(),
                (float)expected.GetProperty("iou_threshold").GetDouble(), expected.GetProperty("max_detections").GetInt32());
            var pictures = YoloDecoder.Decode(c.Output, c.Anchors, c.Stride, options);
            var expectedPictures = expected.GetProperty("pictures").EnumerateArray().ToArray();
            Assert.Equal(expectedPictures.Length, pictures.Length);
            for (int n = 0; n < pictures.Length; n++)
            {
                string what = $"{c.Name}, {options}, picture {n}";
                var detections = pictures[n];
                Assert.Equal(Fixtures.Ints(expectedPictures[n].GetProperty("classes")), detections.Select(d => d.Class));
                Close.All(Fixtures.Doubles(expectedPictures[n].GetProperty("scores")), [.. detections.Select(d => d.Score)], 1e-5, 1e-7, $"{what}: scores");
                Close.All(Fixtures.Doubles(expectedPictures[n].GetProperty("boxes")), [.. detections.SelectMany(d => new[] { d.X1, d.Y1, d.X2, d.Y2 })], 1e-5, 1e-4, $"{what}: boxes");
                Assert.True(detections.Count > 0 || options.ScoreThreshold > 0.1f, $"{what}: the case should keep some boxes");
            }
        }
    }

    [Fact]
    public void TheLossGradientMatchesFiniteDifferences()
    {
        // A 2×2 grid at stride 8, two anchors, two classes; outputs small enough that no decoded box is near the 0.6
        // ignore threshold, where the loss jumps.
        var anchors = Tensor.FromArray([6f, 6, 10, 14], 2, 2);
        var boxes = new[] { new BoundingBoxes([1f, 2, 7, 9, 6, 4, 16, 16], [0, 1], BoxFormat.Xyxy, 16, 16) };
        var loss = new YoloLoss();
        GradCheck.Check(inputs => loss.Compute(inputs[0], anchors, 8, boxes).Loss, Tensor.Randn([1, 2 * 7, 2, 2], seed: 3) * 0.5f);
    }

    [Fact]
    public void BadShapesAndBoxesAreClearErrors()
    {
        var anchors = Tensor.FromArray([6f, 6, 10, 14], 2, 2);
        var loss = new YoloLoss();
        BoundingBoxes Boxes(int label, int canvas = 32) => new([1f, 2, 7, 9], [label], BoxFormat.Xyxy, canvas, canvas);

        var channels = Assert.Throws<ArgumentException>(() => YoloDecoder.Decode(Tensor.Zeros(1, 13, 2, 2), anchors, 16));
        Assert.Contains("YoloDecoder.Decode: the output must be (N, B·(5 + classes), H, W) for B = 2 anchors", channels.Message);
        Assert.Contains("[1, 13, 2, 2]", channels.Message);
        Assert.Contains("(B, 2)", Assert.Throws<ArgumentException>(() => YoloDecoder.Decode(Tensor.Zeros(1, 14, 2, 2), Tensor.Zeros(2, 3), 16)).Message);
        Assert.Contains("MaxDetections must be at least 1",
            Assert.Throws<ArgumentException>(() => YoloDecoder.Decode(Tensor.Zeros(1, 14, 2, 2), anchors, 16, new DetectionOptions(MaxDetections: 0))).Message);

        var output = Tensor.Zeros(1, 14, 2, 2);
        Assert.Contains("2 pictures' boxes for an output of 1",
            Assert.Throws<ArgumentException>(() => loss.Compute(output, anchors, 16, [Boxes(0), Boxes(0)])).Message);
        Assert.Contains("picture 0's boxes belong to a 64×64 canvas, but the output's 2×2 grid at stride 16 covers 32×32",
            Assert.Throws<ArgumentException>(() => loss.Compute(output, anchors, 16, [Boxes(0, canvas: 64)])).Message);
        Assert.Contains("picture 0 has a box of class 2, outside 0 … 1",
            Assert.Throws<ArgumentException>(() => loss.Compute(output, anchors, 16, [Boxes(2)])).Message);
    }
}
