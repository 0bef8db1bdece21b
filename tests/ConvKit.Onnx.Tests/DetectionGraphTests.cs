namespace ConvKit.Onnx.Tests;

/// <summary>
/// torchvision's SSD, Faster R-CNN (with a two-level RoIAlign) and RetinaNet around a tiny backbone, exported by
/// PyTorch 1.13 at opsets 13 and 17 with their full pre- and post-processing (tools/fixtures/gen_onnx_detection.py):
/// ConvKit gives ONNX Runtime's detections — as many boxes, the same labels, boxes and scores within 1e-4 of scale.
/// The full-size models (ssdlite320_mobilenet_v3_large, fasterrcnn_mobilenet_v3_large_320_fpn,
/// retinanet_resnet50_fpn) are checked by the bench's onnx-zoo suite.
/// </summary>
public class DetectionGraphTests
{
    [Theory]
    [InlineData("ssd", 13)]
    [InlineData("ssd", 17)]
    [InlineData("fasterrcnn", 13)]
    [InlineData("fasterrcnn", 17)]
    [InlineData("retinanet", 13)]
    [InlineData("retinanet", 17)]
    public void GivesOnnxRuntimesDetections(string name, int opset)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", $"{name}.opset{opset}.onnx");
        var model = OnnxModel.Load(path);
        Assert.Equal(opset, model.Opset);
        Assert.Contains("If", model.OpHistogram.Keys);  // (non-maximum suppression runs in its branch)
        var inputs = new Dictionary<string, Tensor> { ["images"] = Tensor.Rand([3, 40, 56], seed: opset) };
        var expected = Reference.Run(path, inputs);
        IReadOnlyDictionary<string, Tensor> actual;
        using (Tensor.NoGrad()) actual = model.Run(inputs);

        var (labels, labelShape) = expected["labels"];
        Assert.True(labels.Length > 5, $"{name}: ONNX Runtime finds only {labels.Length} boxes, too few to compare");
        Assert.Equal(labelShape, actual["labels"].Shape.ToArray());
        Assert.Equal(labels, actual["labels"].ToArray());
        foreach (var output in new[] { "boxes", "scores" })
        {
            var (values, shape) = expected[output];
            Reference.Close(values, shape, actual[output], 1e-4, $"{name} at opset {opset}, {output}");
        }
    }
}
