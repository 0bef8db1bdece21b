using ConvKit.IO;
using ConvKit.Optim;

namespace ConvKit.Tests.Optim;

/// <summary>
/// Optimiser and schedule state dicts: a run interrupted mid-way, saved to a safetensors checkpoint and resumed
/// into fresh objects follows the uninterrupted run bit for bit; malformed states are refused without side effects.
/// </summary>
public class OptimizerStateTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-optim-").FullName;
    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Theory]
    [InlineData("sgd one cycle")]
    [InlineData("adam one cycle")]
    [InlineData("adamw step lr")]
    [InlineData("sgd groups")]
    [InlineData("adam amsgrad")]
    public void ResumingFromACheckpointGivesTheUninterruptedTrajectory(string name)
    {
        var c = OptimFixture.Case("optimizers", name);
        const int interruptAt = 4;

        var parameters = OptimFixture.InitialParameters();
        var optimizer = OptimFixture.Optimizer(c, parameters);
        var schedule = OptimFixture.Schedule(c.GetProperty("schedule"), optimizer);
        var uninterrupted = new List<float[][]>();
        string checkpoint = Path.Combine(directory, "checkpoint.safetensors");
        for (int step = 0; step < OptimFixture.Steps; step++)
        {
            if (step == interruptAt)
            {
                var saved = new Dictionary<string, Tensor>();
                for (int i = 0; i < parameters.Length; i++) saved[$"model.{i}"] = parameters[i].Detach();
                foreach (var (key, value) in optimizer.StateDict()) saved["optimizer." + key] = value;
                foreach (var (key, value) in schedule?.StateDict() ?? new Dictionary<string, Tensor>()) saved["schedule." + key] = value;
                Safetensors.Save(checkpoint, saved);
            }
            OptimFixture.Backward(parameters, step);
            optimizer.Step();
            schedule?.Step();
            uninterrupted.Add(parameters.Select(p => p.ToArray()).ToArray());
        }

        // A new process: same construction, then the checkpoint.
        var loaded = Safetensors.Load(checkpoint);
        var resumed = OptimFixture.InitialParameters();
        var resumedOptimizer = OptimFixture.Optimizer(c, resumed);
        var resumedSchedule = OptimFixture.Schedule(c.GetProperty("schedule"), resumedOptimizer);
        using (Tensor.NoGrad())
            for (int i = 0; i < resumed.Length; i++) resumed[i].CopyFrom(loaded[$"model.{i}"]);
        resumedOptimizer.LoadStateDict(Section(loaded, "optimizer."));
        resumedSchedule?.LoadStateDict(Section(loaded, "schedule."));
        for (int step = interruptAt; step < OptimFixture.Steps; step++)
        {
            OptimFixture.Backward(resumed, step);
            resumedOptimizer.Step();
            resumedSchedule?.Step();
            for (int i = 0; i < resumed.Length; i++)
                Assert.True(uninterrupted[step][i].SequenceEqual(resumed[i].ToArray()), $"{name}: parameter {i} differs after step {step + 1}");
        }
    }

    static Dictionary<string, Tensor> Section(IReadOnlyDictionary<string, Tensor> state, string prefix) =>
        state.Where(e => e.Key.StartsWith(prefix)).ToDictionary(e => e.Key[prefix.Length..], e => e.Value);

    [Fact]
    public void StateDictNamesGroupsOptionsAndPerParameterState()
    {
        var a = Tensor.Ones(2, 2).RequireGrad();
        var b = Tensor.Ones(3).RequireGrad();
        var optimizer = new Adam([new ParameterGroup([a]), new ParameterGroup([b], weightDecay: 0.5)], lr: 0.01, amsgrad: true);
        (a.Sum() + b.Sum()).Backward();
        optimizer.Step();
        optimizer.Step();
        var state = optimizer.StateDict();
        Assert.Equal(
            ["param_groups.0.lr", "param_groups.0.weight_decay", "param_groups.0.params",
             "param_groups.1.lr", "param_groups.1.weight_decay", "param_groups.1.params",
             "options.beta1", "options.beta2", "options.eps", "options.amsgrad", "options.maximize",
             "state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.max_exp_avg_sq",
             "state.1.step", "state.1.exp_avg", "state.1.exp_avg_sq", "state.1.max_exp_avg_sq"],
            state.Keys);
        Assert.Equal(2f, state["state.1.step"].Item());
        Assert.Equal(0.5f, state["param_groups.1.weight_decay"].Item());
        Assert.Equal(1f, state["options.amsgrad"].Item());
        Assert.Equal([2, 2], state["state.0.exp_avg"].Shape);

        // A snapshot: stepping on does not change it.
        float[] before = state["state.0.exp_avg"].ToArray();
        optimizer.Step();
        Assert.Equal(before, state["state.0.exp_avg"].ToArray());
    }

    public static TheoryData<string, string> BadStates() => new()
    {
        { "missing", "param_groups.0.lr" },
        { "missing", "options.momentum" },
        { "missing", "state.0.step" },
        { "unexpected", "options.beta1" },
        { "unexpected", "state.5.momentum_buffer" },
        { "unexpected", "state.0.exp_avg" },
        { "shape", "state.0.momentum_buffer" },
        { "not a number", "param_groups.0.weight_decay" },
        { "fraction", "state.0.step" },
        { "count", "param_groups.0.params" },
        { "flag", "options.nesterov" },
    };

    [Theory]
    [MemberData(nameof(BadStates))]
    public void LoadStateDictRefusesMalformedStatesAndChangesNothing(string problem, string key)
    {
        var p = Tensor.Ones(2).RequireGrad();
        var source = new SGD([p], lr: 0.1, momentum: 0.9);
        p.Sum().Backward();
        source.Step();
        var state = new Dictionary<string, Tensor>(source.StateDict());
        switch (problem)
        {
            case "missing": state.Remove(key); break;
            case "unexpected": state[key] = Tensor.Zeros(2); break;
            case "shape": state[key] = Tensor.Zeros(3); break;
            case "not a number": state[key] = Tensor.Zeros(2); break;
            case "fraction": state[key] = Tensor.Scalar(1.5f); break;
            case "count": state[key] = Tensor.Scalar(2); break;
            case "flag": state[key] = Tensor.Scalar(0.5f); break;
        }

        var target = new SGD([Tensor.Ones(2).RequireGrad()], lr: 0.3, momentum: 0.5);
        var before = target.StateDict();
        var error = Assert.Throws<ArgumentException>(() => target.LoadStateDict(state));
        Assert.Contains("SGD.LoadStateDict", error.Message);
        Assert.Contains(key.Split('.')[^1], error.Message);
        var after = target.StateDict();
        Assert.Equal(before.Keys, after.Keys);
        Assert.All(before, e => Assert.Equal(e.Value.ToArray(), after[e.Key].ToArray()));
    }

    [Fact]
    public void LoadStateDictRestoresHyperParametersAsPyTorchDoes()
    {
        var source = new SGD([Tensor.Ones(2).RequireGrad()], lr: 0.25, momentum: 0.75, dampening: 0.5, weightDecay: 0.125);
        var target = new SGD([Tensor.Ones(2).RequireGrad()], lr: 0.1);
        target.LoadStateDict(source.StateDict());
        Assert.Equal((0.25, 0.75, 0.5, 0.125), (target.LearningRate, target.Momentum, target.Dampening, target.ParameterGroups[0].WeightDecay));
    }
}
