using ConvKit.NN;
using ConvKit.Onnx.Proto;

namespace ConvKit.Onnx.Tests;

/// <summary>
/// GELU in ONNX graphs against ONNX Runtime: the Gelu op of opset 20 (exact and tanh), and PyTorch's exported chain
/// Div(x, √2), Erf, Add 1, Mul x, Mul ½, which the importer runs as one Gelu node where nothing else reads inside it.
/// </summary>
public class GeluFusionTests
{
    /// <summary>x → MatMul → (the chain) → out, as ConvNeXt's pointwise layers; operands in the given orders.</summary>
    static GraphBuilder Chain(int opset, float divisor = 1.41421354f, float one = 1f, bool swapped = false)
    {
        var b = new GraphBuilder(opset).Input("x", [2, 5, 7], scale: 4f).Weight("w", [7, 9], scale: 1f)
            .Floats("root2", [divisor]).Floats("one", [one]).Floats("half", [0.5f])
            .Node("MatMul", ["x", "w"], ["m"])
            .Node("Div", ["m", "root2"], ["d"]).Node("Erf", ["d"], ["e"]);
        return swapped
            ? b.Node("Add", ["one", "e"], ["a"]).Node("Mul", ["a", "m"], ["t"]).Node("Mul", ["half", "t"], ["out"])
            : b.Node("Add", ["e", "one"], ["a"]).Node("Mul", ["m", "a"], ["t"]).Node("Mul", ["t", "half"], ["out"]);
    }

    static void MatchesOnnxRuntime(GraphBuilder builder, string[] expectedPlan, string what)
    {
        var bytes = builder.Bytes();
        var model = OnnxModel.Load(bytes);
        Assert.Equal(expectedPlan, model.PlannedOps);
        var (values, shape) = Reference.Run(bytes, builder.Feeds)["out"];
        Assert.Contains(builder.Feeds["x"].ToArray(), v => Math.Abs(v) > 3);
        foreach (bool recording in new[] { false, true })
        {
            Tensor actual;
            using (IDisposable? scope = recording ? null : Tensor.NoGrad()) actual = model.Run(builder.Feeds)["out"];
            Reference.Close(values, shape, actual, 2e-6, $"{what} (recording: {recording})");
        }
    }

    [Theory]
    [InlineData(13, false)]
    [InlineData(17, false)]
    [InlineData(17, true)]
    public void PyTorchsChainRunsAsOneGelu(int opset, bool swapped) =>
        MatchesOnnxRuntime(Chain(opset, swapped: swapped).Output("out"), ["MatMul", "Gelu"], $"opset {opset}, swapped {swapped}");

    [Theory]
    [InlineData("none")]
    [InlineData("tanh")]
    public void GeluOfOpset20MatchesOnnxRuntime(string approximate)
    {
        var builder = new GraphBuilder(20).Input("x", [3, 4, 11], scale: 5f).Node("Gelu", ["x"], ["out"], ("approximate", approximate)).Output("out");
        MatchesOnnxRuntime(builder, ["Gelu"], approximate);
    }

    [Fact]
    public void OtherChainsStayAsTheyAre()
    {
        string[] unfused = ["MatMul", "Div", "Erf", "Add", "Mul", "Mul"];
        MatchesOnnxRuntime(Chain(17, divisor: 2f).Output("out"), unfused, "divided by 2");
        MatchesOnnxRuntime(Chain(17, one: 0.5f).Output("out"), unfused, "plus ½");
        // An intermediate value the caller reads keeps the chain apart.
        MatchesOnnxRuntime(Chain(17).Output("out").Output("e"), unfused, "erf read outside");
    }

    [Fact]
    public void AnExportedGeluComesBackAsOneNode()
    {
        var model = new Sequential(new Linear(6, 8), new GELU());
        var bytes = OnnxExporter.Export(model, [1, 6]);
        var imported = OnnxModel.Load(bytes);
        Assert.Equal("Gelu", imported.PlannedOps[^1]);
        var x = Tensor.Randn([4, 6], seed: 3) * 3f;
        using var _ = Tensor.NoGrad();
        var expected = model.Eval().Forward(x);
        Reference.Close(expected.ToArray(), expected.Shape.ToArray(), imported.Forward(x), 1e-6, "exported GELU");
    }

    [Fact]
    public void AnUnknownApproximationNamesTheNode()
    {
        var bytes = new GraphBuilder(20).Input("x", [2, 3]).Node("Gelu", ["x"], ["out"], ("approximate", "erf")).Output("out").Bytes();
        var error = Assert.Throws<OnnxNotSupportedException>(() => OnnxModel.Load(bytes));
        Assert.Contains("Gelu", error.Message);
        Assert.Contains("'erf'", error.Message);
    }
}
