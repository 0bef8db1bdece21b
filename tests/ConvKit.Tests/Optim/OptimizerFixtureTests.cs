using ConvKit.Optim;

namespace ConvKit.Tests.Optim;

/// <summary>
/// SGD, Adam and AdamW (with parameter groups and with schedules stepping alongside) against torch.optim:
/// the same initial parameters and recorded gradients on both sides, every parameter compared after every step.
/// </summary>
public class OptimizerFixtureTests
{
    // Float32 updates against a float64 reference over ten steps, with a floor for values near zero.
    const double Rtol = 1e-4, Atol = 1e-6;

    public static IEnumerable<object[]> Cases() => TestBackends.Each(OptimFixture.Names("optimizers"));

    [Theory]
    [MemberData(nameof(Cases))]
    public void TrajectoryMatchesPyTorch(string backend, string name)
    {
        using var _ = TestBackends.Use(backend);
        var c = OptimFixture.Case("optimizers", name);
        var parameters = OptimFixture.InitialParameters();
        var optimizer = OptimFixture.Optimizer(c, parameters);
        var schedule = OptimFixture.Schedule(c.GetProperty("schedule"), optimizer);
        var expected = c.GetProperty("expected");
        for (int step = 0; step < OptimFixture.Steps; step++)
        {
            OptimFixture.Backward(parameters, step);
            optimizer.Step();
            schedule?.Step();
            for (int i = 0; i < parameters.Length; i++)
                Close.All(Fixtures.Doubles(expected[step][i]), parameters[i].ToArray(), Rtol, Atol, $"{backend} {name}: parameter {i} after step {step + 1}");
        }
    }

    [Fact]
    public void ParametersWithoutGradientsAreSkippedAndGetNoState()
    {
        var used = Tensor.FromArray([1f, 2f]).RequireGrad();
        var unused = Tensor.FromArray([3f, 4f]).RequireGrad();
        var optimizer = new Adam([used, unused], lr: 0.1);
        (used * used).Sum().Backward();
        optimizer.Step();
        Assert.Equal([3f, 4f], unused.ToArray());
        Assert.NotEqual([1f, 2f], used.ToArray());
        var keys = optimizer.StateDict().Keys.ToList();
        Assert.Contains("state.0.exp_avg", keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("state.1."));
    }

    [Fact]
    public void ZeroGradClearsEveryGradient()
    {
        var a = Tensor.Ones(2).RequireGrad();
        var b = Tensor.Ones(3).RequireGrad();
        var optimizer = new SGD([new ParameterGroup([a]), new ParameterGroup([b], lr: 0.5)], lr: 0.1);
        (a.Sum() + b.Sum()).Backward();
        optimizer.ZeroGrad();
        Assert.Null(a.Grad);
        Assert.Null(b.Grad);
    }

    [Fact]
    public void LearningRateSetsEveryGroupAndGroupsKeepTheirOwnDefaults()
    {
        var a = Tensor.Ones(2).RequireGrad();
        var b = Tensor.Ones(2).RequireGrad();
        var optimizer = new AdamW([new ParameterGroup([a], weightDecay: 0), new ParameterGroup([b], lr: 0.5)], lr: 0.25);
        Assert.Equal([0.25, 0.5], optimizer.ParameterGroups.Select(g => g.LearningRate));
        Assert.Equal([0.0, 0.01], optimizer.ParameterGroups.Select(g => g.WeightDecay), (x, y) => Math.Abs(x - y) < 1e-9);
        optimizer.LearningRate = 0.125;
        Assert.Equal([0.125, 0.125], optimizer.ParameterGroups.Select(g => g.LearningRate));
        Assert.Equal(0.125, optimizer.LearningRate);
    }

    [Fact]
    public void ConstructorsRejectBadConfigurations()
    {
        var p = Tensor.Ones(2).RequireGrad();
        Assert.Contains("lr", Assert.ThrowsAny<ArgumentException>(() => new SGD([p], lr: -1)).Message);
        Assert.Contains("Nesterov", Assert.Throws<ArgumentException>(() => new SGD([p], lr: 0.1, nesterov: true)).Message);
        Assert.Contains("Nesterov", Assert.Throws<ArgumentException>(() => new SGD([p], lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true)).Message);
        Assert.Contains("beta1", Assert.ThrowsAny<ArgumentException>(() => new Adam([p], betas: (1.0, 0.999))).Message);
        Assert.Contains("eps", Assert.ThrowsAny<ArgumentException>(() => new AdamW([p], eps: -1e-8)).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => new Adam(Array.Empty<Tensor>())).Message);
        Assert.Contains("more than once", Assert.Throws<ArgumentException>(() => new SGD([p, p], lr: 0.1)).Message);
        Assert.Contains("leaf", Assert.Throws<ArgumentException>(() => new SGD([p * 2f], lr: 0.1)).Message);
    }

    [Fact]
    public void StepRejectsAGradientOfTheWrongShape()
    {
        var p = Tensor.Ones(2).RequireGrad();
        var optimizer = new SGD([p], lr: 0.1);
        p.Grad = Tensor.Ones(3);
        var error = Assert.Throws<InvalidOperationException>(optimizer.Step);
        Assert.Contains("[2]", error.Message);
        Assert.Contains("[3]", error.Message);
    }
}
