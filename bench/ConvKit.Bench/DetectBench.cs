using System.Globalization;
using System.Text.Json;
using ConvKit.Data;
using ConvKit.Vision.Data;
using ConvKit.Vision.Detection;

namespace ConvKit.Bench;

/// <summary>
/// Detection training: <c>convkit detect train yolo-small --dataset fashion-scenes --epochs E --batch-size 32 --threads 2
/// --json</c> (YOLO v2, 5 anchors by k-means, stride 16; Adam 1e-3 with a cosine schedule, flip, batch 32) on the
/// fashion-scenes detection set (6,000 training scenes by default and 1,000 test scenes of 128×128 holding 1–6 items), against its
/// PyTorch 1.13 twin (peers/detect_torch.py: the same network, initial distributions, loss, recipe, normalisation and
/// decoding) at <see cref="TorchThreads"/> threads. The twin regresses against the anchors ConvKit's k-means chose, and
/// writes each epoch's test detections, which are scored here by the same <see cref="DetectionEvaluator"/> that scores
/// ConvKit's, so the metric itself cannot differ. ConvKit runs as the built command (<see cref="ConvKitCommand"/>).
/// Seconds per epoch are the training loop's, evaluation not timed; mAP is the best epoch's by mAP@0.5.
/// Usage: <c>detect [EPOCHS=30] [SCENES=6000]</c>: train on SCENES training scenes (the test set stays the same 1,000).
/// Scene i is the same in every set (each scene's random stream is keyed by its index), so up to 6,000 the standard set
/// is read with <c>--limit</c>; beyond, a larger set is made once beside it.
/// </summary>
static class DetectBench
{
    const int ConvKitThreads = 2, TorchThreads = 2, BatchSize = 32, StandardScenes = 6000;

    /// <summary>
    /// The fashion-scenes detection set the detection suites share, made once in a temporary folder; null (after a
    /// "skipped" heading naming <paramref name="suiteTitle"/>) when Fashion-MNIST is not installed.
    /// </summary>
    /// <param name="trainScenes">training scenes, beyond the standard set's 6,000 only (its own folder)</param>
    internal static string? DataSet(string suiteTitle, int trainScenes = StandardScenes)
    {
        var options = FashionScenesOptions.Detection with { TrainScenes = Math.Max(trainScenes, StandardScenes) };
        string data = Path.Combine(Path.GetTempPath(), "convkit-bench-fashion-detection" +
            (options.TrainScenes == StandardScenes ? "" : $"-{options.TrainScenes}"));
        if (File.Exists(Path.Combine(data, "classes.txt"))) return data; // classes.txt is written last: the folder is complete
        if (!Directory.Exists(IdxDatasets.FashionMnistDirectory))
        {
            Console.WriteLine($"\n## {suiteTitle}: skipped, Fashion-MNIST is not in {IdxDatasets.FashionMnistDirectory} (apt-get install dataset-fashion-mnist)");
            return null;
        }
        Console.Error.WriteLine($"Making the fashion-scenes detection set in {data} (once)…");
        FashionScenes.WriteDetection(data, options);
        return data;
    }

    record Epoch(int Number, double TrainLoss, double TestLoss, double Map50, double Map, double Seconds);

    record Result(IReadOnlyList<Epoch> Epochs, double PeakMb)
    {
        public Epoch Best => Epochs.MaxBy(e => e.Map50)!;
        public double MeanSeconds => Epochs.Average(e => e.Seconds);
    }

    public static void Run(string[] arguments)
    {
        int epochs = arguments.Length > 0 ? int.Parse(arguments[0], CultureInfo.InvariantCulture) : 30;
        int scenes = arguments.Length > 1 ? int.Parse(arguments[1], CultureInfo.InvariantCulture) : StandardScenes;
        int? limit = scenes < StandardScenes ? scenes : null;
        if (DataSet("Detection", scenes) is not { } data) return;

        var (ours, anchors) = RunConvKit(data, epochs, limit);
        string detections = Path.Combine(Path.GetTempPath(), $"convkit-bench-detect-torch-{Environment.ProcessId}");
        Result torch;
        try
        {
            string anchorList = string.Join(";", anchors.Select(a => string.Create(CultureInfo.InvariantCulture, $"{a[0]:R},{a[1]:R}")));
            var lines = Machine.RunPython("detect_torch.py", $"{TorchThreads} {epochs} \"{data}\" \"{detections}\" 0.001 \"{anchorList}\"" + (limit is { } n ? $" {n}" : ""));
            torch = ScorePeer(lines, detections, data);
        }
        finally
        {
            if (Directory.Exists(detections)) Directory.Delete(detections, recursive: true);
        }

        Report(ours, torch, anchors, scenes, epochs, ConvKitThreads, TorchThreads, "one after the other");
    }

    /// <summary>
    /// <c>detect-score DATA CHECKPOINT CONVKIT_PEAK_MB TORCH_DETECTIONS TORCH_LOG [CONVKIT_THREADS=2] [TORCH_THREADS=1]</c>:
    /// the same report for a ConvKit run (its last.safetensors, whose metadata holds every epoch's metrics and whose
    /// anchors the twin was given) and a twin run (its detections folder and printed lines) made side by side outside
    /// this suite, both at once on the same machine: on a shared 2-core machine that is how both fit in one session.
    /// </summary>
    public static void Score(string[] arguments)
    {
        if (arguments.Length < 5) throw new ArgumentException("detect-score DATA CHECKPOINT CONVKIT_PEAK_MB TORCH_DETECTIONS TORCH_LOG [CONVKIT_THREADS=2] [TORCH_THREADS=1]");
        string data = arguments[0];
        var checkpoint = ConvKit.Training.Checkpoint.Load(arguments[1]);
        double peakMb = double.Parse(arguments[2], CultureInfo.InvariantCulture);
        int ourThreads = arguments.Length > 5 ? int.Parse(arguments[5], CultureInfo.InvariantCulture) : 2;
        int torchThreads = arguments.Length > 6 ? int.Parse(arguments[6], CultureInfo.InvariantCulture) : 1;
        var epochs = checkpoint.History.Select(e => new Epoch(e.Epoch, e.TrainLoss, e.Validation!["loss"], e.Validation["map50"],
            e.Validation["map"], e.Seconds)).ToList();
        var anchors = checkpoint.ModelState["anchors"].ToArray().Chunk(2).ToArray();
        var torch = ScorePeer(File.ReadAllLines(arguments[4]), arguments[3], data);
        int scenes = new CocoDetectionDataset(Path.Combine(data, "train", "images"), Path.Combine(data, "train", "annotations.json"), channels: 1).Count;
        Report(new Result(epochs, peakMb), torch, anchors, scenes, epochs.Count, ourThreads, torchThreads, "at the same time, side by side");
    }

    static void Report(Result ours, Result torch, float[][] anchors, int scenes, int epochs, int ourThreads, int torchThreads, string how)
    {
        Console.WriteLine();
        Console.WriteLine($"## Detection: YOLO v2 (yolo-small) on fashion-scenes ({scenes:N0} training scenes, 1,000 test, 128×128, 1–6 items, 10 classes), " +
            $"batch {BatchSize}, Adam 1e-3 cosine, flip, {epochs} epoch{(epochs == 1 ? "" : "s")}");
        Console.WriteLine($"ConvKit: convkit detect train yolo-small --threads {ourThreads}; PyTorch: torch.set_num_threads({torchThreads}). " +
            $"Anchors (k-means, shared): {string.Join(" ", anchors.Select(a => $"{a[0]:F1}×{a[1]:F1}"))}. " +
            $"The engines ran {how}. Seconds: the training loop per epoch (mean); mAP: the best epoch's (by mAP@0.5) on the test set, both scored by ConvKit's DetectionEvaluator");
        Console.WriteLine();
        Console.WriteLine("| engine | threads | epochs | s per epoch (mean) | best epoch | test mAP@0.5 | test mAP@[.5:.95] | peak RSS (MB) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var (engine, threads, r) in new[] { ("ConvKit", ourThreads, ours), ("PyTorch 1.13", torchThreads, torch) })
            Console.WriteLine($"| {engine} | {threads} | {r.Epochs.Count} | {r.MeanSeconds:F1} | {r.Best.Number} | {r.Best.Map50:F4} | {r.Best.Map:F4} | {r.PeakMb:F0} |");
        Console.WriteLine();
        Console.WriteLine($"mAP@0.5 difference (PyTorch − ConvKit): {torch.Best.Map50 - ours.Best.Map50:+0.0000;−0.0000;0.0000}; " +
            $"time ratio (PyTorch s per epoch / ConvKit s per epoch): {torch.MeanSeconds / ours.MeanSeconds:F2}×");
        Console.WriteLine();
        Console.WriteLine("| epoch | ConvKit train loss | PyTorch train loss | ConvKit test loss | PyTorch test loss | ConvKit mAP@0.5 | PyTorch mAP@0.5 | ConvKit s | PyTorch s |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        for (int e = 0; e < Math.Min(ours.Epochs.Count, torch.Epochs.Count); e++)
        {
            var (a, b) = (ours.Epochs[e], torch.Epochs[e]);
            Console.WriteLine($"| {a.Number} | {a.TrainLoss:F4} | {b.TrainLoss:F4} | {a.TestLoss:F4} | {b.TestLoss:F4} | {a.Map50:F4} | {b.Map50:F4} | {a.Seconds:F1} | {b.Seconds:F1} |");
        }
    }

    /// <summary>Runs <c>convkit detect train ... --json</c>; checkpoints go to a temporary folder, removed afterwards.</summary>
    static (Result Result, float[][] Anchors) RunConvKit(string data, int epochs, int? limit)
    {
        string output = Path.Combine(Path.GetTempPath(), $"convkit-bench-detect-{Environment.ProcessId}");
        try
        {
            string arguments = $"detect train yolo-small --dataset fashion-scenes --data \"{data}\" --epochs {epochs} " +
                $"--batch-size {BatchSize} --threads {ConvKitThreads} --json --out \"{output}\"" + (limit is { } n ? $" --limit {n}" : "");
            long peakKb = ConvKitCommand.Run(arguments, out string json);
            using var document = JsonDocument.Parse(json);
            var top = document.RootElement;
            var history = top.GetProperty("epochs").EnumerateArray().Select(e =>
            {
                var validation = e.GetProperty("validation");
                return new Epoch(e.GetProperty("epoch").GetInt32(), e.GetProperty("train").GetProperty("loss").GetDouble(),
                    validation.GetProperty("loss").GetDouble(), validation.GetProperty("map50").GetDouble(),
                    validation.GetProperty("map").GetDouble(), e.GetProperty("seconds").GetDouble());
            }).ToList();
            var anchors = top.GetProperty("anchors").EnumerateArray().Select(a => a.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
            return (new Result(history, peakKb / 1024.0), anchors);
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }

    /// <summary>The peer's "epoch: N train_loss test_loss seconds" lines, each epoch's detections scored against the test boxes.</summary>
    static Result ScorePeer(string[] lines, string detections, string data)
    {
        double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);
        var test = new CocoDetectionDataset(Path.Combine(data, "test", "images"), Path.Combine(data, "test", "annotations.json"), channels: 1);
        var truths = new List<GroundTruthBox>();
        for (int i = 0; i < test.Count; i++)
        {
            var boxes = test.GetSample(i).Boxes!.ConvertTo(BoxFormat.Xyxy, relative: false);
            for (int k = 0; k < boxes.Count; k++)
                truths.Add(new GroundTruthBox(i, boxes.Labels[k], boxes[k][0], boxes[k][1], boxes[k][2], boxes[k][3]));
        }
        var epochs = lines.Where(l => l.StartsWith("epoch:")).Select(l =>
        {
            var v = l["epoch:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Number).ToArray();
            using var file = File.OpenRead(Path.Combine(detections, $"epoch{(int)v[0]}.json"));
            var found = JsonSerializer.Deserialize<double[][]>(file)!.Select(d =>
                new DetectedBox((int)d[0], (int)d[1], (float)d[2], (float)d[3], (float)d[4], (float)d[5], (float)d[6]));
            var evaluator = new DetectionEvaluator(test.Classes.Count);
            evaluator.Add(truths, found);
            var coco = evaluator.Coco();
            return new Epoch((int)v[0], v[1], v[2], coco.Ap50, coco.Ap, v[3]);
        }).ToList();
        string peak = lines.Single(l => l.StartsWith("peak_rss_mb:"))["peak_rss_mb:".Length..].Trim();
        return new Result(epochs, Number(peak));
    }
}
