using System.Globalization;
using System.Text.Json;
using ConvKit.Data;
using ConvKit.Vision.Data;

namespace ConvKit.Bench;

/// <summary>
/// Segmentation training: <c>convkit segment train unet-small --dataset fashion-scenes --epochs E --batch-size 32
/// --threads 2 --json</c> (U-Net, depth 4, width 16, 11 classes; Adam 2e-3 with a cosine schedule, flip, batch 32) on
/// the fashion-scenes set (6,000 training and 1,000 test scenes of 64×64), against its PyTorch 1.13 twin
/// (peers/segment_torch.py: the same network, initial distributions, recipe, normalisation and metrics) at 1 thread,
/// PyTorch's fastest on this host in the other suites. The set is made once in a cache folder both read.
/// ConvKit runs as the built command itself (<see cref="ConvKitCommand"/>), whose peak memory is its own; the peer reports
/// its ru_maxrss. Seconds per epoch are the training loop's (EpochMetrics.Seconds; the test
/// evaluation after each epoch is not timed), averaged over the epochs; mIoU and pixel accuracy are the best epoch's.
/// Usage: <c>segment [EPOCHS=8] [LIMIT]</c> (LIMIT: train on the first LIMIT pictures only; the test set stays whole).
/// </summary>
static class SegmentBench
{
    const int ConvKitThreads = 2, TorchThreads = 1, BatchSize = 32;

    static string DataDirectory => Path.Combine(Path.GetTempPath(), "convkit-bench-fashion-scenes");

    record Epoch(int Number, double TrainLoss, double TestLoss, double PixelAccuracy, double MIoU, double Seconds);

    record Result(IReadOnlyList<Epoch> Epochs, int BestEpoch, double BestMIoU, double BestPixelAccuracy, double PeakMb, string Normalize)
    {
        public double MeanSeconds => Epochs.Average(e => e.Seconds);
    }

    public static void Run(string[] arguments)
    {
        int epochs = arguments.Length > 0 ? int.Parse(arguments[0], CultureInfo.InvariantCulture) : 8;
        int? limit = arguments.Length > 1 ? int.Parse(arguments[1], CultureInfo.InvariantCulture) : null;
        string data = DataDirectory;
        if (!File.Exists(Path.Combine(data, "classes.txt")))
        {
            if (!Directory.Exists(IdxDatasets.FashionMnistDirectory))
            {
                Console.WriteLine($"\n## Segmentation: skipped, Fashion-MNIST is not in {IdxDatasets.FashionMnistDirectory} (apt-get install dataset-fashion-mnist)");
                return;
            }
            // Written beside and moved into place, so an interrupted run leaves no half-made set behind a classes.txt.
            string partial = $"{data}.partial-{Environment.ProcessId}";
            Console.Error.WriteLine($"Making the fashion-scenes set in {data} (once)…");
            FashionScenes.WriteSegmentation(partial);
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
            Directory.Move(partial, data);
        }

        var ours = RunConvKit(data, epochs, limit);
        var torch = Parse(Machine.RunPython("segment_torch.py", $"{TorchThreads} {epochs} \"{data}\"" + (limit is { } n ? $" {n}" : "")));

        string pictures = limit is { } l ? $"the first {l:N0} training scenes" : "6,000 training scenes";
        Console.WriteLine();
        Console.WriteLine($"## Segmentation: U-Net (depth 4, width 16) on fashion-scenes ({pictures}, 1,000 test, 64×64, 11 classes), " +
            $"batch {BatchSize}, Adam 2e-3 cosine, flip, {epochs} epoch{(epochs == 1 ? "" : "s")}");
        Console.WriteLine($"ConvKit: convkit segment train unet-small --threads {ConvKitThreads}; PyTorch: torch.set_num_threads({TorchThreads}). " +
            "Seconds: the training loop per epoch (mean), evaluation not timed; mIoU and pixel accuracy: the best epoch's, on the test set");
        Console.WriteLine();
        Console.WriteLine("| engine | threads | epochs | s per epoch (mean) | best epoch | best test mIoU | pixel accuracy | peak RSS (MB) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var (engine, threads, r) in new[] { ("ConvKit", ConvKitThreads, ours), ("PyTorch 1.13", TorchThreads, torch) })
            Console.WriteLine($"| {engine} | {threads} | {r.Epochs.Count} | {r.MeanSeconds:F1} | {r.BestEpoch} | {r.BestMIoU:F4} | {r.BestPixelAccuracy:P2} | {r.PeakMb:F0} |");
        Console.WriteLine();
        Console.WriteLine($"mIoU difference (PyTorch − ConvKit): {torch.BestMIoU - ours.BestMIoU:+0.0000;−0.0000;0.0000}; " +
            $"time ratio (PyTorch s per epoch / ConvKit s per epoch): {torch.MeanSeconds / ours.MeanSeconds:F2}×");
        Console.WriteLine($"Normalisation mean / std: ConvKit {ours.Normalize}, PyTorch {torch.Normalize}");
        Console.WriteLine();
        Console.WriteLine("| epoch | ConvKit train loss | PyTorch train loss | ConvKit test loss | PyTorch test loss | ConvKit mIoU | PyTorch mIoU | ConvKit s | PyTorch s |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        for (int e = 0; e < Math.Min(ours.Epochs.Count, torch.Epochs.Count); e++)
        {
            var (a, b) = (ours.Epochs[e], torch.Epochs[e]);
            Console.WriteLine($"| {a.Number} | {a.TrainLoss:F4} | {b.TrainLoss:F4} | {a.TestLoss:F4} | {b.TestLoss:F4} | {a.MIoU:F4} | {b.MIoU:F4} | {a.Seconds:F1} | {b.Seconds:F1} |");
        }
    }

    /// <summary>Reads the peer's "epoch: N train test accuracy miou seconds", "best_...:" and "peak_rss_mb:" lines.</summary>
    static Result Parse(string[] lines)
    {
        string Value(string key) => lines.Single(l => l.StartsWith(key + ":"))[(key.Length + 1)..].Trim();
        double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);
        var epochs = lines.Where(l => l.StartsWith("epoch:")).Select(l =>
        {
            var v = l["epoch:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Number).ToArray();
            return new Epoch((int)v[0], v[1], v[2], v[3], v[4], v[5]);
        }).ToList();
        var normalize = Value("normalize").Split(' ').Select(v => (float)Number(v)).ToArray();
        return new Result(epochs, int.Parse(Value("best_epoch"), CultureInfo.InvariantCulture), Number(Value("best_miou")),
            Number(Value("best_pixel_accuracy")), Number(Value("peak_rss_mb")), ConvKitCommand.Format(normalize[0], normalize[1]));
    }

    /// <summary>Runs <c>convkit segment train ... --json</c> (<see cref="ConvKitCommand"/>); checkpoints go to a temporary folder, removed afterwards.</summary>
    static Result RunConvKit(string data, int epochs, int? limit)
    {
        string output = Path.Combine(Path.GetTempPath(), $"convkit-bench-segment-{Environment.ProcessId}");
        try
        {
            string arguments = $"segment train unet-small --dataset fashion-scenes --data \"{data}\" --epochs {epochs} " +
                $"--batch-size {BatchSize} --threads {ConvKitThreads} --json --out \"{output}\"" + (limit is { } n ? $" --limit {n}" : "");
            long peakKb = ConvKitCommand.Run(arguments, out string json);
            using var document = JsonDocument.Parse(json);
            var top = document.RootElement;
            var history = top.GetProperty("epochs").EnumerateArray().Select(e =>
            {
                var validation = e.GetProperty("validation");
                return new Epoch(e.GetProperty("epoch").GetInt32(), e.GetProperty("train").GetProperty("loss").GetDouble(),
                    validation.GetProperty("loss").GetDouble(), validation.GetProperty("pixel_accuracy").GetDouble(),
                    validation.GetProperty("miou").GetDouble(), e.GetProperty("seconds").GetDouble());
            }).ToList();
            return new Result(history, top.GetProperty("best_epoch").GetInt32(), top.GetProperty("test_miou").GetDouble(),
                top.GetProperty("test_pixel_accuracy").GetDouble(), peakKb / 1024.0, ConvKitCommand.CheckpointNormalize(top.GetProperty("checkpoint").GetString()!));
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }
}
