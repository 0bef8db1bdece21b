using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ConvKit.Backends.Cpu;
using ConvKit.Data;
using ConvKit.Data.Transforms;
using ConvKit.Vision.Data;
using ConvKit.Vision.Detection;

namespace ConvKit.Bench;

/// <summary>
/// The region-based detectors beside YOLO on the same data and metric: each of yolo-small, rcnn, fast-rcnn and
/// faster-rcnn is trained by the built command, <c>convkit detect train MODEL --dataset fashion-scenes --epochs E
/// --limit L --batch-size 16 --lr 0.001 --threads 2 --json</c> (Adam, cosine schedule, flip), on the first L training
/// scenes of the fashion-scenes detection set (the one <see cref="DetectBench"/> makes: 128×128, 1–6 items, 10 classes),
/// and scored on the whole held-out test set (1,000 scenes) by the command's own COCO evaluation (best epoch by
/// mAP@0.5). Training time per picture is the training loop's seconds per epoch over L (its first epoch includes the
/// selective search of every training picture and its mirror image, which later epochs find cached); inference time
/// per picture is <see cref="Detector.Detect(Tensor, DetectionOptions?)"/> on the first 100 test pictures one at a time,
/// in this process at 2 threads, proposals included (selective search for R-CNN and Fast R-CNN, nothing cached). Peak
/// memory is the training process's. No external peer: the comparison is between the four models in one run.
/// Usage: <c>rcnn [EPOCHS=3] [LIMIT=600] [MODELS=yolo-small,rcnn,fast-rcnn,faster-rcnn]</c>; runs only when named.
/// </summary>
static class RcnnBench
{
    const int Threads = 2, BatchSize = 16, InferencePictures = 100;

    record Row(string Model, long Parameters, int Epochs, int BestEpoch, double Map50, double Map, double TrainMsPerPicture, double InferMsPerPicture, double PeakMb);

    public static void Run(string[] arguments)
    {
        int epochs = arguments.Length > 0 ? int.Parse(arguments[0], CultureInfo.InvariantCulture) : 3;
        int limit = arguments.Length > 1 ? int.Parse(arguments[1], CultureInfo.InvariantCulture) : 600;
        var models = arguments.Length > 2 ? arguments[2].Split(',') : ["yolo-small", "rcnn", "fast-rcnn", "faster-rcnn"];
        if (DetectBench.DataSet("Region-based detection") is not { } data) return;
        var test = new CocoDetectionDataset(Path.Combine(data, "test", "images"), Path.Combine(data, "test", "annotations.json"), channels: 1);
        string started = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
        string loadBefore = Machine.LoadAverage();
        var rows = models.Select(model => Measure(model, data, epochs, limit, test)).ToList();

        Console.WriteLine();
        Console.WriteLine($"## Region-based detection beside YOLO on fashion-scenes (first {limit:N0} training scenes, {test.Count:N0} test scenes, 128×128, 10 classes), " +
            $"{epochs} epoch{(epochs == 1 ? "" : "s")}, batch {BatchSize}, Adam 1e-3 cosine, flip, {Threads} threads");
        Console.WriteLine($"Started {started} UTC; load average before {loadBefore}, after {Machine.LoadAverage()}. mAP: the best epoch's on the test set (COCO evaluation); " +
            $"train ms/picture: training-loop seconds per epoch (mean) / {limit}; infer ms/picture: Detector.Detect on {InferencePictures} test pictures, one at a time, proposals included");
        Console.WriteLine();
        Console.WriteLine("| model | parameters | epochs | best epoch | test mAP@0.5 | test mAP@[.5:.95] | train ms / picture | infer ms / picture | infer time vs yolo-small | peak RSS (MB) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        var yolo = rows.FirstOrDefault(r => r.Model == "yolo-small");
        foreach (var r in rows)
            Console.WriteLine($"| {r.Model} | {r.Parameters:N0} | {r.Epochs} | {r.BestEpoch} | {r.Map50:F4} | {r.Map:F4} | {r.TrainMsPerPicture:F1} | {r.InferMsPerPicture:F1} | " +
                $"{(yolo != null ? $"{r.InferMsPerPicture / yolo.InferMsPerPicture:F1}×" : "-")} | {r.PeakMb:F0} |");
    }

    static Row Measure(string model, string data, int epochs, int limit, Dataset test)
    {
        string output = Path.Combine(Path.GetTempPath(), $"convkit-bench-rcnn-{model}-{Environment.ProcessId}");
        try
        {
            Console.Error.WriteLine($"Training {model}…");
            string arguments = $"detect train {model} --dataset fashion-scenes --data \"{data}\" --epochs {epochs} --limit {limit} " +
                $"--batch-size {BatchSize} --lr 0.001 --threads {Threads} --json --out \"{output}\"";
            long peakKb = ConvKitCommand.Run(arguments, out string json);
            using var document = JsonDocument.Parse(json);
            var top = document.RootElement;
            var history = top.GetProperty("epochs").EnumerateArray().ToArray();
            double secondsPerEpoch = history.Average(e => e.GetProperty("seconds").GetDouble());
            var detector = Detector.Load(top.GetProperty("checkpoint").GetString()!);

            Threading.NumThreads = Threads;
            var pictures = Enumerable.Range(0, Math.Min(InferencePictures, test.Count)).Select(i => test.GetSample(i).Image).ToArray();
            detector.Detect(pictures[0]);   // warm-up (JIT); its proposals are then cached, so it is not timed again
            var clock = Stopwatch.StartNew();
            for (int i = 1; i < pictures.Length; i++) detector.Detect(pictures[i]);
            double inferMs = clock.Elapsed.TotalMilliseconds / (pictures.Length - 1);
            return new Row(model, detector.Model.ParameterCount(), history.Length, top.GetProperty("best_epoch").GetInt32(),
                top.GetProperty("map50").GetDouble(), top.GetProperty("map").GetDouble(), 1000 * secondsPerEpoch / limit, inferMs, peakKb / 1024.0);
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }

}
