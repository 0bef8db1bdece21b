using ConvKit.Vision.Detection;

namespace ConvKit.Onnx.Tests.Export;

/// <summary>
/// Faster R-CNN's inference graph in ONNX, as far as ONNX expresses it: the exported file holds the backbone and the
/// region proposal network's head (<c>features</c>, <c>objectness</c>, <c>rpn_deltas</c>), ONNX Runtime computes them
/// as ConvKit does, and the proposals decoded from ONNX Runtime's outputs outside the graph, pooled and classified, give
/// the same detections as <see cref="FasterRCnn.Detect"/>. The data-dependent middle (anchor decoding, top-N, NMS) and
/// the per-class decoding stay in C# (see <see cref="FasterRCnn"/>'s ONNX note).
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
}
