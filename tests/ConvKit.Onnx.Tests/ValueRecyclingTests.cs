namespace ConvKit.Onnx.Tests;

/// <summary>
/// Inference hands a dead intermediate value's memory back for reuse, so a model run again allocates no new activations:
/// here a ConvNeXt block (channels-last Linear layers around an exact GELU, Transposes between layouts), whose chain of
/// MatMul, Div, Erf, Add and Mul once allocated every value afresh (300 MB a run for ConvNeXt-T).
/// </summary>
public class ValueRecyclingTests
{
    [Fact]
    public void AConvNeXtBlockRunAgainAllocatesNoActivationsAndMatchesOnnxRuntime()
    {
        const int Channels = 16, Hidden = 64, Size = 16; // every value holds at least 4,096 floats, the smallest length recycled
        var builder = new GraphBuilder(17).Input("x", [1, Channels, Size, Size])
            .Weight("w1", [Channels, Hidden], 0.25f).Weight("b1", [Hidden]).Weight("w2", [Hidden, Channels], 0.125f).Weight("b2", [Channels])
            .Weight("gamma", [Channels]).Floats("root2", [MathF.Sqrt(2)]).Floats("one", [1f]).Floats("half", [0.5f])
            .Node("Transpose", ["x"], ["t"], ("perm", new[] { 0, 2, 3, 1 }))
            .Node("MatMul", ["t", "w1"], ["m1"]).Node("Add", ["m1", "b1"], ["h"])
            .Node("Div", ["h", "root2"], ["d"]).Node("Erf", ["d"], ["e"]).Node("Add", ["e", "one"], ["e1"])
            .Node("Mul", ["h", "e1"], ["g"]).Node("Mul", ["g", "half"], ["gelu"])
            .Node("MatMul", ["gelu", "w2"], ["m2"]).Node("Add", ["m2", "b2"], ["p"]).Node("Mul", ["p", "gamma"], ["s"])
            .Node("Transpose", ["s"], ["back"], ("perm", new[] { 0, 3, 1, 2 })).Node("Add", ["back", "x"], ["out"])
            .Output("out");
        var bytes = builder.Bytes();
        var model = OnnxModel.Load(bytes);
        var (values, shape) = Reference.Run(bytes, builder.Feeds)["out"];

        using (Tensor.NoGrad())
        {
            var first = model.Run(builder.Feeds)["out"];
            Reference.Close(values, shape, first, 1e-5, "first run");
            long before = GC.GetAllocatedBytesForCurrentThread();
            var second = model.Run(builder.Feeds)["out"];
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Reference.Close(values, shape, second, 1e-5, "second run");
            // The run's eleven hidden-width and channel-width values would be ~0.5 MB; one of them is 64 KB.
            Assert.True(allocated < Size * Size * Hidden * sizeof(float), $"the second run allocated {allocated:N0} bytes");
        }
    }
}
