namespace ConvKit.Onnx.Tests;

/// <summary>
/// Pad → AveragePool pairs (PyTorch's export of avg_pool2d with padding, which counts the padding) run as one pool
/// with the padding counted: each graph against ONNX Runtime, and the plan showing whether the Pad was absorbed.
/// </summary>
public class PadFusionTests
{
    public static TheoryData<string, int, bool> Cases() => new()
    {
        { "pads as a Constant node, 3×3 stride 1", 17, true },
        { "pads as an initialiser, asymmetric, 3×3 stride 2", 13, true },
        { "pads as an attribute (opset 10)", 10, true },
        { "a fill value of 1", 17, false },
        { "padding on the channels", 17, false },
        { "edge mode", 17, false },
        { "ceil mode", 17, false },
        { "the padded value read twice", 17, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void PadAndAveragePoolRunAsOneAndMatchOnnxRuntime(string kind, int opset, bool fuses)
    {
        var builder = new GraphBuilder(opset).Input("x", [2, 3, 9, 8]);
        long[] pads = kind switch
        {
            "pads as an initialiser, asymmetric, 3×3 stride 2" => [0, 0, 1, 0, 0, 0, 2, 1],
            "padding on the channels" => [0, 1, 1, 1, 0, 0, 1, 1],
            _ => [0, 0, 1, 1, 0, 0, 1, 1],
        };
        if (opset < 11) builder.Node("Pad", ["x"], ["padded"], ("pads", pads.Select(p => (int)p).ToArray()));
        else
        {
            if (kind == "pads as an initialiser, asymmetric, 3×3 stride 2") builder.Ints("pads", pads);
            else builder.Node("Constant", [], ["pads"], ("value", Int64s(pads)));
            string[] inputs = kind == "a fill value of 1" ? ["x", "pads", "one"] : ["x", "pads"];
            if (kind == "a fill value of 1") builder.Floats("one", [1f]);
            if (kind == "edge mode") builder.Node("Pad", inputs, ["padded"], ("mode", "edge"));
            else builder.Node("Pad", inputs, ["padded"]);
        }
        int stride = kind.Contains("stride 2") ? 2 : 1;
        if (kind == "ceil mode") builder.Node("AveragePool", ["padded"], ["out"], ("kernel_shape", new[] { 3, 3 }), ("strides", new[] { 2, 2 }), ("ceil_mode", 1));
        else builder.Node("AveragePool", ["padded"], ["out"], ("kernel_shape", new[] { 3, 3 }), ("strides", new[] { stride, stride }));
        builder.Output("out");
        if (kind == "the padded value read twice") builder.Node("Relu", ["padded"], ["r"]).Output("r");
        var bytes = builder.Bytes();

        var model = OnnxModel.Load(bytes);
        Assert.Equal(fuses, !model.PlannedOps.Contains("Pad"));
        var expected = Reference.Run(bytes, builder.Feeds);
        IReadOnlyDictionary<string, Tensor> actual;
        using (Tensor.NoGrad()) actual = model.Run(builder.Feeds);
        foreach (var (name, (values, shape)) in expected) Reference.Close(values, shape, actual[name], 1e-6, $"{kind}: {name}");
    }

    static ConvKit.Onnx.Proto.TensorProto Int64s(long[] values)
    {
        var tensor = new ConvKit.Onnx.Proto.TensorProto { DataType = (int)ConvKit.Onnx.Proto.TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        return tensor;
    }
}
