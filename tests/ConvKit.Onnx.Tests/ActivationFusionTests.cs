using ConvKit.Onnx.Proto;

namespace ConvKit.Onnx.Tests;

/// <summary>
/// Conv → activation pairs the importer runs as one convolution with the activation in its epilogue (as ONNX Runtime's
/// graph optimiser fuses them): each graph against ONNX Runtime, inferring and recording gradients, and the plan showing
/// which nodes were absorbed. Each graph has a dense convolution followed by a depthwise one, both with the activation.
/// </summary>
public class ActivationFusionTests
{
    /// <summary>
    /// Adds the activation named <paramref name="kind"/> reading <paramref name="x"/> and writing <paramref name="y"/>;
    /// <paramref name="tag"/> keeps the names of its helper values apart.
    /// </summary>
    static void Activation(GraphBuilder b, string kind, string x, string y, string tag)
    {
        switch (kind)
        {
            case "Relu": case "Sigmoid": case "Tanh": case "HardSwish": b.Node(kind, [x], [y]); break;
            case "LeakyRelu": b.Node("LeakyRelu", [x], [y], ("alpha", 0.1f)); break;
            case "HardSigmoid (PyTorch's)": b.Node("HardSigmoid", [x], [y], ("alpha", 1f / 6), ("beta", 0.5f)); break;
            case "HardSigmoid (ONNX's default)": b.Node("HardSigmoid", [x], [y]); break;
            case "Clip(0, 6) attributes": b.Node("Clip", [x], [y], ("min", 0f), ("max", 6f)); break;
            case "Clip(0, 6) inputs": b.Floats($"lo{tag}", [0f]).Floats($"hi{tag}", [6f]).Node("Clip", [x, $"lo{tag}", $"hi{tag}"], [y]); break;
            case "Clip(0, 6) Constant inputs":
                b.Node("Constant", [], [$"lo{tag}"], ("value", Scalar(0f))).Node("Constant", [], [$"hi{tag}"], ("value", Scalar(6f)))
                    .Node("Clip", [x, $"lo{tag}", $"hi{tag}"], [y]);
                break;
            case "Clip(0, 6) Constant value_float inputs":
                b.Node("Constant", [], [$"lo{tag}"], ("value_float", 0f)).Node("Constant", [], [$"hi{tag}"], ("value_float", 6f))
                    .Node("Clip", [x, $"lo{tag}", $"hi{tag}"], [y]);
                break;
            case "Clip(0, ∞)": b.Floats($"lo{tag}", [0f]).Node("Clip", [x, $"lo{tag}"], [y]); break;
            case "Clip(-1, 6)": b.Floats($"lo{tag}", [-1f]).Floats($"hi{tag}", [6f]).Node("Clip", [x, $"lo{tag}", $"hi{tag}"], [y]); break;
            case "SiLU": b.Node("Sigmoid", [x], [$"s{tag}"]).Node("Mul", [x, $"s{tag}"], [y]); break;
            case "SiLU, Mul first": b.Node("Sigmoid", [x], [$"s{tag}"]).Node("Mul", [$"s{tag}", x], [y]); break;
            case "HardSwish as x·HardSigmoid(x)":
                b.Node("HardSigmoid", [x], [$"s{tag}"], ("alpha", 1f / 6), ("beta", 0.5f)).Node("Mul", [x, $"s{tag}"], [y]);
                break;
            case "x·HardSigmoid(x), ONNX's alpha": b.Node("HardSigmoid", [x], [$"s{tag}"]).Node("Mul", [x, $"s{tag}"], [y]); break;
            default: throw new ArgumentException(kind);
        }
    }

    static TensorProto Scalar(float value)
    {
        var tensor = new TensorProto { DataType = (int)TensorProto.Types.DataType.Float };
        tensor.FloatData.Add(value);
        return tensor;
    }

    public static TheoryData<string, int, string> Cases() => new()
    {
        { "Relu", 13, "Relu" },
        { "HardSwish", 14, "HardSwish" },
        { "HardSigmoid (PyTorch's)", 13, "HardSigmoid" },
        { "HardSigmoid (ONNX's default)", 13, "" },
        { "Clip(0, 6) attributes", 10, "Relu6" },
        { "Clip(0, 6) inputs", 13, "Relu6" },
        { "Clip(0, 6) Constant inputs", 13, "Relu6" },
        { "Clip(0, 6) Constant value_float inputs", 13, "Relu6" },
        { "Clip(0, ∞)", 13, "Relu" },
        { "Clip(-1, 6)", 13, "" },
        { "Sigmoid", 13, "Sigmoid" },
        { "Tanh", 13, "Tanh" },
        { "LeakyRelu", 13, "LeakyRelu" },
        { "SiLU", 13, "Silu" },
        { "SiLU, Mul first", 13, "Silu" },
        { "HardSwish as x·HardSigmoid(x)", 13, "HardSwish" },
        { "x·HardSigmoid(x), ONNX's alpha", 13, "" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ConvAndActivationRunAsOneAndMatchOnnxRuntime(string kind, int opset, string fused)
    {
        var builder = new GraphBuilder(opset).Input("x", [2, 4, 9, 9], scale: 2f)
            .Weight("w1", [6, 4, 3, 3]).Weight("b1", [6]).Weight("w2", [6, 1, 3, 3], scale: 1f)
            .Node("Conv", ["x", "w1", "b1"], ["c1"], ("pads", new[] { 1, 1, 1, 1 }));
        Activation(builder, kind, "c1", "a1", "1");
        builder.Node("Conv", ["a1", "w2"], ["c2"], ("pads", new[] { 1, 1, 1, 1 }), ("group", 6));
        Activation(builder, kind, "c2", "out", "2");
        builder.Output("out");
        var bytes = builder.Bytes();
        var model = OnnxModel.Load(bytes);
        var unfused = model.OpHistogram.Where(p => p.Key is not ("Conv" or "Constant")).SelectMany(p => Enumerable.Repeat(p.Key, p.Value / 2)).ToList();
        var expectedPlan = fused.Length > 0 ? new[] { $"Conv+{fused}", $"Conv+{fused}" } : ["Conv", .. unfused, "Conv", .. unfused];
        Assert.Equal(expectedPlan, model.PlannedOps.Where(op => op != "Constant"));

        var (values, shape) = Reference.Run(bytes, builder.Feeds)["out"];
        Assert.Contains(builder.Feeds["x"].ToArray(), v => v < -3);
        foreach (bool recording in new[] { false, true })
        {
            Tensor actual;
            using (IDisposable? scope = recording ? null : Tensor.NoGrad()) actual = model.Run(builder.Feeds)["out"];
            Reference.Close(values, shape, actual, 1e-5, $"{kind} (recording: {recording})");
        }
    }

    [Fact]
    public void AFoldedBatchNormsActivationFusesIntoTheConvolution()
    {
        // Conv → BatchNormalization → HardSwish, as MobileNetV3 exports: folding leaves Conv → HardSwish, which fuses.
        var builder = new GraphBuilder(14).Input("x", [1, 3, 8, 8], scale: 2f).Weight("w", [5, 3, 3, 3])
            .Weight("gamma", [5], 0.2f, 1f).Weight("beta", [5]).Weight("mean", [5]).Weight("var", [5], 0.1f, 1f)
            .Node("Conv", ["x", "w"], ["c"], ("pads", new[] { 1, 1, 1, 1 }))
            .Node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["n"])
            .Node("HardSwish", ["n"], ["out"]).Output("out");
        var bytes = builder.Bytes();
        var model = OnnxModel.Load(bytes, new OnnxImportOptions { FoldBatchNorm = true });
        Assert.Equal(["Conv+HardSwish"], model.PlannedOps);
        var (values, shape) = Reference.Run(bytes, builder.Feeds)["out"];
        using (Tensor.NoGrad()) Reference.Close(values, shape, model.Run(builder.Feeds)["out"], 1e-5, "folded Conv → HardSwish");
    }

    [Fact]
    public void ValuesSomeoneElseReadsAreNotFusedAway()
    {
        // The Sigmoid's output is a graph output too, so the SiLU cannot absorb it; the first Conv's output feeds a
        // HardSwish and an Add, so it stays; the second Conv's HardSwish fuses.
        var builder = new GraphBuilder(14).Input("x", [1, 3, 6, 6]).Weight("w1", [3, 3, 3, 3]).Weight("w2", [3, 3, 1, 1])
            .Node("Conv", ["x", "w1"], ["c1"], ("pads", new[] { 1, 1, 1, 1 })).Node("HardSwish", ["c1"], ["h1"]).Node("Add", ["c1", "h1"], ["a"])
            .Node("Conv", ["a", "w2"], ["c2"]).Node("HardSwish", ["c2"], ["h2"])
            .Node("Conv", ["h2", "w2"], ["c3"]).Node("Sigmoid", ["c3"], ["s"]).Node("Mul", ["c3", "s"], ["out"])
            .Output("out").Output("s");
        var bytes = builder.Bytes();
        var model = OnnxModel.Load(bytes);
        Assert.Equal(["Conv", "HardSwish", "Add", "Conv+HardSwish", "Conv", "Sigmoid", "Mul"], model.PlannedOps);
        var expected = Reference.Run(bytes, builder.Feeds);
        IReadOnlyDictionary<string, Tensor> outputs;
        using (Tensor.NoGrad()) outputs = model.Run(builder.Feeds);
        foreach (var name in new[] { "out", "s" }) Reference.Close(expected[name].Values, expected[name].Shape, outputs[name], 1e-5, name);
    }
}
