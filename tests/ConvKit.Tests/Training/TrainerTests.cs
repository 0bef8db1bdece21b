using ConvKit.Backends.Cpu;
using ConvKit.Data;
using ConvKit.Data.Transforms;
using ConvKit.NN;
using ConvKit.Training;

namespace ConvKit.Tests.Training;

/// <summary>The resume tests set the process-wide thread count to 1, hence the collection.</summary>
[Collection(nameof(ProcessWideSettings))]
public sealed class TrainerTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-train-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>8×8 images of 3 classes: class k is a bright bar on rows 2k+1 and 2k+2, plus noise.</summary>
    internal static Dataset Bars(int count, int seed)
    {
        var random = new Generator(seed);
        var labels = Enumerable.Range(0, count).Select(_ => random.Next(3)).ToArray();
        var pixels = new byte[count * 64];
        for (int i = 0; i < count; i++)
            for (int p = 0; p < 64; p++)
            {
                int row = p / 8;
                bool bar = row == 2 * labels[i] + 1 || row == 2 * labels[i] + 2;
                pixels[i * 64 + p] = (byte)Math.Clamp((bar ? 170 : 40) + random.Next(-40, 41), 0, 255);
            }
        return new ByteImageDataset(pixels, [1, 8, 8], labels, ["top", "middle", "bottom"]);
    }

    internal static Module TinyNet(int seed)
    {
        using var _ = Generator.Use(new Generator(seed));
        return new Sequential(new Conv2d(1, 4, 3, padding: 1), new ReLU(), new MaxPool2d(2), new Flatten(),
            new Dropout(0.2f), new Linear(64, 3));
    }

    TrainingOptions Options(int epochs, string? checkpoints = null) => new()
    {
        Epochs = epochs, BatchSize = 16, LearningRate = 0.01, Seed = 11, CheckpointDirectory = checkpoints,
        Schedule = ScheduleKind.Cosine,
    };

    static float[] Weights(Module model) => model.Parameters().SelectMany(p => p.ToArray()).ToArray();

    static readonly ITransform Augment = new Compose(new RandomCrop(1), new Normalize([0.3f], [0.3f]));

    [Fact]
    public void LearnsASimpleTaskAndReportsEachEpoch()
    {
        var model = TinyNet(1);
        var trainer = new Trainer(model, Options(3), Augment, new Normalize([0.3f], [0.3f]));
        var epochs = new List<EpochMetrics>();
        int batches = 0;
        trainer.EpochCompleted += epochs.Add;
        trainer.BatchCompleted += _ => batches++;

        var result = trainer.Fit(Bars(240, 1), Bars(60, 2));

        Assert.False(result.Interrupted);
        Assert.Equal([1, 2, 3], epochs.Select(e => e.Epoch));
        Assert.Equal(3 * 15, batches);
        Assert.True(epochs[^1].TrainLoss < epochs[0].TrainLoss, $"loss {epochs[0].TrainLoss} → {epochs[^1].TrainLoss}");
        Assert.True(epochs[^1].ValidationAccuracy > 0.9, $"validation accuracy {epochs[^1].ValidationAccuracy}");
        Assert.Equal((float)0.01, epochs[0].LearningRate); // optimisers keep hyper-parameters at float32
        Assert.True(epochs[2].LearningRate < epochs[1].LearningRate); // cosine annealing
        var evaluation = EvaluationResult.Evaluate(model, Bars(60, 2), new Normalize([0.3f], [0.3f]));
        Assert.Equal(epochs[^1].ValidationAccuracy!.Value, evaluation.Accuracy, 12);
        Assert.Equal(60, evaluation.Count);
    }

    [Fact]
    public void AFixedSeedGivesTheSameWeights()
    {
        float[] Run(long seed = 11)
        {
            var model = TinyNet(3);
            new Trainer(model, Options(2) with { Seed = seed }, Augment).Fit(Bars(64, 1));
            return Weights(model);
        }
        Assert.Equal(Run(), Run());
        Assert.NotEqual(Weights(TinyNet(3)), Run()); // it trained
        Assert.NotEqual(Run(), Run(12));              // and the seed shapes the batches and the dropout
    }

    /// <summary>The acceptance case: stopped after epoch 2, resumed to epoch 4, the same weights as 4 epochs in one go (one thread).</summary>
    [Theory]
    [InlineData(2, 0)]   // stopped at the end of epoch 2
    [InlineData(1, 2)]   // stopped inside epoch 2, after its third batch (Ctrl+C)
    public void AnInterruptedRunResumesToTheSameWeights(int stopEpoch, int stopBatch)
    {
        int threads = Threading.NumThreads;
        Threading.NumThreads = 1;
        try
        {
            var train = Bars(96, 1);
            var whole = TinyNet(4);
            var wholeResult = new Trainer(whole, Options(4), Augment).Fit(train, Bars(30, 2));

            string checkpoints = Path.Combine(directory, "run");
            var first = new Trainer(TinyNet(4), Options(4, checkpoints), Augment);
            using var stop = new CancellationTokenSource();
            first.BatchCompleted += p =>
            {
                if (p.Epoch == stopEpoch + (stopBatch > 0 ? 1 : 0) && p.Batch == (stopBatch > 0 ? stopBatch : p.BatchCount)) stop.Cancel();
            };
            var stopped = first.Fit(train, Bars(30, 2), stop.Token);
            Assert.True(stopped.Interrupted);
            Assert.Equal(stopEpoch, stopped.History.Count);

            var resumedModel = TinyNet(99); // different initial weights: all must come from the checkpoint
            var resumed = new Trainer(resumedModel, Options(4, checkpoints), Augment);
            var checkpoint = Checkpoint.Load(stopped.LastCheckpoint!);
            Assert.Equal((stopEpoch, stopBatch), (checkpoint.Epoch, checkpoint.Batch));
            resumed.Resume(checkpoint);
            var result = resumed.Fit(train, Bars(30, 2));

            Assert.Equal(Weights(whole), Weights(resumedModel));
            Assert.Equal(wholeResult.History.Select(e => (e.TrainLoss, e.TrainAccuracy, e.ValidationLoss, e.LearningRate)),
                result.History.Select(e => (e.TrainLoss, e.TrainAccuracy, e.ValidationLoss, e.LearningRate)));
        }
        finally { Threading.NumThreads = threads; }
    }

    [Fact]
    public void ResumingWithMoreEpochsContinuesAConstantRateRun()
    {
        var train = Bars(48, 1);
        var constant = Options(4) with { Schedule = ScheduleKind.Constant, Optimizer = OptimizerKind.Sgd };
        var whole = TinyNet(5);
        new Trainer(whole, constant).Fit(train);

        string checkpoints = Path.Combine(directory, "short");
        new Trainer(TinyNet(5), constant with { Epochs = 2, CheckpointDirectory = checkpoints }).Fit(train);
        var continued = TinyNet(6);
        var trainer = new Trainer(continued, constant with { CheckpointDirectory = checkpoints });
        trainer.Resume(Checkpoint.Load(Path.Combine(checkpoints, "last.safetensors")), epochs: 4);
        trainer.Fit(train);

        Assert.Equal(Weights(whole), Weights(continued));
        Assert.Equal(4, trainer.History.Count);
    }

    [Fact]
    public void CheckpointsHoldWeightsOptimiserStateAndMetadataAndNoTemporaryFiles()
    {
        var model = TinyNet(7);
        var trainer = new Trainer(model, Options(2, directory), metadata: new Dictionary<string, string> { ["model_name"] = "tiny" });
        var result = trainer.Fit(Bars(32, 1), Bars(16, 2));

        var last = Checkpoint.Load(result.LastCheckpoint!);
        Assert.Equal(2, last.Epoch);
        Assert.Equal(0, last.Batch);
        Assert.Equal("tiny", last.Metadata["model_name"]);
        Assert.Equal(Weights(model), last.ModelState.Values.Where(t => t.Numel > 0).SelectMany(t => t.ToArray()));
        Assert.Contains("state.0.exp_avg", last.OptimizerState.Keys);
        Assert.Equal(trainer.History, last.History);
        Assert.Equal(2, last.Options.Epochs);
        Assert.Null(last.Options.CheckpointDirectory);

        var best = Checkpoint.Load(result.BestCheckpoint!);
        Assert.Equal(result.BestEpoch, best.Epoch);
        Assert.Equal(result.BestScore, best.History[result.BestEpoch - 1].ValidationAccuracy);
        Assert.Equal(["best.safetensors", "last.safetensors"], Directory.GetFiles(directory).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void APlainWeightsFileIsNotACheckpoint()
    {
        string path = Path.Combine(directory, "weights.safetensors");
        ConvKit.IO.ModuleSafetensors.SaveSafetensors(TinyNet(1), path);
        var error = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
        Assert.Contains("not a ConvKit checkpoint", error.Message);
    }

    [Fact]
    public void AModelThatIsNotAClassifierOfTheRightWidthIsReported()
    {
        var wrong = new Sequential(new Flatten(), new Linear(64, 5));
        var error = Assert.Throws<InvalidOperationException>(() => new Trainer(wrong, Options(1)).Fit(Bars(16, 1)));
        Assert.Contains("[16, 3]", error.Message);
    }

    [Fact]
    public void ConfusionMatrixCountsTrueAgainstPredicted()
    {
        var model = new Sequential(new Flatten(), new Linear(64, 3));
        var evaluation = EvaluationResult.Evaluate(model, Bars(50, 3));
        Assert.Equal(50, evaluation.Count);
        for (int c = 0; c < 3; c++)
        {
            int members = Enumerable.Range(0, 50).Count(i => Bars(50, 3).Label(i) == c);
            Assert.Equal(members, evaluation.Confusion[c].Sum());
        }
        Assert.Equal(Enumerable.Range(0, 3).Sum(c => evaluation.Confusion[c][c]) / 50.0, evaluation.Accuracy, 12);
    }
}
