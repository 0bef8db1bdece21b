using ConvKit.Optim;
using ConvKit.Optim.Schedules;

namespace ConvKit.Tests.Optim;

/// <summary>
/// StepLR, CosineAnnealingLR and OneCycleLR against torch.optim.lr_scheduler over 30 steps on an optimiser with
/// two parameter groups (0.1 and 0.02): each group's learning rate, and the momentum / β1 OneCycleLR cycles.
/// </summary>
public class ScheduleFixtureTests
{
    // Schedules compute in double; the optimiser keeps float32 hyper-parameters.
    const double Rtol = 1e-6, Atol = 1e-12;

    public static TheoryData<string> Cases() => OptimFixture.Names("schedules");

    [Theory]
    [MemberData(nameof(Cases))]
    public void SequenceMatchesPyTorch(string name)
    {
        var c = OptimFixture.Case("schedules", name);
        var parameters = new[] { Tensor.Zeros(2).RequireGrad(), Tensor.Zeros(3).RequireGrad() };
        var groups = System.Text.Json.JsonDocument.Parse("""[{"params": [0], "lr": 0.1}, {"params": [1], "lr": 0.02}]""").RootElement;
        var optimizer = OptimFixture.Optimizer(c.GetProperty("optimizer").GetString()!, c.GetProperty("optimizer_args"), groups, parameters);
        var schedule = OptimFixture.Schedule(c, optimizer)!;
        var lrs = c.GetProperty("lrs");
        var momenta = c.GetProperty("momenta");
        for (int step = 0; step < lrs.GetArrayLength(); step++)
        {
            if (step > 0)
            {
                optimizer.Step();
                schedule.Step();
            }
            Assert.Equal(step, schedule.LastEpoch);
            Close.All(Fixtures.Doubles(lrs[step]), optimizer.ParameterGroups.Select(g => (float)g.LearningRate).ToArray(), Rtol, Atol, $"{name}: lr at step {step}");
            Assert.Equal(optimizer.ParameterGroups.Select(g => g.LearningRate), schedule.LastLearningRates);
            Assert.Equal(schedule.LastLearningRates[0], schedule.LastLearningRate);
            double momentum = ((IHasMomentum)optimizer).Momentum;
            Close.All(Fixtures.Doubles(momenta[step]), [(float)momentum, (float)momentum], Rtol, Atol, $"{name}: momentum at step {step}");
        }

        if (c.GetProperty("next_step_raises").GetBoolean()) Assert.Throws<InvalidOperationException>(schedule.Step);
        else schedule.Step();
    }

    [Fact]
    public void OneCycleNeedsAnOptimiserWithMomentumToCycleIt()
    {
        var optimizer = new NoMomentum([Tensor.Ones(1).RequireGrad()]);
        Assert.Contains("cycleMomentum", Assert.Throws<ArgumentException>(() => new OneCycleLR(optimizer, maxLr: 1, totalSteps: 10)).Message);
        var schedule = new OneCycleLR(optimizer, maxLr: 1, totalSteps: 10, cycleMomentum: false);
        Assert.Equal(0.04, schedule.LastLearningRate, 1e-7);
    }

    [Fact]
    public void ConstructorsRejectBadConfigurations()
    {
        var optimizer = new SGD([Tensor.Ones(1).RequireGrad()], lr: 0.1, momentum: 0.9);
        Assert.Contains("stepSize", Assert.ThrowsAny<ArgumentException>(() => new StepLR(optimizer, stepSize: 0)).Message);
        Assert.Contains("tMax", Assert.ThrowsAny<ArgumentException>(() => new CosineAnnealingLR(optimizer, tMax: 0)).Message);
        Assert.Contains("pctStart", Assert.ThrowsAny<ArgumentException>(() => new OneCycleLR(optimizer, 1, 10, pctStart: 1.5)).Message);
        Assert.Contains("empty", Assert.ThrowsAny<ArgumentException>(() => new OneCycleLR(optimizer, 1, 3, pctStart: 0.3)).Message);
    }

    [Fact]
    public void LoadStateDictRestoresTheCounterAndTheOptimisersValues()
    {
        var optimizer = new SGD([Tensor.Ones(1).RequireGrad()], lr: 0.1, momentum: 0.9);
        var schedule = new OneCycleLR(optimizer, maxLr: 1, totalSteps: 20);
        for (int i = 0; i < 7; i++) schedule.Step();
        var state = schedule.StateDict();
        Assert.Equal(["last_epoch", "base_lrs.0"], state.Keys);

        var otherOptimizer = new SGD([Tensor.Ones(1).RequireGrad()], lr: 0.1, momentum: 0.9);
        var other = new OneCycleLR(otherOptimizer, maxLr: 1, totalSteps: 20);
        other.LoadStateDict(state);
        Assert.Equal(7, other.LastEpoch);
        Assert.Equal(optimizer.LearningRate, otherOptimizer.LearningRate);
        Assert.Equal(optimizer.Momentum, otherOptimizer.Momentum);

        var beyond = new Dictionary<string, Tensor>(state) { ["last_epoch"] = Tensor.Scalar(25) };
        Assert.Contains("total steps", Assert.Throws<ArgumentException>(() => other.LoadStateDict(beyond)).Message);
        var extra = new Dictionary<string, Tensor>(state) { ["base_lrs.1"] = Tensor.Scalar(1) };
        Assert.Contains("base_lrs.1", Assert.Throws<ArgumentException>(() => other.LoadStateDict(extra)).Message);
        Assert.Equal(7, other.LastEpoch);
    }

    /// <summary>A do-nothing optimiser without a momentum.</summary>
    sealed class NoMomentum(IEnumerable<Tensor> parameters) : Optimizer([new ParameterGroup(parameters)], 0.1, 0)
    {
        protected override void Update(ParameterGroup group, Tensor parameter, Tensor gradient, ParameterState state) { }
        protected override IReadOnlyList<string> BufferNames => [];
        protected override IReadOnlyDictionary<string, double> GetOptions() => new Dictionary<string, double>();
        protected override void SetOptions(IReadOnlyDictionary<string, double> options) { }
    }
}
