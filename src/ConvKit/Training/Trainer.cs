using System.Diagnostics;
using ConvKit.Data;
using ConvKit.Data.Transforms;
using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Optim;
using ConvKit.Optim.Schedules;

namespace ConvKit.Training;

/// <summary>
/// Trains a model on a <see cref="TrainingTask"/> (classification by default), epoch by epoch: shuffled batches
/// (seeded), an optimiser (any <see cref="Optim.Optimizer"/>, or the one the <see cref="TrainingOptions"/> name) and
/// learning-rate schedule, validation after each epoch, and checkpoints — <c>last.safetensors</c> after every epoch
/// and <c>best.safetensors</c> whenever the task's monitored value improves. Each epoch reports the loss, its named
/// terms and the task's metrics. Cancelling the token stops after the current batch and saves a checkpoint that
/// <see cref="Resume"/> continues exactly: for a fixed seed and thread count an interrupted and resumed run ends
/// with the same weights as an uninterrupted one (the batches of an epoch are a function of the seed and the epoch
/// number, and the dropout generator's state and the running sums are saved).
/// </summary>
public sealed class Trainer
{
    readonly Module model;
    readonly Generator dropoutGenerator;
    readonly List<EpochMetrics> history = [];
    int epoch, batch;
    PartialEpoch partial = PartialEpoch.Empty;
    (int Epoch, double Score) best = (0, double.NaN);

    /// <param name="model">for classification, a module mapping images (N, C, H, W) to logits (N, classes); seed its initial weights yourself (<see cref="Generator.Use"/>)</param>
    /// <param name="trainTransform">applied to each training sample (augmentation, normalisation)</param>
    /// <param name="evaluationTransform">applied to each validation sample (normalisation)</param>
    /// <param name="metadata">strings saved in every checkpoint (e.g. the model card)</param>
    /// <param name="task">how a batch becomes a loss and what is measured; classification when null</param>
    /// <param name="optimizer">an optimiser over the model's parameters (with parameter groups if wanted); when null, the one <paramref name="options"/> names over all parameters</param>
    public Trainer(Module model, TrainingOptions options, ISampleTransform? trainTransform = null, ISampleTransform? evaluationTransform = null,
        IReadOnlyDictionary<string, string>? metadata = null, TrainingTask? task = null, Optimizer? optimizer = null)
    {
        options.Validate();
        this.model = model;
        Options = options;
        TrainTransform = trainTransform;
        EvaluationTransform = evaluationTransform;
        Metadata = metadata ?? new Dictionary<string, string>();
        Task = task ?? new ClassificationTask();
        var parameters = model.Parameters().ToList();
        Optimizer = optimizer ?? options.Optimizer switch
        {
            OptimizerKind.Sgd => new SGD(parameters, options.LearningRate, momentum: options.Momentum, weightDecay: options.WeightDecay ?? 0),
            OptimizerKind.Adam => new Adam(parameters, options.LearningRate, weightDecay: options.WeightDecay ?? 0),
            _ => new AdamW(parameters, options.LearningRate, weightDecay: options.WeightDecay ?? 0.01),
        };
        optimizerGiven = optimizer != null;
        initialLearningRates = Optimizer.ParameterGroups.Select(g => g.LearningRate).ToArray();
        Schedule = CreateSchedule();
        dropoutGenerator = Generator.For(options.Seed, 0xD20);
    }

    readonly bool optimizerGiven;
    readonly double[] initialLearningRates;

    /// <summary>The run's hyper-parameters (a resumed run may have raised <see cref="TrainingOptions.Epochs"/>).</summary>
    public TrainingOptions Options { get; private set; }
    /// <summary>The optimiser: the one given, or the one <see cref="Options"/> name.</summary>
    public Optimizer Optimizer { get; }
    /// <summary>How a batch becomes a loss, and which metrics are reported.</summary>
    public TrainingTask Task { get; }
    /// <summary>The learning-rate schedule, stepped once per epoch (null for a constant rate).</summary>
    public LRScheduler? Schedule { get; private set; }
    /// <summary>Applied to each training sample (augmentation), or null.</summary>
    public ISampleTransform? TrainTransform { get; }
    /// <summary>Applied to each validation and test sample, or null.</summary>
    public ISampleTransform? EvaluationTransform { get; }
    /// <summary>The caller's strings, written into every checkpoint (<c>convkit train</c> puts the model card there).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }
    /// <summary>Epochs finished so far.</summary>
    public int Epoch => epoch;
    /// <summary>Batches of epoch <see cref="Epoch"/> + 1 trained so far (non-zero only for a run stopped inside an epoch).</summary>
    public int Batch => batch;
    /// <summary>One entry per finished epoch.</summary>
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
            throw new ArgumentException($"cannot resume: the checkpoint was trained with {checkpoint.Options.Optimizer}, this trainer uses {Options.Optimizer}.");
        if (checkpoint.Epoch > options.Epochs)
            throw new ArgumentException($"cannot resume: the checkpoint has already trained {checkpoint.Epoch} epochs, more than the {options.Epochs} asked for.");
        model.LoadStateDict(checkpoint.ModelState);
        Optimizer.LoadStateDict(checkpoint.OptimizerState);
        Options = options;
        // The schedules are closed forms of the epoch: rebuild it from the base rates and step it to the checkpoint's epoch.
        for (int g = 0; g < initialLearningRates.Length; g++)
            Optimizer.ParameterGroups[g].LearningRate = optimizerGiven ? initialLearningRates[g] : options.LearningRate;
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
        if (train.Count == 0) throw new ArgumentException("cannot train: the training set is empty.");
        if (validation != null && !validation.Classes.SequenceEqual(train.Classes))
            throw new ArgumentException("cannot train: the validation set's classes differ from the training set's.");
        Task.CheckDataset(train);
        var loader = new DataLoader(train, Options.BatchSize, shuffle: true, seed: Options.Seed, transform: TrainTransform, prefetch: Options.Prefetch,
            batchSampler: Task.CreateBatchSampler(train, Options.Seed));
        string? directory = Options.CheckpointDirectory;
        if (directory != null) Directory.CreateDirectory(directory);
        string? lastPath = directory == null ? null : Path.Combine(directory, "last.safetensors");
        string? bestPath = directory == null ? null : Path.Combine(directory, "best.safetensors");
        // A resumed run that has not improved in this folder has no best checkpoint here (its best epoch's weights were
        // written into the folder it was resumed from), and a best.safetensors of another epoch is not this run's best.
        TrainingResult Result(bool interrupted) => new(interrupted, history.ToList(), best.Epoch, best.Score, Task.Monitor)
        {
            LastCheckpoint = lastPath, BestCheckpoint = bestPath != null && Checkpoint.IsOfEpoch(bestPath, best.Epoch) ? bestPath : null,
        };

        bool higherIsBetter = Task.MonitorHigherIsBetter();
        using var _ = Generator.Use(dropoutGenerator);
        while (epoch < Options.Epochs)
        {
            model.Train();
            double learningRate = Optimizer.LearningRate;
            var clock = Stopwatch.StartNew();
            var running = new RunningValues(Task, partial);
            foreach (var data in loader.Batches(epoch, batch))
            {
                var step = Task.Step(model, data);
                Optimizer.ZeroGrad();
                step.Loss.Backward();
                Optimizer.Step();

                double batchLoss = running.Add(data, step);
                batch++;
                BatchCompleted?.Invoke(new BatchProgress(epoch + 1, batch, loader.BatchCount, batchLoss, running.Values(), data.Count));
                if (cancellation.IsCancellationRequested && batch < loader.BatchCount)
                {
                    partial = running.ToPartial(clock.Elapsed.TotalSeconds);
                    if (lastPath != null) CreateCheckpoint().Save(lastPath);
                    return Result(interrupted: true);
                }
            }
            double seconds = partial.Seconds + clock.Elapsed.TotalSeconds;
            var metrics = new EpochMetrics(epoch + 1, running.Values(), validation == null ? null : Evaluate(validation),
                learningRate, seconds, running.Samples / seconds);
            history.Add(metrics);
            epoch++;
            batch = 0;
            partial = PartialEpoch.Empty;
            Schedule?.Step();

            double score = (metrics.Validation ?? metrics.Train).GetValueOrDefault(Task.Monitor, double.NaN);
            bool improved = double.IsNaN(best.Score) || (higherIsBetter ? score > best.Score : score < best.Score);
            if (improved) best = (epoch, score);
            // The best checkpoint first: the last one is the commit point. Killed between the two saves, the run resumes
            // from the previous epoch, redoes this one and saves the best again; the other order would leave a last
            // checkpoint naming this epoch the best beside a best.safetensors from an older epoch, never replaced.
            var checkpoint = lastPath != null ? CreateCheckpoint() : null;
            if (improved) checkpoint?.Save(bestPath!);
            checkpoint?.Save(lastPath!);
            EpochCompleted?.Invoke(metrics);
            if (cancellation.IsCancellationRequested && epoch < Options.Epochs) return Result(interrupted: true);
        }
        return Result(interrupted: false);
    }

    /// <summary>
    /// The task's loss, terms and metrics on <paramref name="dataset"/> (each sample through
    /// <see cref="EvaluationTransform"/>), in evaluation mode without recording gradients; the model's mode is restored.
    /// Batches are the training batch size unless <paramref name="batchSize"/> is given: a training step of that size
    /// fits, and a pass without gradients keeps less per picture (VGG-11 at 224×224 took 10 GB for a test pass in
    /// batches of 500 where its training steps in batches of 64 took 4).
    /// </summary>
    public IReadOnlyDictionary<string, double> Evaluate(Dataset dataset, int? batchSize = null)
    {
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using var _ = Tensor.NoGrad();
            var running = new RunningValues(Task, PartialEpoch.Empty);
            foreach (var data in new DataLoader(dataset, batchSize ?? Options.BatchSize, transform: EvaluationTransform)) running.Add(data, Task.Step(model, data));
            return running.Values();
        }
        finally { model.Train(wasTraining); }
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

    /// <summary>An epoch's running loss, loss terms (both weighted by batch size) and metric accumulators.</summary>
    sealed class RunningValues
    {
        readonly Dictionary<string, double> sums;
        readonly IReadOnlyList<Metric> metrics;
        readonly double previousSeconds;

        public RunningValues(TrainingTask task, PartialEpoch partial)
        {
            sums = new Dictionary<string, double>(partial.Sums);
            metrics = task.CreateMetrics();
            foreach (var metric in metrics)
                if (partial.MetricStates.TryGetValue(metric.Name, out var state)) metric.State = state;
            Samples = partial.Samples;
            previousSeconds = partial.Seconds;
        }

        public long Samples { get; private set; }

        /// <returns>the batch's loss</returns>
        public double Add(Batch data, TaskStep step)
        {
            double loss = step.Loss.Item();
            sums["loss"] = sums.GetValueOrDefault("loss") + loss * data.Count;
            foreach (var (name, term) in step.Terms) sums[name] = sums.GetValueOrDefault(name) + term.Item() * data.Count;
            using (Tensor.NoGrad())
                foreach (var metric in metrics) metric.Update(data, step);
            Samples += data.Count;
            return loss;
        }

        public IReadOnlyDictionary<string, double> Values()
        {
            var values = sums.ToDictionary(entry => entry.Key, entry => entry.Value / Math.Max(1, Samples));
            foreach (var metric in metrics) values[metric.Name] = metric.Compute();
            return values;
        }

        public PartialEpoch ToPartial(double seconds) =>
            new(new Dictionary<string, double>(sums), metrics.ToDictionary(m => m.Name, m => m.State), Samples, previousSeconds + seconds);
    }
}
