namespace ConvKit.Onnx.Tests;

/// <summary>The packaged ImageNet ResNet-18 (CNTK export, opset 8) against ONNX Runtime.</summary>
public class ResNet18Tests
{
    static readonly Lazy<OnnxModule> Model = new(() => OnnxModel.Load(Reference.ResNet18Path));

    [Fact]
    public void RandomInputMatchesOnnxRuntime()
    {
        var model = Model.Value;
        // The model expects BGR pixel values (0-255) minus the mean image, so inputs of that scale.
        var x = Tensor.Randn([1, 3, 224, 224], seed: 1) * 60f;
        var expected = Reference.Run(Reference.ResNet18Path, new Dictionary<string, Tensor> { [model.Inputs[0].Name] = x });
        Tensor actual;
        using (Tensor.NoGrad()) actual = model.Forward(x);
        var (values, shape) = expected[model.Outputs[0].Name];
        Reference.Close(values, shape, actual, 1e-4, "ResNet-18 on random input");
        // Later passes reuse the memory of the activations each pass hands back, and give the same result.
        for (int run = 0; run < 2; run++)
            using (Tensor.NoGrad()) Assert.Equal(actual.ToArray(), model.Forward(x).ToArray());
    }
}
