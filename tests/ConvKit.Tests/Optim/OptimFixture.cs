using System.Text.Json;
using ConvKit.Optim;
using ConvKit.Optim.Schedules;

namespace ConvKit.Tests.Optim;

/// <summary>Builds optimisers and schedules from the PyTorch argument names in Fixtures/optim.json and replays its gradients.</summary>
static class OptimFixture
{
    public static readonly JsonElement Root = Fixtures.Load("optim.json");

    public static JsonElement Case(string section, string name) =>
        Root.GetProperty(section).EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    public static TheoryData<string> Names(string section)
    {
        var names = new TheoryData<string>();
        foreach (var c in Root.GetProperty(section).EnumerateArray()) names.Add(c.GetProperty("name").GetString()!);
        return names;
    }

    /// <summary>Fresh copies of the fixture's initial parameters.</summary>
    public static Tensor[] InitialParameters() =>
        Root.GetProperty("params").EnumerateArray().Select(p => Fixtures.Tensor(p).RequireGrad()).ToArray();

    static double Number(JsonElement args, string name, double fallback) =>
        args.ValueKind == JsonValueKind.Object && args.TryGetProperty(name, out var v) ? v.GetDouble() : fallback;

    static bool Flag(JsonElement args, string name, bool fallback = false) =>
        args.TryGetProperty(name, out var v) ? v.GetBoolean() : fallback;

    public static Optimizer Optimizer(string kind, JsonElement args, JsonElement groups, Tensor[] parameters)
    {
        IEnumerable<ParameterGroup> parameterGroups = groups.ValueKind == JsonValueKind.Array
            ? groups.EnumerateArray().Select(g => new ParameterGroup(
                Fixtures.Ints(g.GetProperty("params")).Select(i => parameters[i]),
                g.TryGetProperty("lr", out var lr) ? lr.GetDouble() : null,
                g.TryGetProperty("weight_decay", out var wd) ? wd.GetDouble() : null)).ToList()
            : [new ParameterGroup(parameters)];
        (double, double)? betas = args.TryGetProperty("betas", out var b) ? (b[0].GetDouble(), b[1].GetDouble()) : null;
        return kind switch
        {
            "sgd" => new SGD(parameterGroups, Number(args, "lr", double.NaN), Number(args, "momentum", 0), Number(args, "dampening", 0),
                Number(args, "weight_decay", 0), Flag(args, "nesterov"), Flag(args, "maximize")),
            "adam" => new Adam(parameterGroups, Number(args, "lr", 1e-3), betas, Number(args, "eps", 1e-8), Number(args, "weight_decay", 0),
                Flag(args, "amsgrad"), Flag(args, "maximize")),
            "adamw" => new AdamW(parameterGroups, Number(args, "lr", 1e-3), betas, Number(args, "eps", 1e-8), Number(args, "weight_decay", 1e-2),
                Flag(args, "amsgrad"), Flag(args, "maximize")),
            _ => throw new ArgumentException(kind),
        };
    }

    public static Optimizer Optimizer(JsonElement c, Tensor[] parameters) =>
        Optimizer(c.GetProperty("optimizer").GetString()!, c.GetProperty("args"), c.GetProperty("groups"), parameters);

    public static LRScheduler? Schedule(JsonElement schedule, Optimizer optimizer)
    {
        if (schedule.ValueKind == JsonValueKind.Null) return null;
        var args = schedule.GetProperty("args");
        int Int(string name) => args.GetProperty(name).GetInt32();
        return schedule.GetProperty("kind").GetString() switch
        {
            "step" => new StepLR(optimizer, Int("step_size"), Number(args, "gamma", 0.1)),
            "cosine" => new CosineAnnealingLR(optimizer, Int("T_max"), Number(args, "eta_min", 0)),
            "onecycle" => new OneCycleLR(optimizer, Number(args, "max_lr", double.NaN), Int("total_steps"), Number(args, "pct_start", 0.3),
                args.TryGetProperty("anneal_strategy", out var a) && a.GetString() == "linear" ? AnnealStrategy.Linear : AnnealStrategy.Cos,
                Flag(args, "cycle_momentum", true), Number(args, "base_momentum", 0.85), Number(args, "max_momentum", 0.95),
                Number(args, "div_factor", 25), Number(args, "final_div_factor", 1e4), Flag(args, "three_phase")),
            var kind => throw new ArgumentException(kind),
        };
    }

    /// <summary>
    /// Sets each parameter's gradient to the fixture's gradient for <paramref name="step"/> through autograd:
    /// d/dp Σ(p·g) = g. Parameters without a gradient at that step are left with none.
    /// </summary>
    public static void Backward(Tensor[] parameters, int step)
    {
        Tensor? loss = null;
        var grads = Root.GetProperty("grads")[step];
        for (int i = 0; i < parameters.Length; i++)
        {
            parameters[i].ZeroGrad();
            if (grads[i].ValueKind == JsonValueKind.Null) continue;
            var term = (parameters[i] * Tensor.FromArray(Fixtures.Floats(grads[i]), parameters[i].Shape.ToArray())).Sum();
            loss = loss == null ? term : loss + term;
        }
        loss!.Backward();
    }

    public static int Steps => Root.GetProperty("grads").GetArrayLength();
}
