using System.Text.Json;
using ConvKit.Ops;

namespace ConvKit.Tests.Ops;

/// <summary>
/// Forward values and gradients of the core ops against PyTorch (float64 reference from float32 inputs):
/// broadcasting arithmetic, unary math, comparisons, reductions, batched matmul, shape ops.
/// </summary>
public class TorchFixtureTests
{
    // Float32 kernels against a float64 reference: a few ulps of relative error plus an absolute floor
    // for values that cancel to near zero.
    const double Rtol = 1e-4, Atol = 1e-5;

    static readonly JsonElement Root = Fixtures.Load("core.json");

    public static IEnumerable<object[]> Cases() => TestBackends.Each(Fixtures.Cases(Root));

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string backend, int index, string op)
    {
        using var _ = TestBackends.Use(backend);
        var c = Root.GetProperty("cases")[index];
        var inputs = c.GetProperty("inputs").EnumerateArray().Select(Fixtures.Tensor).ToArray();
        bool differentiable = c.TryGetProperty("grads", out var grads);
        foreach (var x in inputs) x.RequiresGrad = differentiable;

        var y = Apply(op, inputs, c.GetProperty("args"));
        Assert.Equal(backend, y.Backend.Name); // the scope reached every tensor the op made

        var expected = c.GetProperty("output");
        Assert.Equal(Fixtures.Ints(expected.GetProperty("shape")), y.Shape);
        Close.All(Fixtures.Doubles(expected.GetProperty("data")), y.ToArray(), Rtol, Atol, $"{op} #{index} output");
        if (!differentiable) return;

        var weight = Tensor.FromArray(Fixtures.Floats(c.GetProperty("weight")), y.Shape.ToArray());
        (y * weight).Sum().Backward();
        for (int i = 0; i < inputs.Length; i++)
            Close.All(Fixtures.Doubles(grads[i]), inputs[i].Grad!.ToArray(), Rtol, Atol, $"{op} #{index} grad of input {i}");
    }

    static Tensor Apply(string op, Tensor[] x, JsonElement args)
    {
        int Int(string name) => args.GetProperty(name).GetInt32();
        int[]? Dims(string name) => args.GetProperty(name).ValueKind == JsonValueKind.Null ? null : Fixtures.Ints(args.GetProperty(name));
        bool KeepDim() => args.GetProperty("keepDim").GetBoolean();
        return op switch
        {
            "add" => x[0] + x[1],
            "sub" => x[0] - x[1],
            "mul" => x[0] * x[1],
            "div" => x[0] / x[1],
            "pow" => x[0].Pow(x[1]),
            "maximum" => x[0].Maximum(x[1]),
            "minimum" => x[0].Minimum(x[1]),
            "eq" => x[0].Eq(x[1]),
            "ne" => x[0].Ne(x[1]),
            "lt" => x[0].Lt(x[1]),
            "le" => x[0].Le(x[1]),
            "gt" => x[0].Gt(x[1]),
            "ge" => x[0].Ge(x[1]),
            "neg" => -x[0],
            "exp" => x[0].Exp(),
            "log" => x[0].Log(),
            "sqrt" => x[0].Sqrt(),
            "abs" => x[0].Abs(),
            "square" => x[0].Square(),
            "pow_scalar" => x[0].Pow((float)args.GetProperty("exponent").GetDouble()),
            "clamp" => x[0].Clamp((float)args.GetProperty("min").GetDouble(), (float)args.GetProperty("max").GetDouble()),
            "sum" => x[0].Sum(Dims("dims"), KeepDim()),
            "mean" => x[0].Mean(Dims("dims"), KeepDim()),
            "max" => x[0].Max(Dims("dims"), KeepDim()),
            "min" => x[0].Min(Dims("dims"), KeepDim()),
            "var" => x[0].Var(Dims("dims"), args.TryGetProperty("correction", out var k) ? k.GetInt32() : 1, KeepDim()),
            "argmax" => x[0].ArgMax(args.GetProperty("dim").ValueKind == JsonValueKind.Null ? null : Int("dim"), KeepDim()),
            "matmul" => x[0].MatMul(x[1]),
            "reshape" => x[0].Reshape(Dims("shape")!),
            "permute" => x[0].Permute(Dims("dims")!),
            "transpose" => x[0].Transpose(Int("dim0"), Int("dim1")),
            "slice" => x[0].Slice(Int("dim"), Int("start"), Int("end"), Int("step")),
            "narrow" => x[0].Narrow(Int("dim"), Int("start"), Int("length")),
            "concat" => Tensor.Concat(x, Int("dim")),
            "stack" => Tensor.Stack(x, Int("dim")),
            "expand" => x[0].Expand(Dims("shape")!),
            _ => throw new NotSupportedException(op),
        };
    }
}
