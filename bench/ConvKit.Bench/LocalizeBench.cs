using System.Diagnostics;
using System.Globalization;
using ConvKit.Backends.Cpu;
using ConvKit.Data;
using ConvKit.Data.Transforms;
using ConvKit.Training;
using ConvKit.Vision.Data;
using ConvKit.Vision.Detection;
using ConvKit.Vision.Models;

namespace ConvKit.Bench;

/// <summary>
/// Classification with localisation: the zoo's <c>localizer-small</c> trained by the <see cref="Trainer"/> with
/// <see cref="LocalizationTask"/> on single-item Fashion-MNIST scenes (<see cref="LocalizationScenes"/>: 64×64, one item
/// at 1–1.75× its size or, one scene in ten, none; training scenes from the training pictures, test scenes from the test
/// pictures). Recipe: the logistic loss with box weight BOXWEIGHT, AdamW at LR (weight decay 1e-4) annealed by a cosine,
/// batch 64, horizontal flips, at 2 threads. Reported per epoch: the training loss, the test
/// loss and metrics (mean IoU and class accuracy over the test scenes holding an item, pc accuracy over all), seconds
/// of the training loop; at the end the process's peak resident memory (VmHWM: the run is this process's only work).
/// Usage: <c>localize [EPOCHS=8] [TRAIN=40000] [TEST=2000] [LR=2e-3] [BOXWEIGHT=2]</c>; runs only when named.
/// </summary>
static class LocalizeBench
{
    const int Threads = 2, BatchSize = 64;
    const double WeightDecay = 1e-4;

    public static void Run(string[] arguments)
    {
        int Argument(int i, int fallback) => arguments.Length > i ? int.Parse(arguments[i], CultureInfo.InvariantCulture) : fallback;
        int epochs = Argument(0, 8), trainCount = Argument(1, 40_000), testCount = Argument(2, 2_000);
        double learningRate = arguments.Length > 3 ? double.Parse(arguments[3], CultureInfo.InvariantCulture) : 2e-3;
        float boxWeight = arguments.Length > 4 ? float.Parse(arguments[4], CultureInfo.InvariantCulture) : 2;
        if (!Directory.Exists(IdxDatasets.FashionMnistDirectory))
        {
            Console.WriteLine($"\n## Localisation: skipped, Fashion-MNIST is not in {IdxDatasets.FashionMnistDirectory} (apt-get install dataset-fashion-mnist)");
            return;
        }
        Threading.NumThreads = Threads;
        var (train, test) = LocalizationScenes.FashionMnist(trainCount, testCount);
        NN.Module model;
        using (Generator.Use(new Generator(13))) model = ModelZoo.Create("localizer-small");
        var task = new LocalizationTask { Loss = new LocalizationLoss(LocalizationLossKind.Logistic) { BoxWeight = boxWeight } };
        var options = new TrainingOptions
        {
            Epochs = epochs, BatchSize = BatchSize, Optimizer = OptimizerKind.AdamW, LearningRate = learningRate, WeightDecay = WeightDecay,
            Schedule = ScheduleKind.Cosine, Seed = 13,
        };
        var trainer = new Trainer(model, options, trainTransform: new RandomHorizontalFlip(), task: task);
        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "unknown";
        Console.WriteLine();
        Console.WriteLine($"## Localisation: localizer-small ({model.ParameterCount():N0} parameters) on single-item Fashion-MNIST scenes " +
            $"({trainCount:N0} training, {testCount:N0} test, 64×64, ~10% empty), batch {BatchSize}, AdamW {learningRate} cosine, flip, " +
            $"logistic loss with box weight {boxWeight}, {epochs} epochs, {Threads} threads");
        Console.WriteLine($"Started {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, /proc/loadavg: {load}");
        Console.WriteLine();
        Console.WriteLine("| epoch | train loss | train mean IoU | train class accuracy | test loss | test mean IoU | test class accuracy | test pc accuracy | s (training) | load |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        trainer.EpochCompleted += m =>
        {
            var v = m.Validation!;
            string loadNow = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
            Console.WriteLine($"| {m.Epoch} | {m.Train["loss"]:F4} | {m.Train[LocalizationMetrics.MeanIou]:F4} | {m.Train[LocalizationMetrics.ClassAccuracy]:P2} | {v["loss"]:F4} | {v[LocalizationMetrics.MeanIou]:F4} | " +
                $"{v[LocalizationMetrics.ClassAccuracy]:P2} | {v[LocalizationMetrics.PcAccuracy]:P2} | {m.Seconds:F1} | {loadNow} |");
        };
        var clock = Stopwatch.StartNew();
        var result = trainer.Fit(train, test);
        var last = result.History[^1];
        Console.WriteLine();
        Console.WriteLine($"Final (epoch {last.Epoch}): test mean IoU {last.Validation![LocalizationMetrics.MeanIou]:F4}, " +
            $"class accuracy {last.Validation[LocalizationMetrics.ClassAccuracy]:P2}, pc accuracy {last.Validation[LocalizationMetrics.PcAccuracy]:P2}; " +
            $"{result.History.Average(e => e.Seconds):F1} s per epoch (training loop, mean), {clock.Elapsed.TotalMinutes:F1} min in all; " +
            $"peak RSS {PeakRssMb():F0} MB");
    }

    /// <summary>VmHWM from /proc/self/status, in MB: this process's peak resident set.</summary>
    internal static double PeakRssMb() => File.Exists("/proc/self/status")
        ? long.Parse(File.ReadLines("/proc/self/status").Single(l => l.StartsWith("VmHWM:"))["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0
        : double.NaN;
}
