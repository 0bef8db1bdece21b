namespace ConvKit.Onnx.Tests;

/// <summary>
/// torchvision's MobileNetV3, ShuffleNetV2, ConvNeXt and MnasNet blocks in one small network, exported by PyTorch 1.13
/// at opsets 13 (HardSigmoid·x for HardSwish; layer norm as ReduceMean, Sub, Pow, Sqrt, Div) and 17 (HardSwish,
/// LayerNormalization), written by tools/fixtures/gen_onnx_patterns.py: ConvKit's import against ONNX Runtime. The
/// full models are checked by the bench's onnx suite (bench/RESULTS.md).
/// </summary>
public class TorchvisionPatternTests
{
    [Theory]
    [InlineData(13)]
    [InlineData(17)]
    public void MatchesOnnxRuntime(int opset)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", $"patterns.opset{opset}.onnx");
        var model = OnnxModel.Load(path);
        Assert.Equal(opset, model.Opset);
        var inputs = new Dictionary<string, Tensor> { ["input"] = Tensor.Randn([1, 3, 32, 32], seed: opset) };
        var (values, shape) = Reference.Run(path, inputs)["output"];
        Tensor actual;
        using (Tensor.NoGrad()) actual = model.Run(inputs)["output"];
        Reference.Close(values, shape, actual, 1e-5, $"patterns at opset {opset}");
        Assert.Contains(opset == 13 ? "Pow" : "LayerNormalization", model.OpHistogram.Keys);
    }

    [Fact]
    public void GradientsReachTheLayerNormAndGateParameters()
    {
        var model = OnnxModel.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "patterns.opset17.onnx"));
        var loss = model.Run(new Dictionary<string, Tensor> { ["input"] = Tensor.Randn([1, 3, 32, 32], seed: 1) })["output"].Square().Sum();
        loss.Backward();
        var named = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        foreach (var name in new[] { "convnext.block.2.weight", "norm.bias", "mobile.block.2.fc1.weight" })
        {
            Assert.True(named.ContainsKey(name), $"{name} is not among {string.Join(", ", named.Keys)}");
            Assert.True(named[name].Grad!.Abs().Max().Item() > 0, $"{name} has no gradient");
        }
    }
}
