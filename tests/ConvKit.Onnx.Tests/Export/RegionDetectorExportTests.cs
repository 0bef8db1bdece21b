using ConvKit.Cli.Commands;
using ConvKit.Vision.Detection;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ConvKit.Onnx.Tests.Export;

/// <summary>
/// Faster R-CNN in ONNX. The plain export (<see cref="OnnxExporter"/>) holds the backbone and the region proposal
/// network's head (<c>features</c>, <c>objectness</c>, <c>rpn_deltas</c>): ONNX Runtime computes them as ConvKit does,
/// and proposals decoded from its outputs, pooled and classified in ConvKit, give <see cref="FasterRCnn.Detect"/>'s
/// detections. The detector export (<see cref="FasterRCnnOnnx"/>) holds everything, proposals, box head and NMS
/// included: ONNX Runtime alone turns a picture into the same boxes, scores and classes.
/// </summary>
public class RegionDetectorExportTests
{
    [Fact]
    public void OnnxRuntimesRpnOutputsGiveConvKitsProposalsAndDetections()
    {
        using var seeded = Generator.Use(new Generator(12));
        var model = new FasterRCnn(numClasses: 3, inChannels: 1);
        // Spread the untrained objectness scores far apart, so that float rounding cannot reorder near-ties.
        var weight = model.StateDict()["rpn.cls_logits.weight"];
        weight.CopyFrom(weight * 300f);
        model.Eval();

        var input = Tensor.Rand([2, 1, 128, 128], 6);
        var bytes = OnnxExporter.Export(model, [1, 1, 128, 128]);
        var ort = Reference.Run(bytes, new Dictionary<string, Tensor> { ["input"] = input });
        Assert.Equal(["features", "objectness", "rpn_deltas"], ort.Keys);
        NN.TensorDict expected;
        using (Tensor.NoGrad()) expected = model.ForwardOutputs(input);
        foreach (var name in ort.Keys) Reference.Close(ort[name].Values, ort[name].Shape, expected[name], 1e-4, name);
        Assert.Equal([2, 9, 16, 16], ort["objectness"].Shape);

        // Outside the graph: proposals from ONNX Runtime's outputs, then RoIAlign + the box head and per-class NMS.
        var picture = new Size2(128, 128);
        var proposals = model.Rpn.Propose(Tensor.FromArray(ort["objectness"].Values, ort["objectness"].Shape),
            Tensor.FromArray(ort["rpn_deltas"].Values, ort["rpn_deltas"].Shape), picture, 300, 100);
        var convKitProposals = model.Rpn.Propose(expected["objectness"], expected["rpn_deltas"], picture, 300, 100);
        for (int n = 0; n < 2; n++)
        {
            Assert.Equal(100 * 4, proposals[n].Length);
            Assert.Equal(convKitProposals[n], proposals[n], (x, y) => Math.Abs(x - y) < 1e-3);
        }
        var rows = proposals.SelectMany((p, n) => Enumerable.Range(0, p.Length / 4).SelectMany(k => new[] { n, p[4 * k], p[4 * k + 1], p[4 * k + 2], p[4 * k + 3] })).ToArray();
        NN.TensorDict head;
        using (Tensor.NoGrad()) head = model.ForwardOutputs(input, Tensor.FromArray(rows, rows.Length / 5, 5));
        var options = new DetectionOptions(ScoreThreshold: 0.2f);
        var split = RegionHeadDecoder.Decode(head["class_logits"], head["box_deltas"], proposals, picture, options);
        var direct = model.Detect(input, options);
        for (int n = 0; n < 2; n++)
        {
            Assert.NotEmpty(direct[n]);
            Assert.Equal(direct[n].Select(d => d.Class), split[n].Select(d => d.Class));
            foreach (var (e, a) in direct[n].Zip(split[n]))
            {
                Assert.Equal(e.Score, a.Score, 4);
                Assert.Equal([e.X1, e.Y1, e.X2, e.Y2], [a.X1, a.Y1, a.X2, a.Y2], (x, y) => Math.Abs(x - y) < 1e-3);
            }
        }
    }

    [Fact]
    public void OnnxRuntimeRunsTheWholeDetectorAndFindsConvKitsBoxes()
    {
        using var seeded = Generator.Use(new Generator(12));
        var model = new FasterRCnn(numClasses: 3, inChannels: 1);
        // An untrained model, made decisive: objectness and class scores spread far apart (no near-ties for the NMS
        // orders to break differently) and box deltas large enough that each class moves its box its own way.
        var state = model.StateDict();
        foreach (var (name, factor) in new[] { ("rpn.cls_logits.weight", 300f), ("roi_heads.cls_score.weight", 40f), ("roi_heads.bbox_pred.weight", 300f) })
            state[name].CopyFrom(state[name] * factor);
        model.Eval();
        var options = new DetectionOptions(ScoreThreshold: 0.1f, IouThreshold: 0.5f, MaxDetections: 40);
        var bytes = FasterRCnnOnnx.ToModelProto(model, 1, 128, 96, options).ToByteArray();

        using var sessionOptions = new SessionOptions { IntraOpNumThreads = 2 };
        using var session = new InferenceSession(bytes, sessionOptions);
        for (int seed = 6; seed < 8; seed++)
        {
            var picture = Tensor.Rand([1, 1, 128, 96], seed);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(picture.ToArray(), [1, 1, 128, 96]))]);
            var output = results.ToDictionary(r => r.Name);
            var boxes = output[FasterRCnnOnnx.Boxes].AsTensor<float>().ToArray();
            var scores = output[FasterRCnnOnnx.Scores].AsTensor<float>().ToArray();
            var labels = output[FasterRCnnOnnx.Labels].AsTensor<long>().ToArray();

            var expected = model.Detect(picture, options)[0];
            Assert.InRange(expected.Count, 3, options.MaxDetections);
            Assert.Equal(expected.Select(d => (long)d.Class), labels);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Score, scores[i], 4);
                Assert.Equal([expected[i].X1, expected[i].Y1, expected[i].X2, expected[i].Y2], boxes[(4 * i)..(4 * i + 4)], (x, y) => Math.Abs(x - y) < 1e-3);
            }
        }
    }

    [Fact]
    public void DetectorExportRejectsASideThatIsNotAMultipleOfTheStride()
    {
        var model = new FasterRCnn(numClasses: 2);
        var error = Assert.Throws<ArgumentException>(() => FasterRCnnOnnx.ToModelProto(model, 1, 100, 128));
        Assert.Contains("multiples of the backbone's stride 8", error.Message);
    }
}
