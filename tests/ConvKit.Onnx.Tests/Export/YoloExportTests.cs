using ConvKit.Vision.Detection;

namespace ConvKit.Onnx.Tests.Export;

/// <summary>
/// An exported yolo-small gives the raw grid of predictions, as ConvKit does; decoding stays outside the graph, and
/// decoding ONNX Runtime's output with the model's anchors finds the same objects.
/// </summary>
public class YoloExportTests
{
    [Fact]
    public void OnnxRuntimesRawOutputDecodesToConvKitsDetections()
    {
        using var seeded = Generator.Use(new Generator(8));
        var model = new YoloV2(numClasses: 3, inChannels: 1);
        model.SetAnchors([(12, 10), (20, 30), (36, 20), (50, 50), (90, 70)]);
        // An objectness bias well above the untrained prior, so that boxes score above the threshold.
        var bias = model.StateDict()["head.bias"];
        var values = bias.ToArray();
        for (int b = 0; b < 5; b++) values[b * 8 + 4] = 2;
        bias.CopyFrom(Tensor.FromArray(values, values.Length));

        var input = Tensor.Rand([2, 1, 128, 128], 5);
        var bytes = OrtCheck.ExportAndCompare(model, input, "yolo-small");
        var (onnxValues, shape) = OrtCheck.Run(bytes, input);
        Assert.Equal([2, 5 * 8, 8, 8], shape);

        Tensor convKit;
        using (Tensor.NoGrad()) convKit = model.Eval().Forward(input);
        var options = new DetectionOptions(ScoreThreshold: 0.25f);
        var expected = YoloDecoder.Decode(convKit, model.Anchors, model.Stride, options);
        var actual = YoloDecoder.Decode(Tensor.FromArray(onnxValues, shape), model.Anchors, model.Stride, options);
        for (int n = 0; n < 2; n++)
        {
            Assert.NotEmpty(expected[n]);
            Assert.Equal(expected[n].Select(d => d.Class), actual[n].Select(d => d.Class));
            foreach (var (e, a) in expected[n].Zip(actual[n]))
            {
                Assert.Equal(e.Score, a.Score, 4);
                Assert.Equal([e.X1, e.Y1, e.X2, e.Y2], [a.X1, a.Y1, a.X2, a.Y2], (x, y) => Math.Abs(x - y) < 1e-3);
            }
        }
    }
}
