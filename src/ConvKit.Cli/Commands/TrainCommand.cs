using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using ConvKit.Backends.Cpu;
using ConvKit.Cli.Charts;
using ConvKit.Data;
using ConvKit.Data.Transforms;
using ConvKit.IO;
using ConvKit.Training;
using ConvKit.Vision.Models;
using ConvKit.Vision.Segmentation;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary><c>convkit train MODEL --dataset ...</c>: trains a zoo model, writes checkpoints, metrics CSV and a chart, and reports test accuracy.</summary>
static class TrainCommand
{
    /// <summary>Exit code of a run stopped by Ctrl+C (128 + SIGINT), after its resumable checkpoint is saved.</summary>
    internal const int Interrupted = 130;

    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Model from the zoo, e.g. lenet5 or small-cnn." };
        var dataset = new Option<string>("--dataset", "-d") { Description = $"Dataset: {DatasetChoice.Help}.", Required = true };
        var data = new Option<string?>("--data") { Description = "Folder holding the dataset's files (searched before the standard places)." };
        var epochs = new Option<int>("--epochs", "-e") { Description = "Epochs to train (with --resume: the total to reach).", DefaultValueFactory = _ => 10 };
        var batchSize = new Option<int>("--batch-size", "-b") { Description = "Samples per batch.", DefaultValueFactory = _ => 64 };
        var lr = new Option<double>("--lr") { Description = "Learning rate.", DefaultValueFactory = _ => 1e-3 };
        var optimizer = new Option<string>("--optimizer") { Description = "adam, adamw or sgd (momentum 0.9).", DefaultValueFactory = _ => "adam" };
        optimizer.AcceptOnlyFromAmong("adam", "adamw", "sgd");
        var weightDecay = new Option<double?>("--weight-decay") { Description = "Weight decay (default: 0; 0.01 for adamw)." };
        var schedule = new Option<string>("--schedule") { Description = "Learning-rate schedule: cosine (annealed to 0 over the epochs, the default of timm's training script), constant, or step (×0.1 every 5 epochs).", DefaultValueFactory = _ => "cosine" };
        schedule.AcceptOnlyFromAmong("constant", "cosine", "step");
        var seed = new Option<long>("--seed") { Description = "Seed of the initial weights, shuffling, augmentation and dropout.", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "CPU threads (results are reproducible for a fixed seed and thread count).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var validationSplit = new Option<double>("--val-split") { Description = "Fraction of the training set held out for validation and for picking the best epoch; 0 validates on the test set.", DefaultValueFactory = _ => 0.1 };
        var augment = new Option<string>("--augment") { Description = "Training augmentation: none, crop (random shifts), flip (horizontal), or crop,flip.", DefaultValueFactory = _ => "none" };
        var limit = new Option<int?>("--limit") { Description = "Train on the first N training samples only (quick runs)." };
        var imageSize = new Option<int?>("--image-size") { Description = "folder datasets: images are resized to N×N (default: the model's input size)." };
        var channels = new Option<int?>("--channels") { Description = "folder datasets: 1 (grey) or 3 (RGB) (default: the model's input channels)." };
        var output = new Option<string?>("--out", "-o") { Description = "Output folder (default runs/MODEL-DATASET)." };
        var resume = new Option<string?>("--resume") { Description = "Continue the run saved in this checkpoint (its last.safetensors); everything but --epochs, --out and --threads comes from the checkpoint." };

        var command = new Command("train", """
            Train a model from the zoo on a dataset. Writes OUT/best.safetensors (the best epoch on the validation set),
            OUT/last.safetensors (to resume), OUT/metrics.csv and OUT/training.png, then prints the test accuracy.
            Ctrl+C stops after the current batch and saves a checkpoint that --resume continues.
            """)
        {
            model, dataset, data, epochs, batchSize, lr, optimizer, weightDecay, schedule, seed, threads, validationSplit, augment,
            limit, imageSize, channels, output, resume,
        };
        CommandOutput.AddJsonOption(command);
        DeviceChoice.AddOption(command);
        CommandOutput.AddExamples(command, """
            convkit train lenet5 --dataset fashion-mnist --epochs 10
            convkit train small-cnn --dataset mnist --data ~/datasets/mnist --lr 0.002 --schedule cosine
            convkit train small-cnn --dataset folder:photos --image-size 64 --augment crop,flip --out runs/photos
            convkit train lenet5 --dataset fashion-mnist --epochs 20 --resume runs/lenet5-fashion-mnist/last.safetensors
            """);
        command.SetAction(parsed =>
        {
            var settings = new Settings(parsed.GetValue(model)!, parsed.GetValue(dataset)!, parsed.GetValue(data), parsed.GetValue(epochs),
                parsed.GetValue(batchSize), parsed.GetValue(lr), parsed.GetValue(optimizer)!, parsed.GetValue(weightDecay), parsed.GetValue(schedule)!,
                parsed.GetValue(seed), parsed.GetValue(threads), parsed.GetValue(validationSplit), parsed.GetValue(augment)!, parsed.GetValue(limit),
                parsed.GetValue(imageSize), parsed.GetValue(channels), parsed.GetValue(output), parsed.GetValue(resume))
            {
                // Options the user typed that a resumed run takes from its checkpoint instead.
                Given = new Option[] { batchSize, lr, optimizer, weightDecay, schedule, seed, validationSplit, augment, limit, imageSize, channels }
                    .Where(o => parsed.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToHashSet(),
            };
            return Run(settings, new CommandOutput(parsed));
        });
        return command;
    }

    sealed record Settings(string Model, string Dataset, string? Data, int Epochs, int BatchSize, double LearningRate, string Optimizer,
        double? WeightDecay, string Schedule, long Seed, int Threads, double ValidationSplit, string Augment, int? Limit, int? ImageSize,
        int? Channels, string? Output, string? Resume)
    {
        public IReadOnlySet<string> Given { get; init; } = new HashSet<string>();
    }

    static int Run(Settings settings, CommandOutput output)
    {
        if (settings.Threads < 1) throw new ArgumentException($"--threads must be at least 1, not {settings.Threads}.");
        if (settings.Limit is < 1) throw new ArgumentException($"--limit must be at least 1, not {settings.Limit}.");
        TrainingArguments.Check(settings.Epochs, settings.BatchSize, settings.LearningRate, settings.WeightDecay);
        Threading.NumThreads = settings.Threads;
        var clock = Stopwatch.StartNew();

        // Resuming takes everything that shaped the run from the checkpoint; only the epoch count comes from the command line.
        var resumed = settings.Resume == null ? null : Checkpoint.Load(settings.Resume);
        var previous = resumed == null ? null : ModelCard.FromCheckpoint(resumed, settings.Resume!);
        if (previous != null && !string.Equals(previous.Model, settings.Model, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"checkpoint '{settings.Resume}' trained model '{previous.Model}', not '{settings.Model}'.");
        if (previous != null && !string.Equals(previous.Dataset, settings.Dataset, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"checkpoint '{settings.Resume}' trained on '{previous.Dataset}', not '{settings.Dataset}'.");
        if (resumed != null && resumed.Epoch > settings.Epochs)
            throw new ArgumentException($"--epochs {settings.Epochs} is fewer than the {resumed.Epoch} epochs checkpoint '{settings.Resume}' has already trained; ask for more to continue it.");
        if (previous != null) WarnAboutSettingsKept(settings, resumed!.Options, previous, output);
        var zoo = ModelZoo.Get(settings.Model);
        int channelCount = previous?.Preprocessing.InputShape[0] ?? settings.Channels ?? zoo.InChannels;
        int height = previous?.Preprocessing.InputShape[1] ?? settings.ImageSize ?? zoo.InputSize.Height;
        int width = previous?.Preprocessing.InputShape[2] ?? settings.ImageSize ?? zoo.InputSize.Width;
        var loaded = DatasetChoice.Load(settings.Dataset, settings.Data, channelCount, new Size2(height, width));
        var data = loaded.FitTo(height, width);
        var options = resumed?.Options ?? new TrainingOptions
        {
            Epochs = settings.Epochs, BatchSize = settings.BatchSize, LearningRate = settings.LearningRate,
            Optimizer = Enum.Parse<OptimizerKind>(settings.Optimizer, ignoreCase: true), WeightDecay = settings.WeightDecay,
            Schedule = Enum.Parse<ScheduleKind>(settings.Schedule, ignoreCase: true), Seed = settings.Seed,
        };
        options = options with
        {
            Epochs = settings.Epochs,
            CheckpointDirectory = settings.Output ?? Path.Combine("runs", $"{settings.Model}-{settings.Dataset.Replace(':', '-').Replace('/', '-')}".ToLowerInvariant()),
        };
        options.Validate();

        int? limit = previous != null ? previous.Limit : settings.Limit;
        // --limit shrinks every split a quick run passes through: training (and its validation share) and the test pass.
        var trainSet = limit is { } count ? data.Train.Take(count) : data.Train;
        if (limit is { } testCount && data.Test != null) data = data with { Test = data.Test.Take(testCount) };
        double split = previous?.ValidationSplit ?? settings.ValidationSplit;
        if (!(split >= 0 && split < 1)) throw new ArgumentException($"--val-split must be in [0, 1), not {split}.");
        var (trainPart, validation) = split > 0 ? trainSet.RandomSplit(split, options.Seed) : (trainSet, data.Test);
        if (trainPart.Count == 0) throw new ArgumentException("the training set is empty.");
        var normalize = previous?.Preprocessing.Normalization ?? Normalize.FromDataset(trainPart);
        string augment = previous?.Augment ?? settings.Augment;
        var trainTransform = TrainTransform(augment, normalize, data.Train.SampleShape![1]);

        var record = previous ?? new ModelCard
        {
            Model = zoo.Name, Arguments = new ModelArguments(data.Train.SampleShape[0], data.Train.Classes.Count), Classes = data.Train.Classes.ToArray(),
            Preprocessing = new ImagePreprocessing
            {
                InputShape = data.Train.SampleShape!.ToArray(), ImageShape = loaded.Train.SampleShape!.ToArray(), Mean = normalize.Mean, Std = normalize.Std,
            },
            Dataset = settings.Dataset, ValidationSplit = split, Augment = augment, Limit = limit,
        };
        NN.Module network;
        // Built for the pictures' size (small-cnn at 64×64 gets a wider linear layer); a size the model cannot take stops here.
        using (Generator.Use(new Generator(options.Seed))) network = zoo.CreateFor(record.Arguments.InChannels, record.Arguments.NumClasses, new Size2(height, width));
        if (network is ISegmentationModel)
            throw new ArgumentException($"'{zoo.Name}' is a segmentation model: it scores every pixel, not a picture's class; train it with " +
                $"'convkit segment train {zoo.Name} --dataset fashion-scenes' (see 'convkit segment train --help').");
        var memory = TrainingMemory.Estimate(network, record.Preprocessing.InputShape, options.BatchSize);
        memory?.CheckFits(zoo.Name, record.Preprocessing.InputShape, TrainingMemory.MachineBytes,
            settings.Dataset.StartsWith("folder:", StringComparison.OrdinalIgnoreCase) ? "a smaller --image-size" : "a model made for small pictures (see 'convkit models')");
        var trainer = new Trainer(network, options, trainTransform, normalize, record.ToMetadata());
        if (resumed != null)
        {
            trainer.Resume(resumed, settings.Epochs);
            RunFolder.StartFrom(settings.Resume!, resumed, options.CheckpointDirectory!);
        }

        output.Line($"Training [bold]{record.Model}[/] ({network.ParameterCount():N0} parameters) on {Markup.Escape(settings.Dataset)}: " +
            $"{trainPart.Count:N0} training, {validation?.Count ?? 0:N0} validation, {data.Test?.Count ?? 0:N0} test images; {options.Optimizer} lr {options.LearningRate}, " +
            $"batch {options.BatchSize}, {settings.Threads} thread(s), seed {options.Seed}" + (resumed != null ? $"; resuming after epoch {resumed.Epoch}" : ""));

        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // stop after the current batch, with a checkpoint, rather than dying mid-write
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        TrainingResult result;
        try { result = output.Json ? trainer.Fit(trainPart, validation, stop.Token) : TrainingProgress.Fit(trainer, trainPart, validation, output, stop.Token); }
        finally { Console.CancelKeyPress -= onCancel; }

        string directory = options.CheckpointDirectory!;
        string csv = Path.Combine(directory, "metrics.csv"), chart = Path.Combine(directory, "training.png");
        AtomicFile.WriteAllText(csv, MetricsCsv(result.History));
        if (result.History.Count > 0) TrainingCharts.SaveHistory(result.History, chart, $"{record.Model} on {settings.Dataset}");

        if (result.Interrupted)
        {
            if (output.Json) output.WriteJson(new { interrupted = true, epochs_done = trainer.Epoch, batches_done = trainer.Batch, checkpoint = result.LastCheckpoint });
            else output.Line(RunFolder.StoppedLine(trainer, result.LastCheckpoint!) + $" Continue with: convkit train {record.Model} --dataset {Markup.Escape(settings.Dataset)}" +
                (settings.Data != null ? $" --data {Markup.Escape(settings.Data)}" : "") +
                $" --epochs {options.Epochs} --out {Markup.Escape(directory)} --resume {Markup.Escape(result.LastCheckpoint!)}");
            return Interrupted;
        }

        // The test set sees the best epoch's weights; without its checkpoint in this folder (a run resumed from a folder
        // that no longer has it), the last epoch's, and the report says which.
        EvaluationResult? test = null;
        bool testedBest = result.BestCheckpoint != null;
        int testedEpoch = testedBest ? result.BestEpoch : trainer.Epoch;
        if (data.Test != null)
        {
            if (!output.Json) output.Line($"Testing on {data.Test.Count:N0} images…");
            if (testedBest) network.LoadStateDict(Checkpoint.Load(result.BestCheckpoint!).ModelState);
            // In training batches, not EvaluationResult's 500: what fits a training step fits a pass without gradients.
            test = EvaluationResult.Evaluate(network, data.Test, normalize, options.BatchSize);
        }
        double seconds = clock.Elapsed.TotalSeconds;
        if (output.Json)
        {
            output.WriteJson(new
            {
                model = record.Model, dataset = settings.Dataset, epochs = result.History, best_epoch = result.BestEpoch,
                monitor = result.Monitor, best_score = result.BestScore, tested_epoch = testedEpoch, test_accuracy = test?.Accuracy, test_loss = test?.Loss,
                seconds, peak_memory_mb = RunFolder.PeakMemoryMb(), threads = settings.Threads, checkpoint = result.BestCheckpoint, last_checkpoint = result.LastCheckpoint,
                metrics_csv = csv, chart,
            });
            return 0;
        }
        output.Console.Write(HistoryTable(result.History, result.BestEpoch));
        if (test != null)
            output.Line($"Test accuracy ([bold]{(testedBest ? "best" : "last")} epoch {testedEpoch}[/], {test.Count:N0} images): [bold green]{test.Accuracy:P2}[/] (loss {test.Loss:F4})" +
                (testedBest ? "" : $"; the best epoch ({result.BestEpoch}) was saved in the folder this run was resumed from, which no longer has it"));
        output.Line($"Time: {seconds:F1} s ({result.History.Sum(e => e.Seconds) / Math.Max(1, result.History.Count):F1} s per training epoch), peak memory {RunFolder.PeakMemoryMb():N0} MB");
        output.Line(RunFolder.WroteLine(result.BestCheckpoint, result.LastCheckpoint, csv, chart));
        return 0;
    }

    /// <summary>A resumed run keeps the settings it started with; those typed with other values are named in one warning.</summary>
    static void WarnAboutSettingsKept(Settings settings, TrainingOptions run, ModelCard card, CommandOutput output)
    {
        string Text(object? value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "none";
        var kept = new (string Option, object? Given, object? Run)[]
        {
            ("--batch-size", settings.BatchSize, run.BatchSize), ("--lr", settings.LearningRate, run.LearningRate),
            ("--optimizer", settings.Optimizer, run.Optimizer.ToString().ToLowerInvariant()), ("--weight-decay", settings.WeightDecay, run.WeightDecay),
            ("--schedule", settings.Schedule, run.Schedule.ToString().ToLowerInvariant()), ("--seed", settings.Seed, run.Seed),
            ("--val-split", settings.ValidationSplit, card.ValidationSplit), ("--augment", settings.Augment, card.Augment), ("--limit", settings.Limit, card.Limit),
            ("--image-size", settings.ImageSize, card.Preprocessing.InputShape[1]), ("--channels", settings.Channels, card.Preprocessing.InputShape[0]),
        }.Where(k => settings.Given.Contains(k.Option) && !string.Equals(Text(k.Given), Text(k.Run), StringComparison.OrdinalIgnoreCase))
         .Select(k => $"{k.Option} {Text(k.Given)} (the run's: {Text(k.Run)})").ToList();
        if (kept.Count > 0)
            output.Problem($"warning: {string.Join(", ", kept)} ignored: a resumed run keeps the settings it started with; " +
                "only --epochs, --out and --threads apply. Start a new run without --resume to change them.");
    }

    static ITransform TrainTransform(string augment, Normalize normalize, int height)
    {
        var steps = new List<ITransform>();
        foreach (string part in augment.ToLowerInvariant().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            if (part != "none") steps.Add(part switch
            {
                "crop" => new RandomCrop(Math.Max(1, height / 8)),
                "flip" => new RandomHorizontalFlip(),
                _ => throw new ArgumentException($"--augment: unknown augmentation '{part}' (use none, crop, flip or crop,flip)."),
            });
        steps.Add(normalize);
        return new Compose([.. steps]);
    }

    static Table HistoryTable(IReadOnlyList<EpochMetrics> history, int bestEpoch)
    {
        var table = new Table().AddColumns("epoch", "train loss", "train acc", "val loss", "val acc", "lr", "seconds", "img/s");
        foreach (var e in history)
            table.AddRow((e.Epoch == bestEpoch ? "*" : "") + e.Epoch, $"{e.TrainLoss:F4}", $"{e.TrainAccuracy:P2}",
                e.ValidationLoss is { } loss ? $"{loss:F4}" : "-", e.ValidationAccuracy is { } accuracy ? $"{accuracy:P2}" : "-",
                $"{e.LearningRate:G4}", $"{e.Seconds:F1}", $"{e.SamplesPerSecond:N0}");
        return table;
    }

    /// <summary>One row per epoch: every training value (loss, its terms such as GoogLeNet's aux1_loss, the metrics), the same on the validation set, then rate and time.</summary>
    internal static string MetricsCsv(IReadOnlyList<EpochMetrics> history)
    {
        var trainNames = history.SelectMany(e => e.Train.Keys).Distinct().ToList();
        var validationNames = history.SelectMany(e => e.Validation?.Keys ?? []).Distinct().ToList();
        var csv = new StringBuilder(string.Join(',', ["epoch", .. trainNames.Select(n => "train_" + n), .. validationNames.Select(n => "val_" + n),
            "learning_rate", "seconds", "samples_per_second"])).Append('\n');
        string Number(double? value) => value?.ToString("R", CultureInfo.InvariantCulture) ?? "";
        foreach (var e in history)
            csv.AppendLine(string.Join(',', [e.Epoch.ToString(CultureInfo.InvariantCulture),
                .. trainNames.Select(n => Number(e.Train.TryGetValue(n, out var v) ? v : null)),
                .. validationNames.Select(n => Number(e.Validation != null && e.Validation.TryGetValue(n, out var v) ? v : null)),
                Number(e.LearningRate), Number(e.Seconds), Number(e.SamplesPerSecond)]));
        return csv.ToString();
    }
}
