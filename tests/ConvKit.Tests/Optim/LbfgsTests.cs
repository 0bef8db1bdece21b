using System.Text.Json;
using ConvKit.Optim;

namespace ConvKit.Tests.Optim;

/// <summary>
/// LBFGS against torch.optim.LBFGS (Fixtures/lbfgs.json, tools/fixtures/gen_lbfgs.py): the same float32 problems on
/// both sides, with and without the strong Wolfe line search; after every step the returned loss, the closure calls,
/// the running iteration and evaluation counts and every parameter are compared. Also its argument checks.
/// </summary>
public class LbfgsTests
{
    // Both sides run in float32. Where vectors are longer than two elements, dot products and reductions sum in
    // different orders, so values drift by a few ulps per iteration (at most about 2.5e-6 of 0.1 by the third step of the
    // logistic run where vectors are 8 lanes wide, AVX2, rather than 16; 1e-6 with AVX-512); those problems were chosen
    // so that rounding never changes a decision (the generator checks against float64), so call counts match exactly.
    // The Rosenbrock runs are sensitive to rounding but do the same float32 operations on both sides (they agree exactly).
    const double Rtol = 5e-5, Atol = 1e-6;

    static readonly JsonElement Root = Fixtures.Load("lbfgs.json");

    public static TheoryData<string> Cases()
    {
        var names = new TheoryData<string>();
        foreach (var c in Root.GetProperty("cases").EnumerateArray()) names.Add(c.GetProperty("name").GetString()!);
        return names;
    }

    static JsonElement Case(string name) =>
        Root.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    static Tensor Rosenbrock(Tensor[] p)
    {
        var x = p[0].Narrow(0, 0, 1);
        var y = p[0].Narrow(0, 1, 1);
        return ((1f - x).Square() + 100f * (y - x.Square()).Square()).Sum();
    }

    /// <summary>The fixture's loss over <paramref name="parameters"/>, as the PyTorch generator computes it.</summary>
    static Func<Tensor> Loss(JsonElement c, Tensor[] parameters)
    {
        var data = c.GetProperty("data");
        Tensor Data(string name) => Fixtures.Tensor(data.GetProperty(name));
        switch (c.GetProperty("problem").GetString())
        {
            case "rosenbrock":
                return () => Rosenbrock(parameters);
            case "least_squares":
                var (x, y) = (Data("X"), Data("Y"));
                return () => (x.MatMul(parameters[0].Transpose(0, 1)) + parameters[1] - y).Square().Mean();
            case "logistic":
                var (features, labels) = (Data("X"), Data("Y"));
                return () =>
                {
                    var z = features.MatMul(parameters[0].Transpose(0, 1)) + parameters[1];
                    return ((z.Exp() + 1f).Log() - labels * z).Mean();
                };
            case "quadratic":
                var (w, centre) = (Data("w"), Data("c"));
                return () => (w * (parameters[0] - centre).Square()).Sum();
            case var problem:
                throw new ArgumentException(problem);
        }
    }

    static LBFGS Optimizer(JsonElement args, Tensor[] parameters)
    {
        double Number(string name, double fallback) => args.TryGetProperty(name, out var v) ? v.GetDouble() : fallback;
        return new LBFGS(parameters,
            lr: Number("lr", 1),
            maxIter: (int)Number("max_iter", 20),
            maxEval: args.TryGetProperty("max_eval", out var maxEval) ? maxEval.GetInt32() : null,
            toleranceGrad: Number("tolerance_grad", 1e-7),
            toleranceChange: Number("tolerance_change", 1e-9),
            historySize: (int)Number("history_size", 100),
            lineSearch: args.TryGetProperty("line_search_fn", out var ls) && ls.GetString() == "strong_wolfe" ? LineSearch.StrongWolfe : LineSearch.None);
    }

    static Func<float> Closure(LBFGS optimizer, Func<Tensor> loss, Action counted) => () =>
    {
        counted();
        optimizer.ZeroGrad();
        var value = loss();
        value.Backward();
        return value.Item();
    };

    public static IEnumerable<object[]> BackendCases() => TestBackends.Each(Cases());

    [Theory]
    [MemberData(nameof(BackendCases))]
    public void TrajectoryMatchesPyTorch(string backend, string name)
    {
        using var _ = TestBackends.Use(backend);
        var c = Case(name);
        var parameters = c.GetProperty("initial").EnumerateArray().Select(p => Fixtures.Tensor(p).RequireGrad()).ToArray();
        var optimizer = Optimizer(c.GetProperty("args"), parameters);
        int calls = 0;
        var closure = Closure(optimizer, Loss(c, parameters), () => calls++);
        int step = 0;
        foreach (var expected in c.GetProperty("steps").EnumerateArray())
        {
            step++;
            calls = 0;
            float loss = optimizer.Step(closure);
            string where = $"{backend} {name}, step {step}";
            Assert.True(expected.GetProperty("evals").GetInt32() == calls, $"{where}: {calls} closure calls, expected {expected.GetProperty("evals")}");
            Assert.Equal(expected.GetProperty("n_iter").GetInt64(), optimizer.Iterations);
            Assert.Equal(expected.GetProperty("func_evals").GetInt64(), optimizer.FunctionEvaluations);
            Close.All([expected.GetProperty("loss").GetDouble()], [loss], Rtol, Atol, $"{where}: returned loss");
            var expectedParameters = expected.GetProperty("params");
            for (int i = 0; i < parameters.Length; i++)
                Close.All(Fixtures.Doubles(expectedParameters[i]), parameters[i].ToArray(), Rtol, Atol, $"{where}: parameter {i}");
        }
    }

    [Fact]
    public void TheFixtureCoversEveryPath()
    {
        var names = Root.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToList();
        Assert.Contains(names, n => n.Contains("strong wolfe") && n.Contains("history"));
        Assert.Contains("quadratic at optimum", names);
        Assert.Contains("quadratic tolerance change", names);
        Assert.Contains(names, n => n.Contains("max eval"));
    }

    [Theory]
    [InlineData(LineSearch.None, 20)]
    [InlineData(LineSearch.StrongWolfe, 27)] // one line search of 1 + 25 probes after the first call, then maxEval (25) is spent
    public void ANaNLossEndsAfterTheSameNumberOfCallsAsPyTorch(LineSearch lineSearch, int expectedCalls)
    {
        var p = Tensor.FromArray([1f, 2f], 2).RequireGrad();
        var optimizer = new LBFGS([p], lineSearch: lineSearch);
        int calls = 0;
        var closure = Closure(optimizer, () => (p * p * float.NaN).Sum(), () => calls++);
        for (int step = 0; step < 2; step++)
        {
            calls = 0;
            Assert.True(float.IsNaN(optimizer.Step(closure)));
            Assert.Equal(expectedCalls, calls);
        }
        Assert.All(p.ToArray(), v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void PlainStepThrowsAndAsksForAClosure()
    {
        var p = Tensor.FromArray([1f, 2f], 2).RequireGrad();
        Optimizer optimizer = new LBFGS([p]);
        (p * p).Sum().Backward();
        var error = Assert.Throws<InvalidOperationException>(optimizer.Step);
        Assert.Contains("LBFGS", error.Message);
        Assert.Contains("Step(closure)", error.Message);
        Assert.Equal([1f, 2f], p.ToArray());
    }

    public static TheoryData<string, Action<Tensor>> BadArguments() => new()
    {
        { "lr", p => _ = new LBFGS([p], lr: 0) },
        { "lr", p => _ = new LBFGS([p], lr: -0.5) },
        { "lr", p => _ = new LBFGS([p], lr: double.NaN) },
        { "lr", p => _ = new LBFGS([p], lr: double.PositiveInfinity) },
        { "maxIter", p => _ = new LBFGS([p], maxIter: 0) },
        { "maxEval", p => _ = new LBFGS([p], maxEval: 0) },
        { "maxEval", p => _ = new LBFGS([p], maxIter: 4, maxEval: -3) },
        { "historySize", p => _ = new LBFGS([p], historySize: 0) },
        { "toleranceGrad", p => _ = new LBFGS([p], toleranceGrad: -1e-7) },
        { "toleranceGrad", p => _ = new LBFGS([p], toleranceGrad: double.NaN) },
        { "toleranceChange", p => _ = new LBFGS([p], toleranceChange: -1e-9) },
        { "lineSearch", p => _ = new LBFGS([p], lineSearch: (LineSearch)7) },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public void ConstructorRejectsBadArgumentsNamingThem(string argument, Action<Tensor> construct)
    {
        var p = Tensor.Ones(2).RequireGrad();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => construct(p));
        Assert.Equal(argument, error.ParamName);
        Assert.Contains("LBFGS", error.Message);
        Assert.Contains(argument, error.Message);
    }

    [Fact]
    public void MaxEvalDefaultsToFiveQuartersOfMaxIter()
    {
        var p = Tensor.Ones(2).RequireGrad();
        Assert.Equal(25, new LBFGS([p]).MaxEval);
        Assert.Equal(8, new LBFGS([p], maxIter: 7).MaxEval);
        Assert.Equal(1, new LBFGS([p], maxIter: 1).MaxEval);
    }

    [Fact]
    public void ParametersWithoutAGradientCountAsZeroAndStayPut()
    {
        var used = Tensor.FromArray([3f, -1f], 2).RequireGrad();
        var unused = Tensor.FromArray([5f], 1).RequireGrad();
        var optimizer = new LBFGS([used, unused], lineSearch: LineSearch.StrongWolfe);
        optimizer.Step(Closure(optimizer, () => (used - 1f).Square().Sum(), () => { }));
        Close.All([1, 1], used.ToArray(), 0, 1e-5, "used parameter");
        Assert.Equal([5f], unused.ToArray());
    }

    [Fact]
    public void StateDictHoldsTheHyperParametersAndRestoresThemIntoAFreshRun()
    {
        var p = Tensor.FromArray([-1.5f, 2f], 2).RequireGrad();
        var optimizer = new LBFGS([p], lr: 0.5, maxIter: 7, maxEval: 11, toleranceGrad: 1e-5, toleranceChange: 1e-7, historySize: 4,
            lineSearch: LineSearch.StrongWolfe);
        optimizer.Step(Closure(optimizer, () => Rosenbrock([p]), () => { }));
        var state = optimizer.StateDict();
        Assert.Equal(7f, state["options.max_iter"].Item());
        Assert.Equal(11f, state["options.max_eval"].Item());
        Assert.Equal(4f, state["options.history_size"].Item());
        Assert.Equal(1f, state["options.line_search"].Item());
        Assert.Equal(0.5f, state["param_groups.0.lr"].Item());
        Assert.DoesNotContain(state.Keys, k => k.StartsWith("state."));

        var q = Tensor.FromArray([-1.5f, 2f], 2).RequireGrad();
        var restored = new LBFGS([q]);
        restored.LoadStateDict(state);
        Assert.Equal((7, 11, 4, LineSearch.StrongWolfe), (restored.MaxIter, restored.MaxEval, restored.HistorySize, restored.LineSearch));
        Assert.Equal((float)1e-5, restored.ToleranceGrad);
        Assert.Equal((float)1e-7, restored.ToleranceChange);
        Assert.Equal(0.5, restored.LearningRate);

        // A fresh run from the same start with the restored settings retraces the first step.
        int calls = 0;
        restored.Step(Closure(restored, () => Rosenbrock([q]), () => calls++));
        Assert.Equal(p.ToArray(), q.ToArray());
        Assert.Equal(optimizer.FunctionEvaluations, restored.FunctionEvaluations);

        // Loading into a run in progress starts it afresh, since the history is not saved.
        optimizer.LoadStateDict(state);
        Assert.Equal(0, optimizer.Iterations);
    }

    [Fact]
    public void LoadStateDictRejectsABadOption()
    {
        var p = Tensor.Ones(2).RequireGrad();
        var optimizer = new LBFGS([p]);
        var state = new Dictionary<string, Tensor>(optimizer.StateDict()) { ["options.history_size"] = Tensor.Scalar(2.5f) };
        var error = Assert.Throws<ArgumentException>(() => optimizer.LoadStateDict(state));
        Assert.Contains("history_size", error.Message);
        Assert.Equal(100, optimizer.HistorySize);
    }
}
