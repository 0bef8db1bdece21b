namespace ConvKit.Onnx.Tests;

/// <summary>
/// Conv → Add (→ activation) — a residual block's last convolution, its shortcut and the ReLU after — which the importer
/// runs as one convolution adding the shortcut in its epilogue (as ONNX Runtime's graph optimiser fuses them): each graph
/// against ONNX Runtime, inferring and recording gradients, and the plan showing which nodes were absorbed.
/// </summary>
public class ResidualFusionTests
{
    public static TheoryData<string> Cases() =>
    [
        "Add(conv, x) → Relu", "Add(x, conv)", "no bias → Clip(0, 6)", "projection shortcut → Relu", "1-D → Relu",
        "broadcast shortcut", "start pad larger than end → Relu",
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void AResidualBlockRunsAsOneConvolutionAndMatchesOnnxRuntime(string kind)
    {
        var b = new GraphBuilder(13);
        int[] pads = [1, 1, 1, 1];
        string[] expectedPlan;
        switch (kind)
        {
            case "Add(conv, x) → Relu":
                b.Input("x", [2, 4, 7, 7], scale: 2f).Weight("w", [4, 4, 3, 3]).Weight("b", [4])
                    .Node("Conv", ["x", "w", "b"], ["c"], ("pads", pads)).Node("Add", ["c", "x"], ["s"]).Node("Relu", ["s"], ["out"]);
                expectedPlan = ["Conv+Add+Relu"];
                break;
            case "Add(x, conv)":
                b.Input("x", [2, 4, 7, 7], scale: 2f).Weight("w", [4, 4, 3, 3]).Weight("b", [4])
                    .Node("Conv", ["x", "w", "b"], ["c"], ("pads", pads)).Node("Add", ["x", "c"], ["out"]);
                expectedPlan = ["Conv+Add"];
                break;
            case "no bias → Clip(0, 6)":
                b.Input("x", [2, 4, 7, 7], scale: 4f).Weight("w", [4, 4, 3, 3]).Floats("lo", [0f]).Floats("hi", [6f])
                    .Node("Conv", ["x", "w"], ["c"], ("pads", pads)).Node("Add", ["c", "x"], ["s"]).Node("Clip", ["s", "lo", "hi"], ["out"]);
                expectedPlan = ["Conv+Add+Relu6"];
                break;
            case "projection shortcut → Relu":
                // Both addends are convolutions: the first fuses at the Add's place, the projection runs before it.
                b.Input("x", [2, 4, 8, 8], scale: 2f).Weight("w1", [6, 4, 3, 3]).Weight("b1", [6]).Weight("w2", [6, 4, 1, 1]).Weight("b2", [6])
                    .Node("Conv", ["x", "w1", "b1"], ["c1"], ("pads", pads), ("strides", new[] { 2, 2 }))
                    .Node("Conv", ["x", "w2", "b2"], ["c2"], ("strides", new[] { 2, 2 }))
                    .Node("Add", ["c1", "c2"], ["s"]).Node("Relu", ["s"], ["out"]);
                expectedPlan = ["Conv", "Conv+Add+Relu"];
                break;
            case "1-D → Relu":
                b.Input("x", [2, 4, 9], scale: 2f).Weight("w", [4, 4, 3]).Weight("b", [4])
                    .Node("Conv", ["x", "w", "b"], ["c"], ("pads", new[] { 1, 1 })).Node("Add", ["c", "x"], ["s"]).Node("Relu", ["s"], ["out"]);
                expectedPlan = ["Conv+Add+Relu"];
                break;
            case "broadcast shortcut":
                // A per-channel addend: the plan fuses, the run broadcasts it after the convolution.
                b.Input("x", [2, 4, 7, 7], scale: 2f).Weight("w", [4, 4, 3, 3]).Weight("shift", [1, 4, 1, 1])
                    .Node("Conv", ["x", "w"], ["c"], ("pads", pads)).Node("Add", ["c", "shift"], ["out"]);
                expectedPlan = ["Conv+Add"];
                break;
            case "start pad larger than end → Relu":
                // Padded 1 at the top and left only: the convolution pads symmetrically and cuts its output to size,
                // so the shortcut is added after the cut.
                b.Input("x", [2, 4, 7, 7], scale: 2f).Input("r", [2, 4, 6, 6], scale: 2f).Weight("w", [4, 4, 3, 3]).Weight("b", [4])
                    .Node("Conv", ["x", "w", "b"], ["c"], ("pads", new[] { 1, 1, 0, 0 })).Node("Add", ["c", "r"], ["s"]).Node("Relu", ["s"], ["out"]);
                expectedPlan = ["Conv+Add+Relu"];
                break;
            default: throw new ArgumentException(kind);
        }
        b.Output("out");
        var bytes = b.Bytes();
        var model = OnnxModel.Load(bytes);
        Assert.Equal(expectedPlan, model.PlannedOps);

        var (values, shape) = Reference.Run(bytes, b.Feeds)["out"];
        foreach (bool recording in new[] { false, true })
        {
            Tensor actual;
            using (IDisposable? scope = recording ? null : Tensor.NoGrad()) actual = model.Run(b.Feeds)["out"];
            Reference.Close(values, shape, actual, 1e-5, $"{kind} (recording: {recording})");
        }
    }

    [Fact]
    public void ValuesSomeoneElseReadsAreNotFusedAway()
    {
        // The first Conv's output is a graph output, so its Add stays; the second's sum is read by a Relu and a Mul, so the
        // Add fuses and the Relu does not.
        var b = new GraphBuilder(13).Input("x", [1, 3, 6, 6]).Weight("w", [3, 3, 3, 3]).Weight("b", [3])
            .Node("Conv", ["x", "w", "b"], ["c1"], ("pads", new[] { 1, 1, 1, 1 })).Node("Add", ["c1", "x"], ["a"])
            .Node("Conv", ["a", "w", "b"], ["c2"], ("pads", new[] { 1, 1, 1, 1 })).Node("Add", ["c2", "a"], ["s"])
            .Node("Relu", ["s"], ["r"]).Node("Mul", ["s", "r"], ["out"])
            .Output("out").Output("c1");
        var bytes = b.Bytes();
        var model = OnnxModel.Load(bytes);
        Assert.Equal(["Conv", "Add", "Conv+Add", "Relu", "Mul"], model.PlannedOps);
        var expected = Reference.Run(bytes, b.Feeds);
        IReadOnlyDictionary<string, Tensor> outputs;
        using (Tensor.NoGrad()) outputs = model.Run(b.Feeds);
        foreach (var name in new[] { "out", "c1" }) Reference.Close(expected[name].Values, expected[name].Shape, outputs[name], 1e-5, name);
    }
}
