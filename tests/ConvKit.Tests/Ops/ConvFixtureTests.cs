using System.Text.Json;
using ConvKit.Ops;

namespace ConvKit.Tests.Ops;

/// <summary>
/// Conv2d and ConvTranspose2d against PyTorch (float64 reference from float32 inputs): outputs and the gradients
/// of input, weight and bias, over odd sizes, padding/stride/dilation/groups, depthwise, 1×1, "same"/"valid".
/// </summary>
public class ConvFixtureTests
{
    // Float32 sums of at most ~100 products of values in [−1, 1]: rounding stays below 100·6e-8 ≈ 6e-6 absolute,
    // so 1e-5 absolute plus 1e-4 relative is tight for right answers and far from any wrong one.
    const double Rtol = 1e-4, Atol = 1e-5;

    static readonly JsonElement Root = Fixtures.Load("conv.json");

    public static IEnumerable<object[]> Cases() => TestBackends.Each(Fixtures.Cases(Root));

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string backend, int index, string op)
    {
        using var _ = TestBackends.Use(backend);
        var c = Root.GetProperty("cases")[index];
        string name = c.GetProperty("name").GetString()!;
        var input = Fixtures.Tensor(c.GetProperty("input")).RequireGrad();
        var weight = Fixtures.Tensor(c.GetProperty("weight")).RequireGrad();
        var bias = c.GetProperty("bias").ValueKind == JsonValueKind.Null ? null : Fixtures.Tensor(c.GetProperty("bias")).RequireGrad();
        var args = c.GetProperty("args");
        Size2 Pair(string key) => Fixtures.Ints(args.GetProperty(key)) is var v ? new Size2(v[0], v[1]) : default;
        int groups = args.GetProperty("groups").GetInt32();

        var output = op == "conv2d"
            ? F.Conv2d(input, weight, bias, Pair("stride"), Padding(args.GetProperty("padding")), Pair("dilation"), groups)
            : F.ConvTranspose2d(input, weight, bias, Pair("stride"), Pair("padding"), Pair("output_padding"), groups, Pair("dilation"));
        Assert.Equal(backend, output.Backend.Name); // the scope reached every tensor the op made

        var expected = c.GetProperty("output");
        Assert.Equal(Fixtures.Ints(expected.GetProperty("shape")), output.Shape);
        Close.All(Fixtures.Doubles(expected.GetProperty("data")), output.ToArray(), Rtol, Atol, $"{name} #{index} output");

        (output * Fixtures.Tensor(c.GetProperty("upstream"))).Sum().Backward();
        var grads = c.GetProperty("grads");
        Close.All(Fixtures.Doubles(grads[0].GetProperty("data")), input.Grad!.ToArray(), Rtol, Atol, $"{name} #{index} input grad");
        Close.All(Fixtures.Doubles(grads[1].GetProperty("data")), weight.Grad!.ToArray(), Rtol, Atol, $"{name} #{index} weight grad");
        if (bias != null)
            Close.All(Fixtures.Doubles(grads[2].GetProperty("data")), bias.Grad!.ToArray(), Rtol, Atol, $"{name} #{index} bias grad");
    }

    static Padding Padding(JsonElement padding) => padding.ValueKind == JsonValueKind.String
        ? padding.GetString()!
        : Fixtures.Ints(padding) is var v ? (v[0], v[1]) : default;

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void CourseVerticalEdgeExampleGivesTheCourseNumbers(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        // The fixture's expected values come from PyTorch; these are the numbers printed in the course.
        var c = Root.GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == "course_vertical_edge");
        var output = F.Conv2d(Fixtures.Tensor(c.GetProperty("input")), Fixtures.Tensor(c.GetProperty("weight")));
        float[] course = [-5, -4, 0, 8, -10, -2, 2, 3, 0, -2, -4, -7, -3, -2, -3, -16];
        Assert.Equal(course, output.ToArray());
        Assert.Equal(course, Fixtures.Floats(c.GetProperty("output").GetProperty("data")));
    }
}
