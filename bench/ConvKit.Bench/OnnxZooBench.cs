using System.Diagnostics;
using ConvKit.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ConvKit.Bench;

/// <summary>
/// torchvision 0.14 classification, segmentation and detection models with seeded random weights, exported by PyTorch
/// 1.13 at opsets 13 and 17, batch 1, 224×224 (detection: one 3×320×320 picture, which the model resizes itself)
/// (peers/onnx_zoo_export.py writes them once into <c>$CONVKIT_ONNX_ZOO</c>, else ~/.local/share/convkit/onnx-zoo;
/// convnext_tiny alone is 110 MB, so they are never committed). For each file: ConvKit's output against ONNX Runtime's
/// (max abs difference over the output scale; detections matched one by one; ONNX Runtime without graph optimisations
/// as the reference, as the tests use it), then the latency of ConvKit (evaluation mode, no gradients)
/// and ONNX Runtime (default graph optimisations, all cores), alternating in rounds in the same run as
/// <see cref="OnnxBench"/> does; the table gives medians.
/// </summary>
static class OnnxZooBench
{
    static readonly string[] Models = ["mobilenet_v3_small", "shufflenet_v2_x0_5", "mnasnet0_5", "convnext_tiny"];
    static readonly int[] Opsets = [13, 17];
    // Small models get more inferences per round (about 100 ms of ONNX Runtime's time), so their medians are not a
    // handful of samples on a busy machine.
    const int Rounds = 7, Warmup = 3;

    public static string Folder => Environment.GetEnvironmentVariable("CONVKIT_ONNX_ZOO") is { Length: > 0 } folder ? folder
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "convkit", "onnx-zoo");

    /// <summary>Runs the suite on <paramref name="arguments"/>' models (the default four if none); <c>--parity</c> skips the timing.</summary>
    public static void Run(string[] arguments)
    {
        bool parityOnly = arguments.Contains("--parity");
        var models = arguments.Where(a => a != "--parity").ToArray();
        models = models.Length > 0 ? models : Models;
        Machine.RunPython("onnx_zoo_export.py", $"\"{Folder}\" {string.Join(",", Opsets)} {string.Join(" ", models)}");
        var rows = new List<string>();
        var ratios = new List<(string Name, int Opset, double Ratio, bool Classification)>();
        foreach (var name in models)
            foreach (int opset in Opsets)
            {
                string path = Path.Combine(Folder, $"{name}.opset{opset}.onnx");
                OnnxModule model;
                // A file that does not load is a row of the table (the importer's message names op, node and opset), not the end of the run.
                try { model = OnnxModel.Load(path); }
                catch (Exception e) when (e is NotSupportedException or InvalidDataException)
                {
                    rows.Add($"| {name} | {opset} | | does not load: {e.Message.ReplaceLineEndings(" ").Replace("|", "/")} | | | | | |");
                    continue;
                }
                // Detection models take one 3×320×320 picture with values in [0, 1); the others a normal 1×3×224×224 batch.
                bool detection = model.Inputs[0].Shape?.Count == 3;
                var x = detection ? Tensor.Rand([3, 320, 320], seed: 1) : Tensor.Randn([1, 3, 224, 224], seed: 1);
                var feeds = new[] { NamedOnnxValue.CreateFromTensor(model.Inputs[0].Name, new DenseTensor<float>(x.ToArray(), x.Shape.ToArray())) };
                var inputs = new Dictionary<string, Tensor> { [model.Inputs[0].Name] = x };

                Dictionary<string, (double[] Values, int[] Shape)> expected;
                using (var plainOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL })
                using (var plain = new InferenceSession(path, plainOptions))
                using (var reference = plain.Run(feeds))
                    expected = reference.ToDictionary(r => r.Name, Numbers);
                IReadOnlyDictionary<string, Tensor> actual;
                using (Tensor.NoGrad()) actual = model.Run(inputs);
                string error = Compare(expected, actual);
                if (parityOnly)
                {
                    rows.Add($"| {name} | {opset} | {model.OpHistogram.Values.Sum()} | {error} | | | | | |");
                    continue;
                }

                using var options = new SessionOptions { IntraOpNumThreads = Environment.ProcessorCount };
                using var session = new InferenceSession(path, options);
                var (ours, theirs) = Time(() => { using (Tensor.NoGrad()) model.Run(inputs); }, () => { using var _ = session.Run(feeds); });
                double ratio = ours.Median / theirs.Median;
                // Classification models give one (batch × classes) output; segmentation gives maps, detection boxes.
                ratios.Add((name, opset, ratio, expected.Count == 1 && expected.Values.Single().Shape.Length == 2));
                rows.Add($"| {name} | {opset} | {model.OpHistogram.Values.Sum()} | {error} | {ours.Median:F1} ({ours.Min:F1}) | " +
                    $"{theirs.Median:F1} ({theirs.Min:F1}) | {ratio:F2} | {ours.Min / theirs.Min:F2} | {ours.Count} |");
            }

        Console.WriteLine();
        Console.WriteLine($"## ONNX: torchvision models (random weights, PyTorch 1.13 export), batch 1, 224×224 (detection: one 3×320×320 picture) ({Rounds} alternating rounds per engine)");
        Console.WriteLine($"ONNX Runtime {typeof(InferenceSession).Assembly.GetName().Version}: IntraOpNumThreads = {Environment.ProcessorCount}, default graph optimisations; " +
            $"ConvKit threads: {Backends.Cpu.Threading.NumThreads}; reference output: ONNX Runtime without graph optimisations");
        Console.WriteLine();
        Console.WriteLine("| model | opset | nodes | max abs difference / output scale | ConvKit ms, median (min) | ONNX Runtime ms, median (min) | × ONNX Runtime (medians) | × (minima) | inferences per engine |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var row in rows) Console.WriteLine(row);
        static double GeometricMean(IEnumerable<double> values) => Math.Exp(values.Average(Math.Log));
        var classification = ratios.Where(r => r.Classification).Select(r => r.Ratio).ToList();
        if (classification.Count > 0)
            Console.WriteLine($"| geometric mean, classification models ({classification.Count} files) | | | | | | {GeometricMean(classification):F2} | | |");
        if (ratios.Count > 0) Console.WriteLine($"| geometric mean, all ({ratios.Count} files) | | | | | | {GeometricMean(ratios.Select(r => r.Ratio)):F2} | | |");
        if (parityOnly) return;
        var slow = ratios.Where(r => r.Ratio > 2).Select(r => $"{r.Name} (opset {r.Opset}, {r.Ratio:F2}×)").ToList();
        Console.WriteLine();
        Console.WriteLine($"Slower than 2× ONNX Runtime (medians): {(slow.Count == 0 ? "none" : string.Join(", ", slow))}.");
    }

    /// <summary>An ONNX Runtime output (float, or int64 as detection labels are) as numbers with its shape.</summary>
    static (double[] Values, int[] Shape) Numbers(DisposableNamedOnnxValue output) => output.Value switch
    {
        DenseTensor<float> floats => (floats.ToArray().Select(v => (double)v).ToArray(), floats.Dimensions.ToArray()),
        DenseTensor<long> longs => (longs.ToArray().Select(v => (double)v).ToArray(), longs.Dimensions.ToArray()),
        var other => throw new InvalidOperationException($"output {output.Name}: unexpected type {other?.GetType()}"),
    };

    /// <summary>
    /// The largest max abs difference over output scale of any output; a shape that differs is named instead. Detection
    /// outputs are compared as sets of detections (<see cref="CompareDetections"/>).
    /// </summary>
    static string Compare(Dictionary<string, (double[] Values, int[] Shape)> expected, IReadOnlyDictionary<string, Tensor> actual)
    {
        if (expected.ContainsKey("boxes") && expected.ContainsKey("scores") && expected.ContainsKey("labels")) return CompareDetections(expected, actual);
        double worst = 0;
        foreach (var (name, (values, shape)) in expected)
        {
            var ours = actual[name];
            if (!ours.Shape.SequenceEqual(shape))
                return $"{name}: shape [{string.Join(", ", ours.Shape)}], ONNX Runtime [{string.Join(", ", shape)}]";
            if (values.Length == 0) continue;
            worst = Math.Max(worst, ours.ToArray().Zip(values, (a, b) => Math.Abs(a - b)).Max() / Math.Max(values.Max(Math.Abs), 1e-12));
        }
        return $"{worst:G2}";
    }

    /// <summary>
    /// How many of ONNX Runtime's detections ConvKit finds — the same label, box and score within 1e-4 of the boxes'
    /// and the scores' scale — and how many it finds in all; with the largest box and score differences of the
    /// matched ones, and whether they come in the same order. (Scores a few ulps apart may swap places.)
    /// </summary>
    static string CompareDetections(Dictionary<string, (double[] Values, int[] Shape)> expected, IReadOnlyDictionary<string, Tensor> actual)
    {
        var (boxes, scores, labels) = (expected["boxes"].Values, expected["scores"].Values, expected["labels"].Values);
        var (ourBoxes, ourScores, ourLabels) = (actual["boxes"].ToArray(), actual["scores"].ToArray(), actual["labels"].ToArray());
        double boxScale = Math.Max(boxes.Select(Math.Abs).DefaultIfEmpty(0).Max(), 1e-12), scoreScale = Math.Max(scores.Select(Math.Abs).DefaultIfEmpty(0).Max(), 1e-12);
        var taken = new bool[ourScores.Length];
        var found = new bool[scores.Length];
        int matched = 0;
        bool inOrder = ourScores.Length == scores.Length;
        double worstBox = 0, worstScore = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            int best = -1;
            double bestBox = double.MaxValue;
            for (int j = 0; j < ourScores.Length; j++)
            {
                if (taken[j] || ourLabels[j] != labels[i] || Math.Abs(ourScores[j] - scores[i]) > 1e-4 * scoreScale) continue;
                double box = Enumerable.Range(0, 4).Max(c => Math.Abs(ourBoxes[j * 4 + c] - boxes[i * 4 + c])) / boxScale;
                if (box <= 1e-4 && box < bestBox) (best, bestBox) = (j, box);
            }
            if (best < 0) continue;
            (taken[best], found[i]) = (true, true);
            matched++;
            inOrder &= best == i;
            worstBox = Math.Max(worstBox, bestBox);
            worstScore = Math.Max(worstScore, Math.Abs(ourScores[best] - scores[i]) / scoreScale);
        }
        // Boxes whose scores tie to the last bits (translated copies of one anchor where a random network's features
        // are constant) are picked by rounding; count those of ONNX Runtime's left over that ConvKit answers with another
        // box of the same label and score.
        int tied = 0;
        foreach (int i in Enumerable.Range(0, scores.Length).Where(i => !found[i]))
        {
            int j = Enumerable.Range(0, ourScores.Length).FirstOrDefault(k => !taken[k] && ourLabels[k] == labels[i] && Math.Abs(ourScores[k] - scores[i]) <= 1e-6 * scoreScale, -1);
            if (j < 0) continue;
            taken[j] = true;
            tied++;
        }
        string ties = tied > 0 ? $", {tied} more at another box of a tied score" : "";
        return $"{matched} of {scores.Length} detections{ties} ({ourScores.Length} found{(inOrder ? ", same order" : "")}); boxes {worstBox:G2}, scores {worstScore:G2}";
    }

    /// <summary>Median and minimum milliseconds of ConvKit and ONNX Runtime, alternating in rounds after a warm-up.</summary>
    static ((double Median, double Min, int Count) Ours, (double Median, double Min, int Count) Theirs) Time(Action ours, Action theirs)
    {
        var engines = new[] { ours, theirs };
        var times = engines.Select(_ => new List<double>()).ToArray();
        foreach (var engine in engines)
            for (int i = 0; i < Warmup; i++) engine();
        var probe = Stopwatch.StartNew();
        theirs();
        int perRound = Math.Clamp((int)(100 / Math.Max(probe.Elapsed.TotalMilliseconds, 1e-3)), 2, 20);
        for (int round = 0; round < Rounds; round++)
            for (int e = 0; e < engines.Length; e++)
            {
                // ONNX Runtime's worker threads spin for a while after a run; a pause lets them park.
                Thread.Sleep(200);
                for (int i = 0; i < perRound; i++)
                {
                    var watch = Stopwatch.StartNew();
                    engines[e]();
                    times[e].Add(watch.Elapsed.TotalMilliseconds);
                }
            }
        return ((Median(times[0]), times[0].Min(), times[0].Count), (Median(times[1]), times[1].Min(), times[1].Count));
    }

    static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
