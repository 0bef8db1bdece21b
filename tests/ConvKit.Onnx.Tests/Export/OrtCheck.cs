namespace ConvKit.Onnx.Tests.Export;

/// <summary>Exported files run by ONNX Runtime (through <see cref="Reference"/>) and compared with ConvKit.</summary>
static class OrtCheck
{
    /// <summary>The output of an exported (one-input, one-output) model run by ONNX Runtime on <paramref name="input"/>.</summary>
    public static (float[] Values, int[] Shape) Run(byte[] model, Tensor input) =>
        Reference.Run(model, new Dictionary<string, Tensor> { ["input"] = input }).Single().Value;

    /// <summary>Exports <paramref name="model"/> traced at batch 1, runs the file in ONNX Runtime on <paramref name="input"/> and compares within 1e-4.</summary>
    /// <returns>the file's bytes</returns>
    public static byte[] ExportAndCompare(NN.Module model, Tensor input, string what)
    {
        var bytes = OnnxExporter.Export(model, [1, .. input.Shape.Skip(1)]);
        var (values, shape) = Run(bytes, input);
        Tensor convKit;
        using (Tensor.NoGrad()) convKit = model.Eval().Forward(input);
        Reference.Close(values, shape, convKit, 1e-4, what);
        return bytes;
    }
}
