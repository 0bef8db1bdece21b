using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ConvKit.Onnx.Tests.Export;

/// <summary>Runs an exported file in ONNX Runtime (the reference) and compares it with ConvKit's output.</summary>
static class OrtCheck
{
    /// <summary>The output of a one-input, one-output model run by ONNX Runtime on <paramref name="input"/>.</summary>
    public static (float[] Values, int[] Shape) Run(byte[] model, Tensor input, string inputName = "input")
    {
        // Graph optimisations off: they only cost time here (several seconds on the VGG files).
        using var options = new SessionOptions { IntraOpNumThreads = 2, GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(model, options);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor<float>(input.ToArray(), input.Shape.ToArray()))]);
        var output = results.Single().AsTensor<float>();
        return (output.ToArray(), output.Dimensions.ToArray());
    }

    /// <summary>Shapes equal and max |actual − expected| ≤ <paramref name="tolerance"/> · max |expected|.</summary>
    public static void Close(Tensor expected, float[] actual, int[] actualShape, string what, double tolerance = 1e-4)
    {
        Assert.Equal(expected.Shape.ToArray(), actualShape);
        var reference = expected.ToArray();
        double scale = Math.Max(reference.Max(v => Math.Abs((double)v)), 1e-12), worst = 0;
        for (int i = 0; i < reference.Length; i++) worst = Math.Max(worst, Math.Abs(actual[i] - (double)reference[i]));
        Assert.True(worst / scale <= tolerance,
            $"{what}: max abs difference {worst:G4} is {worst / scale:G4} of the output scale {scale:G4} (tolerance {tolerance}).");
    }

    /// <summary>Exports <paramref name="model"/> traced at batch 1, runs the file in ONNX Runtime on <paramref name="input"/> and compares.</summary>
    public static byte[] ExportAndCompare(NN.Module model, Tensor input, string what, double tolerance = 1e-4)
    {
        var bytes = OnnxExporter.Export(model, [1, .. input.Shape.Skip(1)]);
        Tensor expected;
        using (Tensor.NoGrad()) expected = model.Eval().Forward(input);
        var (actual, shape) = Run(bytes, input);
        Close(expected, actual, shape, what, tolerance);
        return bytes;
    }
}
