using System.Diagnostics;
using System.Globalization;
using ConvKit.Backends.Cpu;
using ConvKit.Vision.Data;
using ConvKit.Vision.Detection;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ConvKit.Bench;

/// <summary>
/// A trained Faster R-CNN against its ONNX export on the held-out fashion-scenes: <c>convkit export faster-rcnn
/// --checkpoint CHECKPOINT</c> writes the whole detector, ONNX Runtime runs it on each test picture (normalised as the
/// checkpoint's card says, one picture a run, 2 threads), and ConvKit's <see cref="Detector.Detect(Tensor, DetectionOptions?)"/>
/// runs on the same picture with the evaluation's settings (score ≥ 0.05, IoU 0.45, 100 at most). Reported: pictures
/// whose detections agree (same count and classes in the same order, scores within 1e-4, corners within 1e-2 pixel),
/// the largest differences, each engine's mAP@0.5 and mAP@[.5:.95] (COCO evaluation) and milliseconds per picture.
/// Usage: <c>rcnn-onnx CHECKPOINT [PICTURES=1000]</c>; runs only when named.
/// </summary>
static class RcnnOnnxBench
{
    const int Threads = 2;

    public static void Run(string[] arguments)
    {
        if (arguments.Length < 1) throw new ArgumentException("rcnn-onnx: name a faster-rcnn checkpoint of 'convkit detect train' (best.safetensors).");
        string checkpoint = Path.GetFullPath(arguments[0]);
        int limit = arguments.Length > 1 ? int.Parse(arguments[1], CultureInfo.InvariantCulture) : 1000;
        if (DetectBench.DataSet("Faster R-CNN in ONNX Runtime") is not { } data) return;
        var test = new CocoDetectionDataset(Path.Combine(data, "test", "images"), Path.Combine(data, "test", "annotations.json"), channels: 1);
        int count = Math.Min(limit, test.Count);
        string onnx = Path.Combine(Path.GetTempPath(), $"convkit-bench-rcnn-onnx-{Environment.ProcessId}.onnx");
        try
        {
            ConvKitCommand.Run($"export faster-rcnn --checkpoint \"{checkpoint}\" -o \"{onnx}\" --json", out _);
            Threading.NumThreads = Threads;
            var detector = Detector.Load(checkpoint);
            var options = new DetectionOptions();
            using var sessionOptions = new SessionOptions { IntraOpNumThreads = Threads, InterOpNumThreads = 1 };
            using var session = new InferenceSession(onnx, sessionOptions);
            var shape = detector.Card.Preprocessing.InputShape;

            var truths = new List<GroundTruthBox>();
            var (ours, theirs) = (new List<DetectedBox>(), new List<DetectedBox>());
            int agreeing = 0, detections = 0;
            double worstScore = 0, worstCorner = 0;
            var (ourClock, theirClock) = (new Stopwatch(), new Stopwatch());
            for (int i = 0; i < count; i++)
            {
                var sample = test.GetSample(i);
                var boxes = sample.Boxes!.ConvertTo(ConvKit.Data.BoxFormat.Xyxy, relative: false);
                for (int t = 0; t < boxes.Count; t++) truths.Add(new GroundTruthBox(i, boxes.Labels[t], boxes[t][0], boxes[t][1], boxes[t][2], boxes[t][3]));

                if (i > 0) ourClock.Start();   // picture 0 warms both engines up
                var expected = detector.Detect(sample.Image, options);
                ourClock.Stop();
                var values = sample.Image.ToArray();
                detector.Card.Preprocessing.Normalization.Apply(values, shape, new Random(0));
                if (i > 0) theirClock.Start();
                using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(values, [1, .. shape]))]);
                theirClock.Stop();
                var corners = results.Single(r => r.Name == "boxes").AsTensor<float>().ToArray();
                var scores = results.Single(r => r.Name == "scores").AsTensor<float>().ToArray();
                var labels = results.Single(r => r.Name == "labels").AsTensor<long>().ToArray();

                foreach (var d in expected) ours.Add(new DetectedBox(i, d.Class, d.X1, d.Y1, d.X2, d.Y2, d.Score));
                for (int k = 0; k < scores.Length; k++)
                    theirs.Add(new DetectedBox(i, (int)labels[k], corners[4 * k], corners[4 * k + 1], corners[4 * k + 2], corners[4 * k + 3], scores[k]));
                detections += expected.Count;
                bool same = expected.Count == scores.Length && expected.Select(d => (long)d.Class).SequenceEqual(labels);
                if (same)
                    for (int k = 0; k < scores.Length; k++)
                    {
                        var d = expected[k];
                        double score = Math.Abs(d.Score - scores[k]);
                        double corner = new[] { d.X1, d.Y1, d.X2, d.Y2 }.Select((v, j) => Math.Abs(v - corners[4 * k + j])).Max();
                        (worstScore, worstCorner) = (Math.Max(worstScore, score), Math.Max(worstCorner, corner));
                        same &= score <= 1e-4 && corner <= 1e-2;
                    }
                if (same) agreeing++;
            }

            CocoResult Score(List<DetectedBox> found)
            {
                var evaluator = new DetectionEvaluator(detector.Card.Classes.Count);
                evaluator.Add(truths, found);
                return evaluator.Coco();
            }
            var (ourScore, theirScore) = (Score(ours), Score(theirs));
            Console.WriteLine();
            Console.WriteLine($"## Faster R-CNN, ConvKit and its ONNX export in ONNX Runtime {typeof(InferenceSession).Assembly.GetName().Version}, on {count:N0} held-out fashion-scenes ({checkpoint})");
            Console.WriteLine($"{Machine.CpuModel}, .NET {Environment.Version}; load average {Machine.LoadAverage()}; {Threads} threads each; one picture a run; {detections:N0} ConvKit detections");
            Console.WriteLine();
            Console.WriteLine("| engine | mAP@0.5 | mAP@[.5:.95] | ms / picture |");
            Console.WriteLine("|---|---|---|---|");
            Console.WriteLine($"| ConvKit (Detector.Detect) | {ourScore.Ap50:F4} | {ourScore.Ap:F4} | {ourClock.Elapsed.TotalMilliseconds / (count - 1):F1} |");
            Console.WriteLine($"| ONNX Runtime (whole graph) | {theirScore.Ap50:F4} | {theirScore.Ap:F4} | {theirClock.Elapsed.TotalMilliseconds / (count - 1):F1} |");
            Console.WriteLine();
            Console.WriteLine($"Pictures whose detections agree (count, classes and order; scores within 1e-4, corners within 0.01 px): {agreeing:N0} of {count:N0}; " +
                $"largest differences where they agree in count and classes: score {worstScore:G3}, corner {worstCorner:G3} px");
        }
        finally
        {
            if (File.Exists(onnx)) File.Delete(onnx);
        }
    }
}
