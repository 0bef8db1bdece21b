using System.Diagnostics;
using System.Globalization;
using ConvKit.Backends.Cpu;
using ConvKit.Data;
using ConvKit.Data.Transforms;
using ConvKit.Training;
using ConvKit.Vision.Models;

namespace ConvKit.Bench;

/// <summary>
/// Training speed: seconds per Fashion-MNIST epoch (60,000 images padded to 32×32) of LeNet-5 (the zoo's
/// <c>lenet5</c>), batch size 64, Adam at 1e-3, in ConvKit's Trainer and in PyTorch 1.13 with the same model,
/// at 1 and 2 threads. Each run is its own process, so its peak resident memory (VmHWM / ru_maxrss) is its own.
/// The epoch time is the best of the measured epochs (the first also pays for JIT compilation in .NET).
/// </summary>
static class TrainBench
{
    const int Epochs = 2;
    static readonly int[] ThreadCounts = [1, 2];
    // Fashion-MNIST's pixel mean and std, used by both engines.
    const float Mean = 0.2860f, Std = 0.3530f;

    public static void Run()
    {
        if (!Directory.Exists(IdxDatasets.FashionMnistDirectory))
        {
            Console.WriteLine($"\n## Training: skipped, Fashion-MNIST is not in {IdxDatasets.FashionMnistDirectory} (apt-get install dataset-fashion-mnist)");
            return;
        }
        var rows = new List<(string Engine, int Threads, double Seconds, double PeakMb)>();
        foreach (int threads in ThreadCounts)
        {
            var ours = Parse(RunWorker(threads));
            rows.Add(("ConvKit", threads, ours.Seconds, ours.PeakMb));
            var torch = Parse(Machine.RunPython("train_torch.py", $"{threads} {Epochs} \"{IdxDatasets.FashionMnistDirectory}\""));
            rows.Add(("PyTorch 1.13", threads, torch.Seconds, torch.PeakMb));
        }

        Console.WriteLine();
        Console.WriteLine($"## Training: LeNet-5 on Fashion-MNIST (60,000 images, 32×32), batch 64, Adam, best of {Epochs} epochs");
        Console.WriteLine("PyTorch threads: torch.set_num_threads(N) as in the threads column; ConvKit: Threading.NumThreads = N");
        Console.WriteLine();
        Console.WriteLine("| engine | threads | s per epoch | images/s | peak RSS (MB) |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var row in rows)
            Console.WriteLine($"| {row.Engine} | {row.Threads} | {row.Seconds:F2} | {60_000 / row.Seconds:N0} | {row.PeakMb:F0} |");
        var bestOurs = rows.Where(r => r.Engine == "ConvKit").MinBy(r => r.Seconds);
        var bestTorch = rows.Where(r => r.Engine != "ConvKit").MinBy(r => r.Seconds);
        Console.WriteLine($"| ratio (PyTorch best / ConvKit best) | {bestTorch.Threads} vs {bestOurs.Threads} | {bestTorch.Seconds / bestOurs.Seconds:F2}× | | |");
    }

    /// <summary>Reads "epoch_seconds: a b ..." and "peak_rss_mb: m" lines.</summary>
    static (double Seconds, double PeakMb) Parse(string[] lines)
    {
        string Value(string key) => lines.Single(l => l.StartsWith(key + ":"))[(key.Length + 1)..].Trim();
        var epochs = Value("epoch_seconds").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => double.Parse(s, CultureInfo.InvariantCulture));
        return (epochs.Min(), double.Parse(Value("peak_rss_mb"), CultureInfo.InvariantCulture));
    }

    /// <summary>Runs this benchmark program again as "train-worker THREADS", so the training has a process of its own.</summary>
    static string[] RunWorker(int threads)
    {
        string self = Environment.ProcessPath!;
        string dll = Path.Combine(AppContext.BaseDirectory, "ConvKit.Bench.dll");
        bool host = Path.GetFileNameWithoutExtension(self) == "dotnet";
        var start = new ProcessStartInfo(self, (host ? $"\"{dll}\" " : "") + $"train-worker {threads}") { RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"train-worker failed ({process.ExitCode}): {output}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The measured side: trains <see cref="Epochs"/> epochs and prints their times and the peak RSS.</summary>
    public static void Worker(int threads)
    {
        Threading.NumThreads = threads;
        var train = IdxDatasets.FashionMnist().PadTo(32, 32);
        NN.Module model;
        using (Generator.Use(new Generator(0))) model = ModelZoo.Create("lenet5", 1, 10);
        var trainer = new Trainer(model, new TrainingOptions { Epochs = Epochs, BatchSize = 64, LearningRate = 1e-3 },
            new Normalize([Mean], [Std]));
        var seconds = new List<double>();
        trainer.EpochCompleted += metrics => seconds.Add(metrics.Seconds);
        trainer.Fit(train);
        Console.WriteLine("epoch_seconds: " + string.Join(' ', seconds.Select(s => s.ToString("R", CultureInfo.InvariantCulture))));
        Console.WriteLine("peak_rss_mb: " + (PeakRssKb() / 1024.0).ToString("R", CultureInfo.InvariantCulture));
    }

    /// <summary>VmHWM from /proc/self/status: the peak resident set, as Python's ru_maxrss reports it.</summary>
    static long PeakRssKb() =>
        long.Parse(File.ReadLines("/proc/self/status").Single(l => l.StartsWith("VmHWM:"))["VmHWM:".Length..].Trim().Split(' ')[0],
            CultureInfo.InvariantCulture);
}
