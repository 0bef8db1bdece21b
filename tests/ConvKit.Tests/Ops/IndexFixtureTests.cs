using System.Text.Json;
using ConvKit.Ops;

namespace ConvKit.Tests.Ops;

/// <summary>
/// Padding, gather, index select, where, sort, top-k, clamp, stack, split, chunk and asymmetric / SAME max pooling
/// against PyTorch (tools/fixtures/gen_index.py): forward values, indices where the op returns them, and the
/// gradient of every differentiable input.
/// </summary>
public class IndexFixtureTests
{
    const double Rtol = 1e-4, Atol = 1e-5;

    static readonly JsonElement Root = Fixtures.Load("index.json");

    public static IEnumerable<object[]> Cases() => TestBackends.Each(Fixtures.Cases(Root));

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string backend, int index, string op)
    {
        using var _ = TestBackends.Use(backend);
        var c = Root.GetProperty("cases")[index];
        var inputs = c.GetProperty("inputs").EnumerateArray().Select(Fixtures.Tensor).ToArray();
        foreach (var x in inputs) x.RequiresGrad = true;
        var args = c.GetProperty("args");

        var (y, indices, pieces) = Apply(op, inputs, args);
        Assert.Equal(backend, y.Backend.Name); // the scope reached every tensor the op made

        var expected = c.GetProperty("output");
        Assert.Equal(Fixtures.Ints(expected.GetProperty("shape")), y.Shape);
        Close.All(Fixtures.Doubles(expected.GetProperty("data")), y.ToArray(), Rtol, Atol, $"{op} #{index} output");
        if (c.TryGetProperty("indices", out var expectedIndices))
        {
            Assert.Equal(Fixtures.Ints(expectedIndices.GetProperty("shape")), indices!.Shape);
            Assert.Equal(Fixtures.Floats(expectedIndices.GetProperty("data")), indices.ToArray());
        }
        if (c.TryGetProperty("pieces", out var expectedPieces))
            Assert.Equal(expectedPieces.EnumerateArray().Select(Fixtures.Ints).ToArray(), pieces!.Select(p => p.Shape.ToArray()).ToArray());

        var weight = Tensor.FromArray(Fixtures.Floats(c.GetProperty("weight")), y.Shape.ToArray());
        (y * weight).Sum().Backward();
        var grads = c.GetProperty("grads");
        for (int i = 0; i < inputs.Length; i++)
            Close.All(Fixtures.Doubles(grads[i]), inputs[i].Grad!.ToArray(), Rtol, Atol, $"{op} #{index} grad of input {i}");
    }

    static (Tensor Output, Tensor? Indices, Tensor[]? Pieces) Apply(string op, Tensor[] x, JsonElement args)
    {
        int Int(string name) => args.GetProperty(name).GetInt32();
        bool Bool(string name) => args.GetProperty(name).GetBoolean();
        float? Float(string name) => args.GetProperty(name).ValueKind == JsonValueKind.Null ? null : (float)args.GetProperty(name).GetDouble();
        Size2 Pair(string name) => Fixtures.Ints(args.GetProperty(name)) is [var h, var w] ? new Size2(h, w) : throw new FormatException(name);
        Tensor Joined(Tensor[] pieces) => Tensor.Concat(pieces.Select(p => p.Reshape(-1)).ToArray());
        switch (op)
        {
            case "pad":
                var mode = args.GetProperty("mode").GetString() switch { "reflect" => PadMode.Reflect, "replicate" => PadMode.Replicate, _ => PadMode.Constant };
                return (F.Pad(x[0], Fixtures.Ints(args.GetProperty("pads")), mode, Float("value")!.Value), null, null);
            case "gather": return (F.Gather(x[0], Int("dim"), Fixtures.Tensor(args.GetProperty("index"))), null, null);
            case "index_select": return (x[0].IndexSelect(Int("dim"), Fixtures.Tensor(args.GetProperty("index"))), null, null);
            case "where": return (F.Where(Fixtures.Tensor(args.GetProperty("condition")), x[0], x[1]), null, null);
            case "sort":
                var (sorted, order) = x[0].Sort(Int("dim"), Bool("descending"));
                Assert.Equal(order.ToArray(), x[0].ArgSort(Int("dim"), Bool("descending")).ToArray());
                return (sorted, order, null);
            case "topk":
                var (largestValues, positions) = F.TopK(x[0], Int("k"), Int("dim"), Bool("largest"));
                return (largestValues, positions, null);
            case "clamp":
                return (F.Clamp(x[0], Float("min") ?? float.NegativeInfinity, Float("max") ?? float.PositiveInfinity), null, null);
            case "stack": return (F.Stack(x, Int("dim")), null, null);
            case "split":
                var size = args.GetProperty("size");
                var parts = size.ValueKind == JsonValueKind.Array ? F.Split(x[0], Fixtures.Ints(size), Int("dim")) : x[0].Split(size.GetInt32(), Int("dim"));
                return (Joined(parts), null, parts);
            case "chunk":
                var chunks = x[0].Chunk(Int("chunks"), Int("dim"));
                return (Joined(chunks), null, chunks);
            case "max_pool2d_pads":
                var pads = Fixtures.Ints(args.GetProperty("pads")) is [var top, var left, var bottom, var right]
                    ? new Pads2d(top, left, bottom, right) : throw new FormatException("pads");
                if (Bool("same"))
                    Assert.Equal(pads, Pads2d.Same((x[0].Shape[^2], x[0].Shape[^1]), Pair("kernel"), Pair("stride")));
                return (F.MaxPool2d(x[0], Pair("kernel"), Pair("stride"), pads, Pair("dilation"), Bool("ceil")), null, null);
            default: throw new NotSupportedException(op);
        }
    }
}
