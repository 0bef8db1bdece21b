using ConvKit.IO;
using ConvKit.NN;
using ConvKit.Training;

namespace ConvKit.Tests.Training;

/// <summary>Checkpoints written before training tasks (classification only, stop 3's format) still load and resume.</summary>
public sealed class CheckpointCompatibilityTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-compat-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void AClassificationOnlyCheckpointReadsAsTheClassificationTasksValues()
    {
        var model = new Sequential(new Flatten(), new Linear(64, 3));
        var checkpoint = new Trainer(model, new TrainingOptions { Epochs = 1, BatchSize = 16, Seed = 1 }).CreateCheckpoint();
        string path = Path.Combine(directory, "old.safetensors");
        checkpoint.Save(path);
        // Rewrite the history and the partial sums as stop 3's trainer wrote them.
        var metadata = Safetensors.ReadMetadata(path).ToDictionary();
        metadata["training.history"] = """
            [{"Epoch":1,"TrainLoss":0.5,"TrainAccuracy":0.8,"ValidationLoss":0.4,"ValidationAccuracy":0.85,"LearningRate":0.001,"Seconds":2,"SamplesPerSecond":100},
             {"Epoch":2,"TrainLoss":0.3,"TrainAccuracy":0.9,"ValidationLoss":null,"ValidationAccuracy":null,"LearningRate":0.001,"Seconds":2,"SamplesPerSecond":100}]
            """;
        metadata["training.partial"] = """{"LossSum":6.4,"Correct":12,"Samples":16,"Seconds":0.5}""";
        Safetensors.Save(path, Safetensors.Load(path), metadata);

        var old = Checkpoint.Load(path);
        Assert.Equal((0.5, 0.8, 0.4, 0.85), (old.History[0].TrainLoss, old.History[0].TrainAccuracy, old.History[0].ValidationLoss, old.History[0].ValidationAccuracy));
        Assert.Null(old.History[1].Validation);
        Assert.Equal(6.4, old.Partial.Sums["loss"]);
        Assert.Equal([12.0, 16.0], old.Partial.MetricStates["accuracy"]);
        Assert.Equal(16, old.Partial.Samples);
    }
}
