using System.Diagnostics;
using ConvKit.Data;
using ConvKit.Data.Transforms;
using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Optim;
using ConvKit.Optim.Schedules;

namespace ConvKit.Training;

/// <summary>
/// Trains a classifier with softmax cross-entropy, epoch by epoch: shuffled batches (seeded), the optimiser and
/// learning-rate schedule of the <see cref="TrainingOptions"/>, validation after each epoch, and checkpoints —
/// <c>last.safetensors</c> after every epoch and <c>best.safetensors</c> whenever the validation accuracy improves.
/// Cancelling the token stops after the current batch and saves a checkpoint that <see cref="Resume"/> continues
/// exactly: for a fixed seed and thread count an interrupted and resumed run ends with the same weights as an
/// uninterrupted one (the batches of an epoch are a function of the seed and the epoch number, and the dropout
/// generator's state is saved).
/// </summary>
public sealed class Trainer
{
    readonly Module model;
    readonly Generator dropoutGenerator;
    readonly List<EpochMetrics> history = [];
    int epoch, batch;
    PartialEpoch partial = new(0, 0, 0, 0);
    (int Epoch, double Accuracy) best = (0, double.NegativeInfinity);

    /// <param name="model">a module mapping images (N, C, H, W) to logits (N, classes); seed its initial weights yourself (<see cref="Generator.Use"/>)</param>
    /// <param name="trainTransform">applied to each training image (augmentation, normalisation)</param>
    /// <param name="evaluationTransform">applied to each validation image (normalisation)</param>
    /// <param name="metadata">strings saved in every checkpoint (e.g. the model's name and constructor arguments)</param>
    public Trainer(Module model, TrainingOptions options, ITransform? trainTransform = null, ITransform? evaluationTransform = null,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        options.Validate();
        this.model = model;
        Options = options;
        TrainTransform = trainTransform;
        EvaluationTransform = evaluationTransform;
        Metadata = metadata ?? new Dictionary<string, string>();
        var parameters = model.Parameters().ToList();
        Optimizer = options.Optimizer switch
        {
            OptimizerKind.Sgd => new SGD(parameters, options.LearningRate, momentum: options.Momentum, weightDecay: options.WeightDecay ?? 0),
            OptimizerKind.Adam => new Adam(parameters, options.LearningRate, weightDecay: options.WeightDecay ?? 0),
            _ => new AdamW(parameters, options.LearningRate, weightDecay: options.WeightDecay ?? 0.01),
        };
        Schedule = CreateSchedule();
        dropoutGenerator = Generator.For(options.Seed, 0xD20);
    }

    public TrainingOptions Options { get; private set; }
    public Optimizer Optimizer { get; }
    /// <summary>The learning-rate schedule, stepped once per epoch (null for a constant rate).</summary>
    public LRScheduler? Schedule { get; private set; }
    public ITransform? TrainTransform { get; }
    public ITransform? EvaluationTransform { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    /// <summary>Epochs finished so far.</summary>
    public int Epoch => epoch;
    public IReadOnlyList<EpochMetrics> History => history;

    /// <summary>After each batch (on the training thread).</summary>
    public event Action<BatchProgress>? BatchCompleted;
    /// <summary>After each epoch, its validation and its checkpoints.</summary>
    public event Action<EpochMetrics>? EpochCompleted;

    LRScheduler? CreateSchedule() => Options.Schedule switch
    {
        ScheduleKind.Step => new StepLR(Optimizer, Options.StepSize, Options.StepGamma),
        ScheduleKind.Cosine => new CosineAnnealingLR(Optimizer, Options.Epochs),
        _ => null,
    };

    /// <summary>
    /// Continues the run saved in <paramref name="checkpoint"/>: model weights, optimiser state, epoch and batch,
    /// dropout generator, history. The options are the checkpoint's, except <paramref name="epochs"/> when given
    /// (to train longer). The model and optimiser must be shaped as when the checkpoint was written.
    /// </summary>
    public void Resume(Checkpoint checkpoint, int? epochs = null)
    {
        var options = checkpoint.Options with { Epochs = epochs ?? checkpoint.Options.Epochs, CheckpointDirectory = Options.CheckpointDirectory };
        options.Validate();
        if (options.Optimizer != Options.Optimizer)
            throw new ArgumentException($"Trainer.Resume: the checkpoint was trained with {checkpoint.Options.Optimizer}, this trainer uses {Options.Optimizer}.");
        if (checkpoint.Epoch > options.Epochs)
            throw new ArgumentException($"Trainer.Resume: the checkpoint has already trained {checkpoint.Epoch} epochs, more than the {options.Epochs} asked for.");
        model.LoadStateDict(checkpoint.ModelState);
        Optimizer.LoadStateDict(checkpoint.OptimizerState);
        Options = options;
        // The schedules are closed forms of the epoch: rebuild it from the base rate and step it to the checkpoint's epoch.
        Optimizer.LearningRate = options.LearningRate;
        Schedule = CreateSchedule();
        for (int e = 0; e < checkpoint.Epoch; e++) Schedule?.Step();
        epoch = checkpoint.Epoch;
        batch = checkpoint.Batch;
        partial = checkpoint.Partial;
        best = checkpoint.Best;
        dropoutGenerator.State = checkpoint.GeneratorState;
        history.Clear();
        history.AddRange(checkpoint.History);
    }

    /// <summary>
    /// Trains from the current epoch to <see cref="TrainingOptions.Epochs"/>, validating on <paramref name="validation"/>
    /// (when given) after each epoch. Cancelling <paramref name="cancellation"/> stops after the current batch
    /// with a resumable checkpoint.
    /// </summary>
    public TrainingResult Fit(Dataset train, Dataset? validation = null, CancellationToken cancellation = default)
    {
        if (train.Count == 0) throw new ArgumentException("Trainer.Fit: the training set is empty.");
        if (validation != null && !validation.Classes.SequenceEqual(train.Classes))
            throw new ArgumentException("Trainer.Fit: the validation set's classes differ from the training set's.");
        var loader = new DataLoader(train, Options.BatchSize, shuffle: true, seed: Options.Seed, transform: TrainTransform, prefetch: Options.Prefetch);
        string? directory = Options.CheckpointDirectory;
        if (directory != null) Directory.CreateDirectory(directory);
        string? lastPath = directory == null ? null : Path.Combine(directory, "last.safetensors");
        string? bestPath = directory == null ? null : Path.Combine(directory, "best.safetensors");
        TrainingResult Result(bool interrupted) =>
            new(interrupted, history.ToList(), best.Epoch, best.Accuracy) { LastCheckpoint = lastPath, BestCheckpoint = bestPath };

        using var _ = Generator.Use(dropoutGenerator);
        while (epoch < Options.Epochs)
        {
            model.Train();
            double learningRate = Optimizer.LearningRate;
            var clock = Stopwatch.StartNew();
            foreach (var data in loader.Batches(epoch, batch))
            {
                var logits = model.Forward(data.Images);
                EvaluationResult.CheckLogits(logits, data.Count, train.Classes.Count);
                var loss = F.CrossEntropy(logits, data.Labels);
                Optimizer.ZeroGrad();
                loss.Backward();
                Optimizer.Step();

                double batchLoss = loss.Item();
                int correct;
                using (Tensor.NoGrad()) correct = (int)logits.ArgMax(1).Eq(data.Labels).Sum().Item();
                partial = new PartialEpoch(partial.LossSum + batchLoss * data.Count, partial.Correct + correct, partial.Samples + data.Count, partial.Seconds);
                batch++;
                BatchCompleted?.Invoke(new BatchProgress(epoch + 1, batch, loader.BatchCount, batchLoss,
                    partial.LossSum / partial.Samples, (double)partial.Correct / partial.Samples, data.Count));
                if (cancellation.IsCancellationRequested && batch < loader.BatchCount)
                {
                    partial = partial with { Seconds = partial.Seconds + clock.Elapsed.TotalSeconds };
                    if (lastPath != null) CreateCheckpoint().Save(lastPath);
                    return Result(interrupted: true);
                }
            }
            double seconds = partial.Seconds + clock.Elapsed.TotalSeconds;
            var evaluation = validation == null ? null : EvaluationResult.Evaluate(model, validation, EvaluationTransform);
            var metrics = new EpochMetrics(epoch + 1, partial.LossSum / partial.Samples, (double)partial.Correct / partial.Samples,
                evaluation?.Loss, evaluation?.Accuracy, learningRate, seconds, partial.Samples / seconds);
            history.Add(metrics);
            epoch++;
            batch = 0;
            partial = new PartialEpoch(0, 0, 0, 0);
            Schedule?.Step();

            double accuracy = metrics.ValidationAccuracy ?? metrics.TrainAccuracy;
            bool improved = accuracy > best.Accuracy;
            if (improved) best = (epoch, accuracy);
            var checkpoint = lastPath != null ? CreateCheckpoint() : null;
            checkpoint?.Save(lastPath!);
            if (improved) checkpoint?.Save(bestPath!);
            EpochCompleted?.Invoke(metrics);
            if (cancellation.IsCancellationRequested && epoch < Options.Epochs) return Result(interrupted: true);
        }
        return Result(interrupted: false);
    }

    /// <summary>A snapshot of the run as it stands.</summary>
    public Checkpoint CreateCheckpoint() => new()
    {
        ModelState = model.StateDict(),
        OptimizerState = Optimizer.StateDict(),
        Options = Options,
        Epoch = epoch,
        Batch = batch,
        GeneratorState = dropoutGenerator.State,
        History = history.ToList(),
        Partial = partial,
        Best = best,
        Metadata = Metadata,
    };
}
