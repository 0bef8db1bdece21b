namespace ConvKit.Onnx.Tests;

public class OnnxProfileTests
{
    [Fact]
    public void EveryPlannedStepIsTimedUnderItsNameOncePerRun()
    {
        var builder = new GraphBuilder(14).Input("x", [1, 3, 6, 6]).Weight("w1", [3, 3, 3, 3]).Weight("w2", [3, 3, 1, 1])
            .Node("Conv", ["x", "w1"], ["c1"], ("pads", new[] { 1, 1, 1, 1 })).Node("HardSwish", ["c1"], ["h1"]).Node("Add", ["c1", "h1"], ["a"])
            .Node("Conv", ["a", "w2"], ["c2"]).Node("HardSwish", ["c2"], ["out"]).Output("out");
        var model = OnnxModel.Load(builder.Bytes());
        Assert.Equal(["Conv", "HardSwish", "Add", "Conv+HardSwish"], model.PlannedOps);

        var profile = new OnnxProfile();
        model.Profile = profile;
        using (Tensor.NoGrad())
            for (int run = 0; run < 3; run++) model.Run(builder.Feeds);
        var steps = profile.Steps.ToDictionary(s => s.Step);
        Assert.Equal(model.PlannedOps.Order(), steps.Keys.Order());
        Assert.All(steps.Values, s => Assert.Equal(3, s.Count));
        Assert.All(steps.Values, s => Assert.True(s.Time > TimeSpan.Zero, $"{s.Step}: {s.Time}"));
        Assert.Equal(profile.Steps.Select(s => s.Time).OrderDescending(), profile.Steps.Select(s => s.Time));
        // Each kind's time is rounded to TimeSpan ticks on its own: the sum may differ from the total by a tick a kind.
        long sum = profile.Steps.Sum(s => s.Time.Ticks);
        Assert.InRange(profile.Total.Ticks - sum, -steps.Count, steps.Count);

        profile.Clear();
        Assert.Empty(profile.Steps);
        model.Profile = null;
        using (Tensor.NoGrad()) model.Run(builder.Feeds);
        Assert.Empty(profile.Steps);
    }
}
