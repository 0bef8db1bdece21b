using System.Text.Json;
using ConvKit.Ops;

namespace ConvKit.Tests.Ops;

/// <summary>
/// Softmax, log-softmax, linear and every loss against PyTorch (tools/fixtures/gen_loss.py): forward values and
/// the gradients of every differentiable input, for each reduction, class weights, ignored targets, label
/// smoothing, spatial cross-entropy (masks with ignored borders), the Dice loss, BCE weights and pos_weight, and triplet swap.
/// </summary>
public class LossFixtureTests
{
    const double Rtol = 1e-4, Atol = 1e-5;

    static readonly JsonElement Root = Fixtures.Load("loss.json");

    public static IEnumerable<object[]> Cases() => TestBackends.Each(Fixtures.Cases(Root));

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string backend, int index, string op)
    {
        using var _ = TestBackends.Use(backend);
        var c = Root.GetProperty("cases")[index];
        var inputs = new Dictionary<string, Tensor>();
        foreach (var input in c.GetProperty("inputs").EnumerateArray())
            inputs[input.GetProperty("name").GetString()!] = Fixtures.Tensor(input).RequireGrad(input.GetProperty("grad").GetBoolean());

        var y = Apply(op, inputs, c.GetProperty("args"));
        Assert.Equal(backend, y.Backend.Name); // the scope reached every tensor the op made

        var expected = c.GetProperty("output");
        Assert.Equal(Fixtures.Ints(expected.GetProperty("shape")), y.Shape);
        Close.All(Fixtures.Doubles(expected.GetProperty("data")), y.ToArray(), Rtol, Atol, $"{op} #{index} output");

        var weight = Tensor.FromArray(Fixtures.Floats(c.GetProperty("weight")), y.Shape.ToArray());
        (y * weight).Sum().Backward();
        foreach (var grad in c.GetProperty("grads").EnumerateObject())
            Close.All(Fixtures.Doubles(grad.Value), inputs[grad.Name].Grad!.ToArray(), Rtol, Atol, $"{op} #{index} grad of {grad.Name}");
    }

    static Tensor Apply(string op, Dictionary<string, Tensor> x, JsonElement args)
    {
        float Float(string name) => (float)args.GetProperty(name).GetDouble();
        int Int(string name) => args.GetProperty(name).GetInt32();
        Tensor? Optional(string name) => x.GetValueOrDefault(name);
        var reduction = args.TryGetProperty("reduction", out var r)
            ? r.GetString() switch { "none" => Reduction.None, "sum" => Reduction.Sum, _ => Reduction.Mean }
            : Reduction.Mean;
        return op switch
        {
            "softmax" => F.Softmax(x["input"], Int("dim")),
            "log_softmax" => F.LogSoftmax(x["input"], Int("dim")),
            "linear" => F.Linear(x["input"], x["weight"], Optional("bias")),
            "cross_entropy" => F.CrossEntropy(x["input"], x["target"], Optional("weight"), Int("ignoreIndex"), reduction, Float("labelSmoothing")),
            "nll_loss" => F.NllLoss(x["input"], x["target"], Optional("weight"), Int("ignoreIndex"), reduction),
            "bce_with_logits" => F.BinaryCrossEntropyWithLogits(x["input"], x["target"], Optional("weight"), Optional("posWeight"), reduction),
            "mse" => F.MseLoss(x["input"], x["target"], reduction),
            "l1" => F.L1Loss(x["input"], x["target"], reduction),
            "smooth_l1" => F.SmoothL1Loss(x["input"], x["target"], reduction, Float("beta")),
            "dice" => F.DiceLoss(x["input"], x["target"], Int("ignoreIndex"), Float("smooth")),
            "triplet" => F.TripletMarginLoss(x["anchor"], x["positive"], x["negative"], Float("margin"), Float("p"),
                swap: args.GetProperty("swap").GetBoolean(), reduction: reduction),
            _ => throw new NotSupportedException(op),
        };
    }
}
