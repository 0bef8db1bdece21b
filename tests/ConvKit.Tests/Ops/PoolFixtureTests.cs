using System.Text.Json;
using ConvKit.Ops;

namespace ConvKit.Tests.Ops;

/// <summary>
/// Pooling, normalisation, activations and up-sampling against PyTorch (tools/fixtures/gen_pool.py): forward
/// values, gradients of every input (batch norm's weight and bias too) and batch norm's running statistics.
/// </summary>
public class PoolFixtureTests
{
    // Float32 kernels against a float64 reference: a few ulps of relative error plus an absolute floor
    // for values that cancel to near zero.
    const double Rtol = 1e-4, Atol = 1e-5;

    static readonly JsonElement Root = Fixtures.Load("pool.json");

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
        Tensor? runningMean = c.TryGetProperty("runningMean", out var rm) ? Fixtures.Tensor(rm) : null;
        Tensor? runningVar = c.TryGetProperty("runningVar", out var rv) ? Fixtures.Tensor(rv) : null;

        var y = Apply(op, inputs, args, runningMean, runningVar);
        Assert.Equal(backend, y.Backend.Name); // the scope reached every tensor the op made

        var expected = c.GetProperty("output");
        Assert.Equal(Fixtures.Ints(expected.GetProperty("shape")), y.Shape);
        Close.All(Fixtures.Doubles(expected.GetProperty("data")), y.ToArray(), Rtol, Atol, $"{op} #{index} output");
        if (runningMean != null)
        {
            Close.All(Fixtures.Doubles(c.GetProperty("runningMeanAfter").GetProperty("data")), runningMean.ToArray(), Rtol, Atol, $"{op} #{index} running mean");
            Close.All(Fixtures.Doubles(c.GetProperty("runningVarAfter").GetProperty("data")), runningVar!.ToArray(), Rtol, Atol, $"{op} #{index} running var");
        }

        var weight = Tensor.FromArray(Fixtures.Floats(c.GetProperty("weight")), y.Shape.ToArray());
        (y * weight).Sum().Backward();
        var grads = c.GetProperty("grads");
        for (int i = 0; i < inputs.Length; i++)
            Close.All(Fixtures.Doubles(grads[i]), inputs[i].Grad!.ToArray(), Rtol, Atol, $"{op} #{index} grad of input {i}");
    }

    static Tensor Apply(string op, Tensor[] x, JsonElement args, Tensor? runningMean, Tensor? runningVar)
    {
        Size2 Pair(string name) => Fixtures.Ints(args.GetProperty(name)) is [var h, var w] ? new Size2(h, w) : throw new FormatException(name);
        bool Bool(string name) => args.GetProperty(name).GetBoolean();
        float Float(string name) => (float)args.GetProperty(name).GetDouble();
        bool IsNull(string name) => args.GetProperty(name).ValueKind == JsonValueKind.Null;
        return op switch
        {
            "max_pool2d" => F.MaxPool2d(x[0], Pair("kernel"), Pair("stride"), Pair("padding"), Pair("dilation"), Bool("ceil")),
            "avg_pool2d" => F.AvgPool2d(x[0], Pair("kernel"), Pair("stride"), Pair("padding"), Bool("ceil"), Bool("countIncludePad"),
                IsNull("divisor") ? null : args.GetProperty("divisor").GetInt32()),
            "adaptive_avg_pool2d" => F.AdaptiveAvgPool2d(x[0], Pair("size")),
            "batch_norm" => F.BatchNorm(x[0], runningMean, runningVar, Bool("affine") ? x[1] : null, Bool("affine") ? x[2] : null,
                Bool("training"), Float("momentum"), Float("eps")),
            "local_response_norm" => F.LocalResponseNorm(x[0], args.GetProperty("size").GetInt32(), Float("alpha"), Float("beta"), Float("k")),
            "relu" => F.Relu(x[0]),
            "leaky_relu" => F.LeakyRelu(x[0], Float("slope")),
            "relu6" => F.Relu6(x[0]),
            "tanh" => F.Tanh(x[0]),
            "sigmoid" => F.Sigmoid(x[0]),
            "upsample" => F.Upsample(x[0], IsNull("size") ? null : Pair("size"), IsNull("scale") ? null : Float("scale"),
                args.GetProperty("mode").GetString() == "nearest" ? UpsampleMode.Nearest : UpsampleMode.Bilinear, Bool("alignCorners")),
            _ => throw new NotSupportedException(op),
        };
    }
}
