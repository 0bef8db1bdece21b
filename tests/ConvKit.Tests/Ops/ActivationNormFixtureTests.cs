using System.Text.Json;
using ConvKit.Ops;

namespace ConvKit.Tests.Ops;

/// <summary>
/// HardSigmoid, HardSwish, Erf (and GELU built on it) and LayerNorm against PyTorch
/// (tools/fixtures/gen_activation_norm.py): forward values and the gradient of every input, kinks included.
/// </summary>
public class ActivationNormFixtureTests
{
    const double Rtol = 1e-4, Atol = 1e-5;

    static readonly JsonElement Root = Fixtures.Load("activation_norm.json");

    public static IEnumerable<object[]> Cases() => TestBackends.Each(Fixtures.Cases(Root));

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string backend, int index, string op)
    {
        using var _ = TestBackends.Use(backend);
        var c = Root.GetProperty("cases")[index];
        var inputs = c.GetProperty("inputs").EnumerateArray().Select(Fixtures.Tensor).ToArray();
        foreach (var x in inputs) x.RequiresGrad = true;
        var y = Apply(op, inputs, c.GetProperty("args"));
        Assert.Equal(backend, y.Backend.Name); // the scope reached every tensor the op made

        var expected = c.GetProperty("output");
        Assert.Equal(Fixtures.Ints(expected.GetProperty("shape")), y.Shape);
        // erf is held to a few float32 ulps relative, down to arguments near 0; exact GELU to about an ulp of erf
        // (1 + erf cancels where x is far below 0, as in PyTorch's float32 kernel).
        var (rtol, atol) = op switch { "erf" => (4e-7, 1e-30), "gelu" => (1e-6, 2e-7), _ => (Rtol, Atol) };
        Close.All(Fixtures.Doubles(expected.GetProperty("data")), y.ToArray(), rtol, atol, $"{op} #{index} output");

        var weight = Tensor.FromArray(Fixtures.Floats(c.GetProperty("weight")), y.Shape.ToArray());
        (y * weight).Sum().Backward();
        var grads = c.GetProperty("grads");
        for (int i = 0; i < inputs.Length; i++)
            Close.All(Fixtures.Doubles(grads[i]), inputs[i].Grad!.ToArray(), op == "gelu" ? 1e-6 : Rtol, op == "gelu" ? 2e-7 : Atol, $"{op} #{index} grad of input {i}");
    }

    static Tensor Apply(string op, Tensor[] x, JsonElement args) => op switch
    {
        "hardsigmoid" => F.HardSigmoid(x[0]),
        "hardswish" => F.HardSwish(x[0]),
        "erf" => F.Erf(x[0]),
        "gelu" => F.Gelu(x[0]),
        "gelu_tanh" => F.Gelu(x[0], tanhApproximation: true),
        "layer_norm" => F.LayerNorm(x[0], Fixtures.Ints(args.GetProperty("normalizedShape")), x.Length > 1 ? x[1] : null,
            x.Length > 2 ? x[2] : null, (float)args.GetProperty("eps").GetDouble()),
        _ => throw new NotSupportedException(op),
    };

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void ErfIsOddSaturatesAndKeepsNaN(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var y = F.Erf(Tensor.FromArray([0f, -0f, 10f, -10f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1e-30f])).ToArray();
        Assert.Equal([0f, 0f, 1f, -1f, 1f, -1f], y[..6]);
        Assert.True(float.IsNaN(y[6]));
        Assert.Equal(1e-30f * 1.1283791f, y[7], 1e-36f);
        // The vector lanes of a long tensor agree with the scalar tail for the same value (within an FMA's rounding).
        var many = Tensor.Rand([1001], seed: 3) * 10f - 5f;
        var whole = F.Erf(many).ToArray();
        var values = many.ToArray();
        for (int i = 0; i < values.Length; i += 97)
        {
            float single = F.Erf(Tensor.FromArray([values[i]])).ToArray()[0];
            Assert.True(Math.Abs(single - whole[i]) <= 2e-7 * Math.Abs(single), $"erf({values[i]}): vector {whole[i]}, scalar {single}");
        }
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void LayerNormBadArgumentsNameBothShapes(string backend)
    {
        using var backendScope = TestBackends.Use(backend);
        var x = Tensor.Zeros(2, 3, 4);
        var error = Assert.Throws<ArgumentException>(() => F.LayerNorm(x, [3]));
        Assert.Contains("LayerNorm", error.Message);
        Assert.Contains("[2, 3, 4]", error.Message);
        Assert.Contains("[3]", error.Message);
        error = Assert.Throws<ArgumentException>(() => F.LayerNorm(x, [4], weight: Tensor.Ones(3)));
        Assert.Contains("weight", error.Message);
        Assert.Contains("[4]", error.Message);
        Assert.Contains("[3]", error.Message);
        error = Assert.Throws<ArgumentException>(() => F.LayerNorm(x, []));
        Assert.Contains("normalizedShape", error.Message);
        error = Assert.Throws<ArgumentException>(() => F.LayerNorm(x, [2, 3, 4, 1]));
        Assert.Contains("[2, 3, 4, 1]", error.Message);
    }
}
