using System.Globalization;
using System.Text.Json;
using ConvKit.NN;
using ConvKit.Training;
using ConvKit.Vision.Detection;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Models;
using SkiaSharp;

namespace ConvKit.Onnx.Tests;

/// <summary>
/// <c>convkit onnx run</c> on detectors and on graphs with several outputs: torchvision's detection graphs (the small
/// SSD and Faster R-CNN fixtures of <see cref="DetectionGraphTests"/>) give their own boxes above the threshold, mapped
/// back onto the picture and drawn as <c>convkit detect</c> draws them; a YOLO export finds what <c>convkit detect</c>
/// finds on its checkpoint; a segmentation graph's 'out' map is used beside its 'aux'.
/// </summary>
public sealed class CliDetectionTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-onnx-detect-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    string PathOf(string name) => Path.Combine(directory, name);

    static JsonElement Json(params string[] args)
    {
        var (code, output, error) = CliTests.Cli([.. args, "--json"]);
        Assert.True(code == 0, error);
        return JsonDocument.Parse(output).RootElement;
    }

    /// <summary>
    /// <paramref name="model"/> saved as a detection checkpoint (three classes, grey <paramref name="size"/>² pictures,
    /// mean 0.3, std 0.4) and exported by <c>convkit export</c>: the checkpoint's and the ONNX file's paths.
    /// </summary>
    (string Checkpoint, string File) SavedAndExported(string name, Module model, int size)
    {
        var card = new ModelCard
        {
            Model = name, Arguments = new ModelArguments(1, 3), Classes = ["shirt", "shoe", "bag"], Dataset = "fashion-scenes", Task = ModelCard.Detection,
            Preprocessing = new ImagePreprocessing { InputShape = [1, size, size], Mean = [0.3f], Std = [0.4f] },
        };
        string checkpoint = PathOf(name + ".safetensors"), file = PathOf(name + ".onnx");
        new Checkpoint { ModelState = model.StateDict(), Options = new TrainingOptions(), Metadata = card.ToMetadata() }.Save(checkpoint);
        Assert.Equal(0, CliTests.Cli("export", name, "--checkpoint", checkpoint, "-o", file).Code);
        return (checkpoint, file);
    }

    static DetectedObject[] Detections(JsonElement result) => result.GetProperty("detections").EnumerateArray().Select(d =>
    {
        var box = d.GetProperty("box").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        return new DetectedObject(d.GetProperty("class_index").GetInt32(), d.GetProperty("score").GetSingle(), box[0], box[1], box[2], box[3]);
    }).ToArray();

    /// <summary>
    /// The graph's outputs (boxes, scores, labels — Faster R-CNN's in another order) on the picture resized to the
    /// graph's 3×40×56 input, kept from the threshold and stretched back to the 80×112 picture; classes named by
    /// --labels; the drawing is <see cref="DetectionOverlay"/>'s, pixel for pixel, each box outlined in its class's colour.
    /// </summary>
    [Theory]
    [InlineData("ssd.opset13")]
    [InlineData("fasterrcnn.opset17")]
    public void ATorchvisionDetectionGraphGivesItsBoxesAboveTheThresholdAndDrawsThem(string fixture)
    {
        string model = Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture + ".onnx"), picture = PathOf("street.png"), labels = PathOf("labels.txt");
        ImageFiles.SavePng(Tensor.Rand([3, 80, 112], seed: 21), picture);
        string[] names = ["background", "cat", "dog", "bird", "fish"];
        File.WriteAllLines(labels, names);

        // The graph itself on the picture as the command prepares it (resized to the declared input, values in [0, 1]).
        var graph = OnnxModel.Load(model, new OnnxImportOptions { FoldBatchNorm = true });
        IReadOnlyDictionary<string, Tensor> outputs;
        using (Tensor.NoGrad()) outputs = graph.Run(new Dictionary<string, Tensor> { ["images"] = ImageFiles.Load(picture, 3, new Size2(40, 56)) });
        float[] boxes = outputs["boxes"].ToArray(), scores = outputs["scores"].ToArray(), classes = outputs["labels"].ToArray();
        // A threshold between the scores, so that some boxes are kept and some dropped.
        float threshold = scores.Average();
        var expected = Enumerable.Range(0, scores.Length).Where(k => scores[k] >= threshold)
            .Select(k => new DetectedObject((int)classes[k], scores[k], boxes[4 * k] * 2, boxes[4 * k + 1] * 2, boxes[4 * k + 2] * 2, boxes[4 * k + 3] * 2)).ToArray();
        Assert.InRange(expected.Length, 2, scores.Length - 1);

        string folder = PathOf("found");
        var json = Json("onnx", "run", model, picture, "--labels", labels, "--score-threshold", threshold.ToString("R", CultureInfo.InvariantCulture), "-o", folder);
        Assert.Equal("detections", json.GetProperty("kind").GetString());
        var result = json.GetProperty("results")[0];
        var found = Detections(result);
        Assert.Equal(expected.Select(d => d.Class), found.Select(d => d.Class));
        Assert.Equal(expected.Select(d => names[d.Class]), result.GetProperty("detections").EnumerateArray().Select(d => d.GetProperty("class").GetString()));
        foreach (var (e, a) in expected.Zip(found))
        {
            Assert.Equal(e.Score, a.Score, 5);
            Assert.Equal([e.X1, e.Y1, e.X2, e.Y2], [a.X1, a.Y1, a.X2, a.Y2], (x, y) => Math.Abs(x - y) < 1e-3);
        }

        // Drawn on the picture itself, exactly as DetectionOverlay draws the expected boxes; the best box's left edge in its class's colour.
        string drawing = result.GetProperty("picture").GetString()!;
        Assert.Equal(Path.Combine(folder, "street-detections.png"), drawing);
        using var written = SKBitmap.Decode(drawing);
        using var drawn = DetectionOverlay.Draw(ImageFiles.Load(picture, 3), found, names);
        Assert.Equal((drawn.Width, drawn.Height), (written.Width, written.Height));
        Assert.Equal(drawn.Pixels, written.Pixels);
        var best = found.MaxBy(d => d.Score)!;
        int scale = DetectionOverlay.ScaleFor(80, 112);
        var edge = written.GetPixel((int)MathF.Ceiling(best.X1 * scale), (int)((best.Y1 + best.Y2) / 2 * scale));
        Assert.Equal(DetectionOverlay.ColourOf(best.Class), edge);

        // The table names the outputs and the classes.
        var (code, table, error) = CliTests.Cli("onnx", "run", model, picture, "--labels", labels, "--score", threshold.ToString("R", CultureInfo.InvariantCulture));
        Assert.True(code == 0, error);
        Assert.Contains("outputs 'boxes' (boxes), 'scores' (scores), 'labels' (labels)", table);
        Assert.Contains($"{names[best.Class]} ({best.Class})", table);
        Assert.Contains(best.Score.ToString("F3", CultureInfo.InvariantCulture), table);
    }

    /// <summary>
    /// A yolo-small checkpoint exported by <c>convkit export</c>: <c>onnx run</c> decodes the raw grid with the anchors
    /// and stride in the file and finds what <c>convkit detect</c> finds with the checkpoint on the same picture (of
    /// another size than the input, so both letterbox it) — by default, at detect's own threshold, and at a lower one.
    /// </summary>
    [Fact]
    public void AYoloExportFindsWhatDetectFinds()
    {
        YoloV2 model;
        using (Generator.Use(new Generator(3))) model = (YoloV2)ModelZoo.Create("yolo-small", 1, 3);
        model.SetAnchors([(11.5f, 20.25f), (30.1f, 14.7f), (40f, 41.3f), (63.9f, 29.05f), (17.77f, 66.6f)]);
        // An untrained model, made decisive: the head's outputs spread far apart (objectness no longer at its 1 % prior),
        // so that the picture has objects and no near-tie of scores or overlaps can fall differently in the two engines.
        var head = model.StateDict();
        head["head.weight"].CopyFrom(head["head.weight"] * 500f);
        head["head.bias"].CopyFrom(head["head.bias"] * 0f);
        var (checkpoint, file) = SavedAndExported("yolo-small", model, 64);
        string picture = PathOf("scene.png");
        ImageFiles.SavePng(Tensor.Rand([3, 50, 70], seed: 8), picture);

        foreach (string[] threshold in new[] { Array.Empty<string>(), ["--score", "0.1"] })
        {
            var byDetect = Json(["detect", checkpoint, picture, "-o", PathOf("detect"), .. threshold]);
            var byOnnx = Json(["onnx", "run", file, picture, "-o", PathOf("onnx"), .. threshold]);
            Assert.Equal(byDetect.GetProperty("score_threshold").GetSingle(), byOnnx.GetProperty("score_threshold").GetSingle());
            Assert.Contains($"decoded with the file's 5 anchors and stride {model.Stride}", byOnnx.GetProperty("detections_from").GetString());
            var expected = byDetect.GetProperty("results")[0];
            var actual = byOnnx.GetProperty("results")[0];
            Assert.Equal(expected.GetProperty("detections").EnumerateArray().Select(d => d.GetProperty("class").GetString()),
                actual.GetProperty("detections").EnumerateArray().Select(d => d.GetProperty("class").GetString()));
            var (e, a) = (Detections(expected), Detections(actual));
            Assert.NotEmpty(e);
            Assert.Equal(e.Select(d => d.Class), a.Select(d => d.Class));
            foreach (var (x, y) in e.Zip(a))
            {
                Assert.Equal(x.Score, y.Score, 4);
                Assert.Equal([x.X1, x.Y1, x.X2, x.Y2], [y.X1, y.Y1, y.X2, y.Y2], (p, q) => Math.Abs(p - q) < 1e-2);
            }
            Assert.True(File.Exists(actual.GetProperty("picture").GetString()));
        }
    }

    /// <summary>
    /// A faster-rcnn checkpoint exported whole (boxes, scores and labels out, NMS in the graph): <c>onnx run</c> reads
    /// the card's letterbox and normalisation from the file and finds what <c>convkit detect</c> finds.
    /// </summary>
    [Fact]
    public void AFasterRCnnExportFindsWhatDetectFinds()
    {
        FasterRCnn model;
        using (Generator.Use(new Generator(12))) model = new FasterRCnn(numClasses: 3, inChannels: 1);
        // Untrained, made decisive as in RegionDetectorExportTests: scores far apart, each class's box moved its own way.
        var state = model.StateDict();
        foreach (var (name, factor) in new[] { ("rpn.cls_logits.weight", 300f), ("roi_heads.cls_score.weight", 40f), ("roi_heads.bbox_pred.weight", 300f) })
            state[name].CopyFrom(state[name] * factor);
        var (checkpoint, file) = SavedAndExported("faster-rcnn", model, 128);
        string picture = PathOf("scene.png");
        ImageFiles.SavePng(Tensor.Rand([3, 100, 140], seed: 9), picture);

        var byDetect = Json("detect", checkpoint, picture, "-o", PathOf("detect"), "--score", "0.1");
        var byOnnx = Json("onnx", "run", file, picture, "-o", PathOf("onnx"), "--score", "0.1");
        Assert.Contains("outputs 'boxes' (boxes), 'scores' (scores), 'labels' (labels)", byOnnx.GetProperty("detections_from").GetString());
        var (e, a) = (Detections(byDetect.GetProperty("results")[0]), Detections(byOnnx.GetProperty("results")[0]));
        Assert.NotEmpty(e);
        Assert.Equal(e.Select(d => d.Class), a.Select(d => d.Class));
        foreach (var (x, y) in e.Zip(a))
        {
            Assert.Equal(x.Score, y.Score, 4);
            Assert.Equal([x.X1, x.Y1, x.X2, x.Y2], [y.X1, y.Y1, y.X2, y.Y2], (p, q) => Math.Abs(p - q) < 1e-2);
        }
    }

    /// <summary>
    /// Two maps, 'aux' first and 'out' second (as torchvision's FCN and DeepLabV3 give them): 'out' is the map, and
    /// the command says so; two outputs that are not maps are refused, naming each with its shape.
    /// </summary>
    [Fact]
    public void OfTwoSegmentationMapsOutIsUsedAndOtherGraphsAreRefusedByName()
    {
        string picture = PathOf("image.png");
        ImageFiles.SavePng(Tensor.Rand([3, 12, 10], seed: 4), picture);
        var builder = new GraphBuilder(13).Input("image", [1, 3, 6, 8]).Weight("wa", [2, 3, 1, 1]).Weight("wo", [3, 3, 1, 1])
            .Node("Conv", ["image", "wa"], ["aux"]).Node("Conv", ["image", "wo"], ["out"])
            .Output("aux", shape: [1, 2, 6, 8]).Output("out", shape: [1, 3, 6, 8]);
        string model = PathOf("fcn.onnx");
        File.WriteAllBytes(model, builder.Bytes());

        var json = Json("onnx", "run", model, picture, "-o", PathOf("maps"));
        Assert.Equal("out", json.GetProperty("output").GetString());
        Assert.Equal(["aux"], json.GetProperty("outputs_not_used").EnumerateArray().Select(o => o.GetString()));
        var result = json.GetProperty("results")[0];
        Assert.Equal([1, 3, 6, 8], result.GetProperty("output_shape").EnumerateArray().Select(d => d.GetInt32()));
        // The per-pixel classes are those of 'out', computed by hand from the graph.
        var image = ImageFiles.Load(picture, 3, new Size2(6, 8));
        var x = ((image - Tensor.FromArray([0.485f, 0.456f, 0.406f], 3, 1, 1)) / Tensor.FromArray([0.229f, 0.224f, 0.225f], 3, 1, 1)).Reshape(1, 3, 6, 8);
        var map = OnnxModel.Load(model).Run(new Dictionary<string, Tensor> { ["image"] = x })["out"].ToArray();
        var counts = new int[3];
        for (int i = 0; i < 48; i++) counts[Enumerable.Range(0, 3).MaxBy(c => map[c * 48 + i])]++;
        Assert.Equal(Enumerable.Range(0, 3).Where(c => counts[c] > 0).Select(c => ($"class {c}", counts[c] / 48.0)),
            result.GetProperty("classes").EnumerateArray().Select(c => (c.GetProperty("class").GetString()!, c.GetProperty("fraction").GetDouble())));
        Assert.True(File.Exists(result.GetProperty("picture").GetString()));
        var (code, table, error) = CliTests.Cli("onnx", "run", model, picture);
        Assert.True(code == 0, error);
        Assert.Contains("Output 'out' used as the map, of 2: 'aux' float [1, 2, 6, 8], 'out' float [1, 3, 6, 8]", table);

        var pooled = new GraphBuilder(13).Input("image", [1, 3, 6, 8]).Weight("w", [4, 3, 1, 1])
            .Node("Conv", ["image", "w"], ["c"]).Node("GlobalAveragePool", ["c"], ["p"]).Node("Flatten", ["p"], ["logits"]).Node("Relu", ["logits"], ["scores"])
            .Output("logits", shape: [1, 4]).Output("scores", shape: [1, 4]);
        File.WriteAllBytes(model, pooled.Bytes());
        (code, var output, error) = CliTests.Cli("onnx", "run", model, picture);
        Assert.Equal((1, ""), (code, output));
        Assert.Contains($"'{model}' has 2 outputs ('logits' float [1, 4], 'scores' float [1, 4]); 'onnx run' reads one output", error);
        Assert.Single(error.Trim().Split('\n'));
    }
}
