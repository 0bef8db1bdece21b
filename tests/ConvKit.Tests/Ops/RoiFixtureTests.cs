using System.Text.Json;
using ConvKit.Ops;

namespace ConvKit.Tests.Ops;

/// <summary>
/// RoI max pooling and RoIAlign against torchvision 0.14 in float32 (tools/fixtures/gen_roi.py): two pictures, scales 1,
/// 1/16 and 0.5, sampling ratio −1 and 2, aligned or not, 2×2 to 7×7 outputs, boxes inside, partly and wholly outside
/// the map, tiny and of zero width, given as a (K, 5) tensor or a list per picture; output values and the gradient of
/// the feature map for a random upstream gradient.
/// </summary>
public class RoiFixtureTests
{
    const double Rtol = 1e-5, Atol = 1e-6;

    static readonly JsonElement Root = Fixtures.Load("roi.json");

    public static IEnumerable<object[]> Cases() => TestBackends.Each(Fixtures.Cases(Root));

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTorchvision(string backend, int index, string op)
    {
        using var _ = TestBackends.Use(backend);
        var c = Root.GetProperty("cases")[index];
        var args = c.GetProperty("args");
        var input = Fixtures.Tensor(c.GetProperty("input")).RequireGrad();
        var boxes = c.GetProperty("boxes");
        Size2 outputSize = Fixtures.Ints(args.GetProperty("outputSize")) is [var h, var w] ? (h, w) : throw new FormatException("outputSize");
        float scale = (float)args.GetProperty("spatialScale").GetDouble();

        Tensor y;
        if (op == "roi_pool")
            y = boxes.ValueKind == JsonValueKind.Array
                ? F.RoiPool(input, boxes.EnumerateArray().Select(Fixtures.Tensor).ToArray(), outputSize, scale)
                : F.RoiPool(input, Fixtures.Tensor(boxes), outputSize, scale);
        else
        {
            int ratio = args.GetProperty("samplingRatio").GetInt32();
            bool aligned = args.GetProperty("aligned").GetBoolean();
            y = boxes.ValueKind == JsonValueKind.Array
                ? F.RoiAlign(input, boxes.EnumerateArray().Select(Fixtures.Tensor).ToArray(), outputSize, scale, ratio, aligned)
                : F.RoiAlign(input, Fixtures.Tensor(boxes), outputSize, scale, ratio, aligned);
        }
        Assert.Equal(backend, y.Backend.Name); // the scope reached every tensor the op made

        var expected = c.GetProperty("output");
        Assert.Equal(Fixtures.Ints(expected.GetProperty("shape")), y.Shape);
        Close.All(Fixtures.Doubles(expected.GetProperty("data")), y.ToArray(), Rtol, Atol, $"{op} #{index} output");
        (y * Tensor.FromArray(Fixtures.Floats(c.GetProperty("weight")), y.Shape.ToArray())).Sum().Backward();
        Close.All(Fixtures.Doubles(c.GetProperty("grad")), input.Grad!.ToArray(), Rtol, Atol, $"{op} #{index} grad of the input");
    }
}
