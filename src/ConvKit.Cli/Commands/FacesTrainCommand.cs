using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ConvKit.Backends.Cpu;
using ConvKit.Cli.Charts;
using ConvKit.Data;
using ConvKit.Data.Transforms;
using ConvKit.IO;
using ConvKit.NN;
using ConvKit.Training;
using ConvKit.Vision.Faces;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary>
/// <c>convkit faces train triplet|siamese</c>: trains an encoder whose embeddings verify identities, on a dataset whose
/// classes stand in for identities, then reports verification accuracy on held-out test pairs at a threshold chosen on
/// validation pairs, with the ROC curve and a 2-D projection of the embeddings.
/// </summary>
static class FacesTrainCommand
{
    /// <summary>The checkpoint metadata key holding the recipe (so --resume rebuilds the same run).</summary>
    const string RecipeKey = "convkit.faces_recipe";

    public static Command Create()
    {
        var command = new Command("train", """
            Train your own face-style encoder: the triplet loss with online mining over P identities × K pictures per
            batch, or a Siamese network (|f(a) − f(b)| → a logistic unit) on the pairs of each batch. A dataset's classes
            stand in for identities. Writes OUT/best.safetensors, OUT/last.safetensors, OUT/metrics.csv, OUT/training.png,
            OUT/roc.png, OUT/embeddings.png and OUT/verification.json, and prints the verification accuracy on held-out test
            pairs (half same identity, half different) at the threshold chosen on validation pairs.
            """);
        command.Add(CreateKind("triplet", """
            Train an encoder with the triplet loss, max(d(a,p) − d(a,n) + margin, 0), mined online in each P×K batch
            (batch-hard: every anchor's farthest positive and nearest negative; or semi-hard as FaceNet). Pairs are judged
            by the Euclidean distance of their L2-normalised embeddings.
            """));
        command.Add(CreateKind("siamese", """
            Train an encoder and a Siamese head, σ(Σ w·|f(a) − f(b)| + b), with binary cross-entropy on every pair of each
            P×K batch (same and different pairs weighted to count half each). Pairs are judged by the head's probability.
            """));
        CommandOutput.AddExamples(command, """
            convkit faces train triplet --dataset fashion-mnist --epochs 6
            convkit faces train siamese --dataset fashion-mnist --epochs 6
            """);
        return command;
    }

    static Command CreateKind(string kind, string description)
    {
        var dataset = new Option<string>("--dataset", "-d") { Description = $"Dataset whose classes stand in for identities: {DatasetChoice.Help}.", DefaultValueFactory = _ => "fashion-mnist" };
        var data = new Option<string?>("--data") { Description = "Folder holding the dataset's files (searched before the standard places)." };
        var epochs = new Option<int>("--epochs", "-e") { Description = "Epochs to train (each fills the training set once with P×K batches; with --resume: the total to reach).", DefaultValueFactory = _ => 6 };
        var p = new Option<int>("--p") { Description = "P: identities per batch (at least 2).", DefaultValueFactory = _ => 10 };
        var k = new Option<int>("--k") { Description = "K: pictures of each identity per batch (at least 2).", DefaultValueFactory = _ => 12 };
        var embeddingSize = new Option<int>("--embedding-size") { Description = "Length of the L2-normalised embedding.", DefaultValueFactory = _ => 64 };
        var width = new Option<int>("--width") { Description = "Channels of the encoder's first block (then 2× and 4×).", DefaultValueFactory = _ => 16 };
        var margin = new Option<float>("--margin") { Description = "triplet: the margin, on the scale of distances between unit vectors (plain: [0, 2], squared: [0, 4]).", DefaultValueFactory = _ => 0.3f };
        var mining = new Option<string>("--mining") { Description = "triplet: semi-hard (FaceNet; the default: batch-hard from scratch tends to collapse every embedding to one point) or hard (batch-hard).", DefaultValueFactory = _ => "semi-hard" };
        mining.AcceptOnlyFromAmong("hard", "semi-hard");
        var squared = new Option<bool>("--squared") { Description = "triplet: squared Euclidean distances (FaceNet) instead of plain ones." };
        var lr = new Option<double>("--lr") { Description = "Learning rate (Adam, cosine schedule).", DefaultValueFactory = _ => 2e-3 };
        var seed = new Option<long>("--seed") { Description = "Seed of the initial weights, batches and pairs.", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "CPU threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var validationSplit = new Option<double>("--val-split") { Description = "Fraction of the training set held out: its pairs pick the best epoch and the threshold.", DefaultValueFactory = _ => 0.1 };
        var pairs = new Option<int>("--pairs") { Description = "Held-out test pairs (half same identity, half different), and as many validation pairs at most.", DefaultValueFactory = _ => 10_000 };
        var limit = new Option<int?>("--limit") { Description = "Train on the first N training samples only (quick runs)." };
        var output = new Option<string?>("--out", "-o") { Description = "Output folder (default runs/faces-KIND-DATASET)." };
        var resume = new Option<string?>("--resume") { Description = "Continue the run saved in this checkpoint (its last.safetensors); everything but --epochs, --out and --threads comes from it." };
        var command = new Command(kind, description)
        {
            dataset, data, epochs, p, k, embeddingSize, width, lr, seed, threads, validationSplit, pairs, limit, output, resume,
        };
        if (kind == "triplet") { command.Add(margin); command.Add(mining); command.Add(squared); }
        CommandOutput.AddJsonOption(command);
        CommandOutput.AddExamples(command, kind == "triplet"
            ? """
              convkit faces train triplet --dataset fashion-mnist --epochs 6
              convkit faces train triplet --mining semi-hard --squared --margin 0.2 --p 16 --k 8
              convkit faces train triplet --epochs 10 --resume runs/faces-triplet-fashion-mnist/last.safetensors
              """
            : """
              convkit faces train siamese --dataset fashion-mnist --epochs 6
              convkit faces train siamese --dataset mnist --data ~/datasets/mnist --embedding-size 32
              """);
        command.SetAction(parsed =>
        {
            var recipe = new Recipe(kind, parsed.GetValue(dataset)!, parsed.GetValue(p), parsed.GetValue(k), parsed.GetValue(embeddingSize),
                parsed.GetValue(width), kind == "triplet" ? parsed.GetValue(margin) : 0, kind == "triplet" ? parsed.GetValue(mining)! : "",
                kind == "triplet" && parsed.GetValue(squared), parsed.GetValue(lr), parsed.GetValue(seed), parsed.GetValue(validationSplit),
                parsed.GetValue(pairs), parsed.GetValue(limit));
            return Run(recipe, parsed.GetValue(data), parsed.GetValue(epochs), parsed.GetValue(threads), parsed.GetValue(output),
                parsed.GetValue(resume), new CommandOutput(parsed));
        });
        return command;
    }

    /// <summary>Everything that shapes a run, saved in its checkpoints.</summary>
    sealed record Recipe(string Kind, string Dataset, int P, int K, int EmbeddingSize, int Width, float Margin, string Mining, bool Squared,
        double LearningRate, long Seed, double ValidationSplit, int Pairs, int? Limit);

    static int Run(Recipe recipe, string? dataDirectory, int epochs, int threads, string? outDirectory, string? resumePath, CommandOutput output)
    {
        if (threads < 1) throw new ArgumentException($"--threads must be at least 1, not {threads}.");
        Threading.NumThreads = threads;
        var clock = Stopwatch.StartNew();
        var resumed = resumePath == null ? null : Checkpoint.Load(resumePath);
        if (resumed != null)
        {
            var saved = resumed.Metadata.TryGetValue(RecipeKey, out var json) ? JsonSerializer.Deserialize<Recipe>(json)
                : throw new InvalidDataException($"'{resumePath}' was not written by 'convkit faces train' (it has no {RecipeKey} entry).");
            if (saved!.Kind != recipe.Kind) throw new ArgumentException($"checkpoint '{resumePath}' trained a {saved.Kind} encoder, not {recipe.Kind}.");
            recipe = saved;
        }
        if (recipe.Limit is < 1) throw new ArgumentException($"--limit must be at least 1, not {recipe.Limit}.");
        if (!(recipe.ValidationSplit > 0 && recipe.ValidationSplit < 1)) throw new ArgumentException($"--val-split must be in (0, 1): the threshold is chosen on validation pairs; got {recipe.ValidationSplit}.");
        if (recipe.Pairs < 2 || recipe.Pairs % 2 != 0) throw new ArgumentException($"--pairs must be even and at least 2, not {recipe.Pairs}.");

        var loaded = DatasetChoice.Load(recipe.Dataset, dataDirectory, 1, new Size2(28, 28));
        var shape = loaded.Train.SampleShape!;
        if (shape[1] != shape[2]) throw new ArgumentException($"'{recipe.Dataset}' has {shape[1]}×{shape[2]} pictures; the encoder takes square ones.");
        var test = loaded.Test ?? throw new ArgumentException($"'{recipe.Dataset}' has no test set to draw held-out pairs from (a folder needs DIR/train and DIR/test).");
        var trainSet = recipe.Limit is { } count ? loaded.Train.Take(count) : loaded.Train;
        var (trainPart, validation) = trainSet.RandomSplit(recipe.ValidationSplit, recipe.Seed);
        var normalize = Normalize.FromDataset(trainPart);

        Module model;
        using (Generator.Use(new Generator(recipe.Seed)))
        {
            var encoder = new EmbeddingNetwork(recipe.EmbeddingSize, shape[0], shape[1], recipe.Width);
            model = recipe.Kind == "siamese" ? new SiameseNetwork(encoder) : encoder;
        }
        TrainingTask task = recipe.Kind == "siamese"
            ? new SiameseTask { IdentitiesPerBatch = recipe.P, PicturesPerIdentity = recipe.K }
            : new TripletTask
            {
                IdentitiesPerBatch = recipe.P, PicturesPerIdentity = recipe.K,
                Loss = new TripletLoss(recipe.Margin, recipe.Mining == "semi-hard" ? TripletMining.BatchSemiHard : TripletMining.BatchHard, recipe.Squared),
            };
        var options = resumed?.Options ?? new TrainingOptions
        {
            Epochs = epochs, BatchSize = recipe.P * recipe.K, LearningRate = recipe.LearningRate, Optimizer = OptimizerKind.Adam,
            Schedule = ScheduleKind.Cosine, Seed = recipe.Seed,
        };
        string directory = outDirectory ?? Path.Combine("runs", $"faces-{recipe.Kind}-{recipe.Dataset.Replace(':', '-').Replace('/', '-')}".ToLowerInvariant());
        options = options with { Epochs = epochs, CheckpointDirectory = directory };
        var metadata = new Dictionary<string, string>
        {
            [RecipeKey] = JsonSerializer.Serialize(recipe),
            ["convkit.faces_normalize"] = JsonSerializer.Serialize(new { mean = normalize.Mean, std = normalize.Std }),
        };
        var trainer = new Trainer(model, options, normalize, normalize, metadata, task);
        if (resumed != null)
        {
            trainer.Resume(resumed, epochs);
            RunFolder.StartFrom(resumePath!, resumed, directory);
        }

        output.Line($"Training a [bold]{recipe.Kind}[/] encoder ({model.ParameterCount():N0} parameters, {recipe.EmbeddingSize}-d embeddings) on " +
            $"{Markup.Escape(recipe.Dataset)}: {trainPart.Count:N0} training, {validation.Count:N0} validation pictures; batches of P={recipe.P} × K={recipe.K}" +
            (recipe.Kind == "triplet" ? $", {recipe.Mining} mining, margin {recipe.Margin}{(recipe.Squared ? " (squared distances)" : "")}" : "") +
            $"; Adam lr {recipe.LearningRate}, {threads} thread(s), seed {recipe.Seed}" + (resumed != null ? $"; resuming after epoch {resumed.Epoch}" : ""));

        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // stop after the current batch, with a checkpoint
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        TrainingResult result;
        try { result = output.Json ? trainer.Fit(trainPart, validation, stop.Token) : TrainingProgress.Fit(trainer, trainPart, validation, output, stop.Token); }
        finally { Console.CancelKeyPress -= onCancel; }

        string csv = Path.Combine(directory, "metrics.csv"), historyChart = Path.Combine(directory, "training.png");
        AtomicFile.WriteAllText(csv, TrainCommand.MetricsCsv(result.History));
        if (result.History.Count > 0) TrainingCharts.SaveHistory(result.History, historyChart, $"{recipe.Kind} encoder on {recipe.Dataset}");
        if (result.Interrupted)
        {
            if (output.Json) output.WriteJson(new { interrupted = true, epochs_done = trainer.Epoch, batches_done = trainer.Batch, checkpoint = result.LastCheckpoint });
            else output.Line(RunFolder.StoppedLine(trainer, result.LastCheckpoint!) + $" Continue with: convkit faces train {recipe.Kind}" +
                (dataDirectory != null ? $" --data {Markup.Escape(dataDirectory)}" : "") +
                $" --epochs {options.Epochs} --out {Markup.Escape(directory)} --resume {Markup.Escape(result.LastCheckpoint!)}");
            return TrainCommand.Interrupted;
        }

        // The best epoch's weights, judged on pairs it never trained on.
        if (result.BestCheckpoint != null) model.LoadStateDict(Checkpoint.Load(result.BestCheckpoint).ModelState);
        int[] Labels(Dataset set) => Enumerable.Range(0, set.Count).Select(set.Label).ToArray();
        var validationPairs = VerificationPairs.Build(Labels(validation), Math.Min(recipe.Pairs, validation.Count / 2 * 2), recipe.Seed + 1);
        var testLabels = Labels(test);
        var testPairs = VerificationPairs.Build(testLabels, recipe.Pairs, recipe.Seed + 2);
        var report = VerificationEvaluator.Evaluate(model, validation, validationPairs, test, testPairs, normalize);

        string rocChart = Path.Combine(directory, "roc.png"), projectionChart = Path.Combine(directory, "embeddings.png");
        string summary = Path.Combine(directory, "verification.json");
        var testScores = VerificationEvaluator.Scores(report.TestEmbeddings, testPairs, (model as SiameseNetwork)?.Head);
        double falsePositiveRate = Rate(testScores, testPairs.Same, report.Threshold, same: false), truePositiveRate = Rate(testScores, testPairs.Same, report.Threshold, same: true);
        FaceCharts.SaveRoc(report.TestRoc, falsePositiveRate, truePositiveRate, rocChart, $"{recipe.Kind} encoder: {testPairs.Count:N0} test pairs of {recipe.Dataset}");
        int shown = Math.Min(2000, test.Count);
        FaceCharts.SaveProjection(report.TestEmbeddings.Narrow(0, 0, shown), testLabels[..shown], test.Classes, projectionChart,
            $"{recipe.Kind} embeddings of {shown:N0} test pictures (PCA)");
        string thresholdUnit = report.Score == VerificationScore.NegativeDistance ? "distance" : "probability";
        var verification = new
        {
            kind = recipe.Kind, dataset = recipe.Dataset, best_epoch = result.BestEpoch, test_pairs = testPairs.Count, validation_pairs = validationPairs.Count,
            threshold = report.NaturalThreshold, threshold_unit = thresholdUnit, validation_accuracy = report.ValidationAccuracy,
            test_accuracy = report.TestAccuracy, test_auc = report.TestRoc.Area, test_true_positive_rate = truePositiveRate,
            test_false_positive_rate = falsePositiveRate, recipe,
        };
        AtomicFile.WriteAllText(summary, JsonSerializer.Serialize(verification, new JsonSerializerOptions { WriteIndented = true }));
        double seconds = clock.Elapsed.TotalSeconds;
        if (output.Json)
        {
            output.WriteJson(new
            {
                verification, epochs = result.History, monitor = result.Monitor, best_score = result.BestScore, seconds, peak_memory_mb = RunFolder.PeakMemoryMb(), threads,
                checkpoint = result.BestCheckpoint, last_checkpoint = result.LastCheckpoint, metrics_csv = csv,
                charts = new[] { historyChart, rocChart, projectionChart },
            });
            return 0;
        }
        output.Console.Write(HistoryTable(result.History, result.BestEpoch, result.Monitor));
        string rule = report.Score == VerificationScore.NegativeDistance ? $"same when the distance ≤ {report.NaturalThreshold:F4}" : $"same when the probability ≥ {report.NaturalThreshold:F4}";
        output.Line($"Verification on {testPairs.Count:N0} held-out test pairs ([bold]best epoch {result.BestEpoch}[/]): accuracy [bold green]{report.TestAccuracy:P2}[/], " +
            $"ROC AUC {report.TestRoc.Area:F4} (TPR {truePositiveRate:P1} at FPR {falsePositiveRate:P1})");
        output.Line($"Threshold chosen on {validationPairs.Count:N0} validation pairs: {rule} (validation accuracy {report.ValidationAccuracy:P2})");
        output.Line($"Time: {seconds:F1} s ({result.History.Sum(e => e.Seconds) / Math.Max(1, result.History.Count):F1} s per training epoch), peak memory {RunFolder.PeakMemoryMb():N0} MB");
        output.Line(RunFolder.WroteLine(result.BestCheckpoint, result.LastCheckpoint, csv, summary, historyChart, rocChart, projectionChart));
        return 0;
    }

    /// <summary>The fraction of the pairs of one kind (<paramref name="same"/>) declared the same at <paramref name="threshold"/>.</summary>
    static double Rate(double[] scores, bool[] truth, double threshold, bool same)
    {
        int count = 0, declared = 0;
        for (int i = 0; i < scores.Length; i++)
            if (truth[i] == same) { count++; if (scores[i] >= threshold) declared++; }
        return count == 0 ? double.NaN : (double)declared / count;
    }

    static Table HistoryTable(IReadOnlyList<EpochMetrics> history, int bestEpoch, string monitor)
    {
        var names = history.SelectMany(e => e.Train.Keys).Where(n => n != "loss").Distinct().ToList();
        var table = new Table().AddColumns(["epoch", "train loss", .. names.Select(n => "train " + n), "val loss", .. names.Select(n => "val " + n), "lr", "seconds", "img/s"]);
        string Value(IReadOnlyDictionary<string, double>? values, string name) =>
            values != null && values.TryGetValue(name, out var v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "-";
        foreach (var e in history)
            table.AddRow([(e.Epoch == bestEpoch ? "*" : "") + e.Epoch, Value(e.Train, "loss"), .. names.Select(n => Value(e.Train, n)),
                Value(e.Validation, "loss"), .. names.Select(n => Value(e.Validation, n)), $"{e.LearningRate:G4}", $"{e.Seconds:F1}", $"{e.SamplesPerSecond:N0}"]);
        table.Caption($"* best epoch by validation {monitor}");
        return table;
    }
}
