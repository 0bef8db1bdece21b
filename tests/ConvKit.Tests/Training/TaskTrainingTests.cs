using ConvKit.Backends.Cpu;
using ConvKit.Data;
using ConvKit.NN;
using ConvKit.Optim;
using ConvKit.Training;

namespace ConvKit.Tests.Training;

/// <summary>The trainer on a task of the user's own: its loss, terms and metrics reported, the best epoch by its monitored value, exact resume.</summary>
/// <summary>The resume test sets the process-wide thread count to 1, hence the collection.</summary>
[Collection(nameof(ProcessWideSettings))]
public sealed class TaskTrainingTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-task-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>Regression of the bar's row (the class index as a number) with squared error; reports an L1 term and the mean absolute error.</summary>
    sealed class BarRowRegression : TrainingTask
    {
        public override TaskStep Step(Module model, Batch batch)
        {
            var outputs = model.ForwardOutputs(batch.Images);
            var error = outputs.Main.Reshape(batch.Count) - batch.Labels;
            return new TaskStep(error.Square().Mean(), outputs) { Terms = new Dictionary<string, Tensor> { ["l1_loss"] = error.Abs().Mean() } };
        }

        public override IReadOnlyList<Metric> CreateMetrics() => [new MeanAbsoluteError()];
        public override string Monitor => "mae";
    }

    sealed class MeanAbsoluteError : Metric
    {
        double sum, count;
        public override string Name => "mae";
        public override bool HigherIsBetter => false;

        public override void Update(Batch batch, TaskStep step)
        {
            sum += (step.Outputs.Main.Reshape(batch.Count) - batch.Labels).Abs().Sum().Item();
            count += batch.Count;
        }

        public override double Compute() => sum / count;
        public override double[] State { get => [sum, count]; set => (sum, count) = (value[0], value[1]); }
    }

    static Module Regressor(int seed)
    {
        using var _ = Generator.Use(new Generator(seed));
        return new Sequential(new Conv2d(1, 4, 3, padding: 1), new ReLU(), new Flatten(), new Linear(256, 1));
    }

    static TrainingOptions Options(int epochs, string? checkpoints = null) => new() { Epochs = epochs, BatchSize = 16, Seed = 5, CheckpointDirectory = checkpoints };

    /// <summary>Two parameter groups: the convolution at a tenth of the linear layer's rate.</summary>
    static Optimizer GroupedSgd(Module model) => new SGD([
        new ParameterGroup(model.NamedParameters().Where(p => p.Name.StartsWith("0.")).Select(p => p.Parameter), lr: 0.002),
        new ParameterGroup(model.NamedParameters().Where(p => p.Name.StartsWith("3.")).Select(p => p.Parameter), lr: 0.02)], lr: 0.02, momentum: 0.9);

    [Fact]
    public void ACustomTaskAndOptimiserTrainAndReportTheirOwnValues()
    {
        var model = Regressor(1);
        var optimizer = GroupedSgd(model);
        string checkpoints = Path.Combine(directory, "run");
        var trainer = new Trainer(model, Options(4, checkpoints), task: new BarRowRegression(), optimizer: optimizer);
        var result = trainer.Fit(TrainerTests.Bars(96, 1), TrainerTests.Bars(30, 2));

        Assert.Same(optimizer, trainer.Optimizer);
        Assert.Equal([0.002f, 0.02f], optimizer.ParameterGroups.Select(g => (float)g.LearningRate));
        Assert.Equal(["l1_loss", "loss", "mae"], result.History[0].Train.Keys.Order(StringComparer.Ordinal));
        Assert.Null(result.History[0].TrainAccuracy);
        var maes = result.History.Select(e => e.Validation!["mae"]).ToArray();
        Assert.True(maes[^1] < maes[0], $"validation MAE {string.Join(", ", maes)}");
        // The monitored value is lower-is-better: the best epoch has the smallest validation MAE.
        Assert.Equal("mae", result.Monitor);
        Assert.Equal(maes.Min(), result.BestScore);
        Assert.Equal(Array.IndexOf(maes, maes.Min()) + 1, result.BestEpoch);
        Assert.Equal(result.BestEpoch, Checkpoint.Load(result.BestCheckpoint!).Epoch);
        // The mean absolute error over a batch equals the l1 term there, so their epoch means agree.
        Assert.Equal(result.History[^1].Train["l1_loss"], result.History[^1].Train["mae"], 5);
        Assert.Equal(trainer.Evaluate(TrainerTests.Bars(30, 2))["mae"], maes[^1], 12);
    }

    [Fact]
    public void StoppedInsideAnEpochItResumesToTheSameWeightsAndValues()
    {
        int threads = Threading.NumThreads;
        Threading.NumThreads = 1;
        try
        {
            var train = TrainerTests.Bars(96, 1);
            var whole = Regressor(2);
            var wholeResult = new Trainer(whole, Options(3), task: new BarRowRegression(), optimizer: GroupedSgd(whole)).Fit(train);

            string checkpoints = Path.Combine(directory, "stopped");
            var firstModel = Regressor(2);
            var first = new Trainer(firstModel, Options(3, checkpoints), task: new BarRowRegression(), optimizer: GroupedSgd(firstModel));
            using var stop = new CancellationTokenSource();
            first.BatchCompleted += p => { if (p.Epoch == 2 && p.Batch == 3) stop.Cancel(); };
            Assert.True(first.Fit(train, cancellation: stop.Token).Interrupted);

            var resumedModel = Regressor(77);
            var resumed = new Trainer(resumedModel, Options(3, checkpoints), task: new BarRowRegression(), optimizer: GroupedSgd(resumedModel));
            resumed.Resume(Checkpoint.Load(Path.Combine(checkpoints, "last.safetensors")));
            var result = resumed.Fit(train);

            Assert.Equal(whole.Parameters().SelectMany(p => p.ToArray()), resumedModel.Parameters().SelectMany(p => p.ToArray()));
            Assert.Equal(wholeResult.History.Select(e => (e.Train["loss"], e.Train["l1_loss"], e.Train["mae"])),
                result.History.Select(e => (e.Train["loss"], e.Train["l1_loss"], e.Train["mae"])));
        }
        finally { Threading.NumThreads = threads; }
    }
}
