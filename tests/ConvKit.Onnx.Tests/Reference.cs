using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ConvKit.Onnx.Tests;

/// <summary>ONNX Runtime as the reference, and the comparison the issue asks for.</summary>
static class Reference
{
    public static string ResNet18Path => Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
    public static string PreprocessPath => Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNetPrepOnnx", "ResNetPreprocess.onnx");

    /// <summary>Runs a model (file or bytes) in ONNX Runtime on float inputs; returns every output as (values, shape), integer and boolean outputs as floats.</summary>
    public static Dictionary<string, (float[] Values, int[] Shape)> Run(object model, IReadOnlyDictionary<string, Tensor> inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 2, GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = model is string path ? new InferenceSession(path, options) : new InferenceSession((byte[])model, options);
        var feeds = inputs.Select(p => NamedOnnxValue.CreateFromTensor(p.Key, new DenseTensor<float>(p.Value.ToArray(), p.Value.Shape.ToArray()))).ToList();
        using var results = session.Run(feeds);
        return results.ToDictionary(r => r.Name, r => r.Value switch
        {
            DenseTensor<float> t => (t.ToArray(), t.Dimensions.ToArray()),
            DenseTensor<long> t => (t.ToArray().Select(v => (float)v).ToArray(), t.Dimensions.ToArray()),
            DenseTensor<int> t => (t.ToArray().Select(v => (float)v).ToArray(), t.Dimensions.ToArray()),
            DenseTensor<bool> t => (t.ToArray().Select(v => v ? 1f : 0f).ToArray(), t.Dimensions.ToArray()),
            var other => throw new InvalidOperationException($"output {r.Name}: unexpected type {other?.GetType()}"),
        });
    }

    /// <summary>max |actual − expected| / max |expected| ≤ tolerance, with equal shapes.</summary>
    public static void Close(float[] expected, int[] expectedShape, Tensor actual, double tolerance, string what)
    {
        Assert.Equal(expectedShape, actual.Shape.ToArray());
        var values = actual.ToArray();
        if (expected.Length == 0) return;
        double scale = Math.Max(expected.Max(v => Math.Abs((double)v)), 1e-12), worst = 0;
        for (int i = 0; i < values.Length; i++) worst = Math.Max(worst, Math.Abs(values[i] - (double)expected[i]));
        Assert.True(worst / scale <= tolerance, $"{what}: max abs difference {worst:G4} is {worst / scale:G4} of the output scale {scale:G4} (tolerance {tolerance}).");
    }
}
