using System.Globalization;
using System.Text.Json;
using ConvKit.Data;
using ConvKit.Data.Transforms;
using ConvKit.Vision.Faces;

namespace ConvKit.Bench;

/// <summary>
/// Training your own face-style encoder: <c>convkit faces train triplet|siamese --dataset fashion-mnist --epochs E
/// --threads 2 --json</c> (EmbeddingNetwork width 16, 64-d; P 10 × K 12; Adam 2e-3 cosine; triplet: semi-hard, margin
/// 0.3) against its PyTorch 1.13 twin (peers/faces_torch.py: the same network, losses, sampler and recipe) at 1 thread,
/// PyTorch's fastest on this host in the other suites, one after the other in the same run. Both use ConvKit's
/// training/validation split, normalisation and verification pairs, which this suite writes to a file for the peer:
/// the split as <c>Dataset.RandomSplit</c> makes it (read back through a dataset whose pictures are their indices) and
/// the pairs as <see cref="VerificationPairs.Build"/> makes them. Reported: seconds per epoch (the training loop,
/// mean over the epochs), peak memory, and the verification accuracy on the 10,000 held-out test pairs at the
/// threshold chosen on the validation pairs, with the ROC AUC. ConvKit reports its best epoch by validation pair AUC
/// (pair accuracy for Siamese); the peer its last.
/// Usage: <c>facetrain [EPOCHS=6] [LIMIT]</c> (LIMIT: the first LIMIT training pictures only).
/// </summary>
static class FaceTrainBench
{
    const int ConvKitThreads = 2, TorchThreads = 1, Pairs = 10_000;
    const long Seed = 0;
    const double ValidationSplit = 0.1;

    record Result(IReadOnlyList<double> EpochSeconds, IReadOnlyList<double> EpochLosses, int BestEpoch, double TestAccuracy, double TestAuc,
        double ValidationAccuracy, double PeakMb)
    {
        public double MeanSeconds => EpochSeconds.Average();
    }

    public static void Run(string[] arguments)
    {
        int epochs = arguments.Length > 0 ? int.Parse(arguments[0], CultureInfo.InvariantCulture) : 6;
        int? limit = arguments.Length > 1 ? int.Parse(arguments[1], CultureInfo.InvariantCulture) : null;
        if (!Directory.Exists(IdxDatasets.FashionMnistDirectory))
        {
            Console.WriteLine($"\n## Face-style encoders: skipped, Fashion-MNIST is not in {IdxDatasets.FashionMnistDirectory} (apt-get install dataset-fashion-mnist)");
            return;
        }
        string splitFile = Path.Combine(Path.GetTempPath(), $"convkit-bench-facetrain-{Environment.ProcessId}.json");
        File.WriteAllText(splitFile, SplitJson(limit));
        var results = new List<(string Kind, Result Ours, Result Torch)>();
        try
        {
            foreach (string kind in new[] { "triplet", "siamese" })
                results.Add((kind, RunConvKit(kind, epochs, limit),
                    Parse(Machine.RunPython("faces_torch.py", $"{kind} {TorchThreads} {epochs} \"{IdxDatasets.FashionMnistDirectory}\" \"{splitFile}\""))));
        }
        finally { File.Delete(splitFile); }

        string pictures = limit is { } l ? $"the first {l:N0} training pictures" : "60,000 training pictures";
        Console.WriteLine();
        Console.WriteLine($"## Face-style encoders on Fashion-MNIST ({pictures}, 10% held out for validation; classes as identities), " +
            $"P 10 × K 12, Adam 2e-3 cosine, {epochs} epoch{(epochs == 1 ? "" : "s")}");
        Console.WriteLine($"ConvKit: convkit faces train KIND --threads {ConvKitThreads}; PyTorch: torch.set_num_threads({TorchThreads}). Seconds: the training " +
            $"loop per epoch (mean). Accuracy: {Pairs:N0} held-out test pairs (half same class) at the threshold chosen on the validation pairs");
        Console.WriteLine();
        Console.WriteLine("| encoder | engine | threads | s per epoch (mean) | time ratio | test accuracy | test ROC AUC | validation accuracy | epoch judged | peak RSS (MB) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var (kind, ours, torch) in results)
        {
            Console.WriteLine($"| {kind} | ConvKit | {ConvKitThreads} | {ours.MeanSeconds:F1} | {torch.MeanSeconds / ours.MeanSeconds:F2}× | {ours.TestAccuracy:P2} | {ours.TestAuc:F4} | {ours.ValidationAccuracy:P2} | {ours.BestEpoch} (best) | {ours.PeakMb:F0} |");
            Console.WriteLine($"| {kind} | PyTorch 1.13 | {TorchThreads} | {torch.MeanSeconds:F1} | 1 | {torch.TestAccuracy:P2} | {torch.TestAuc:F4} | {torch.ValidationAccuracy:P2} | {torch.EpochSeconds.Count} (last) | {torch.PeakMb:F0} |");
        }
        Console.WriteLine();
        Console.WriteLine("Time ratio: PyTorch's seconds per epoch over ConvKit's (above 1: ConvKit is faster).");
        Console.WriteLine();
        Console.WriteLine("| encoder | epoch | ConvKit train loss | PyTorch train loss | ConvKit s | PyTorch s |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var (kind, ours, torch) in results)
            for (int e = 0; e < Math.Min(ours.EpochSeconds.Count, torch.EpochSeconds.Count); e++)
                Console.WriteLine($"| {kind} | {e + 1} | {ours.EpochLosses[e]:F4} | {torch.EpochLosses[e]:F4} | {ours.EpochSeconds[e]:F1} | {torch.EpochSeconds[e]:F1} |");
    }

    /// <summary>
    /// ConvKit's split (as <c>convkit faces train</c> makes it: the first LIMIT pictures, RandomSplit(0.1, seed)), its
    /// normalisation, and its validation and test pairs, as JSON for the peer.
    /// </summary>
    static string SplitJson(int? limit)
    {
        var train = IdxDatasets.FashionMnist(train: true);
        var test = IdxDatasets.FashionMnist(train: false);
        var trainSet = limit is { } n ? train.Take(n) : train;
        var (trainPart, validation) = trainSet.RandomSplit(ValidationSplit, Seed);
        var (trainIndexPart, validationIndexPart) = new IndexPictures(trainSet.Count).RandomSplit(ValidationSplit, Seed);
        int[] trainIndices = IndexPictures.Indices(trainIndexPart), validationIndices = IndexPictures.Indices(validationIndexPart);
        // The split depends on the count and the seed alone; check that the indices name the same pictures.
        if (Enumerable.Range(0, trainPart.Count).Any(i => trainPart.Label(i) != train.Label(trainIndices[i])))
            throw new InvalidOperationException("FaceTrainBench: the index split differs from the dataset's split.");
        var normalize = Normalize.FromDataset(trainPart);
        int[] Labels(Dataset set) => Enumerable.Range(0, set.Count).Select(set.Label).ToArray();
        var validationPairs = VerificationPairs.Build(Labels(validation), Math.Min(Pairs, validation.Count / 2 * 2), Seed + 1);
        var testPairs = VerificationPairs.Build(Labels(test), Pairs, Seed + 2);
        static object Shared(VerificationPairs p) => new { first = p.First, second = p.Second, same = p.Same };
        return JsonSerializer.Serialize(new
        {
            train = trainIndices, validation = validationIndices, mean = normalize.Mean[0], std = normalize.Std[0],
            validation_pairs = Shared(validationPairs), test_pairs = Shared(testPairs),
        });
    }

    /// <summary>Pictures of one value, their own index: a split of it shows which indices each part took.</summary>
    sealed class IndexPictures(int count) : Dataset
    {
        public override int Count => count;
        public override IReadOnlyList<int> SampleShape => [1, 1, 1];
        public override IReadOnlyList<string> Classes => ["index"];
        public override int Label(int index) => 0;
        public override void ReadImage(int index, Span<float> destination) => destination[0] = index;

        public static int[] Indices(Dataset part)
        {
            var value = new float[1];
            return Enumerable.Range(0, part.Count).Select(i => { part.ReadImage(i, value); return (int)value[0]; }).ToArray();
        }
    }

    static Result Parse(string[] lines)
    {
        string Value(string key) => lines.Single(l => l.StartsWith(key + ":"))[(key.Length + 1)..].Trim();
        double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);
        var epochs = lines.Where(l => l.StartsWith("epoch:")).Select(l => l["epoch:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Number).ToArray()).ToList();
        return new Result(epochs.Select(v => v[2]).ToList(), epochs.Select(v => v[1]).ToList(), epochs.Count, Number(Value("test_accuracy")),
            Number(Value("test_auc")), Number(Value("validation_accuracy")), Number(Value("peak_rss_mb")));
    }

    /// <summary>Runs <c>convkit faces train KIND ... --json</c>; its checkpoints go to a temporary folder, removed afterwards.</summary>
    static Result RunConvKit(string kind, int epochs, int? limit)
    {
        string output = Path.Combine(Path.GetTempPath(), $"convkit-bench-facetrain-{kind}-{Environment.ProcessId}");
        try
        {
            string arguments = $"faces train {kind} --dataset fashion-mnist --epochs {epochs} --threads {ConvKitThreads} --seed {Seed} " +
                $"--pairs {Pairs} --json --out \"{output}\"" + (limit is { } n ? $" --limit {n}" : "");
            long peakKb = ConvKitCommand.Run(arguments, out string json);
            using var document = JsonDocument.Parse(json);
            var top = document.RootElement;
            var verification = top.GetProperty("verification");
            var history = top.GetProperty("epochs").EnumerateArray().ToList();
            return new Result(history.Select(e => e.GetProperty("seconds").GetDouble()).ToList(),
                history.Select(e => e.GetProperty("train").GetProperty("loss").GetDouble()).ToList(),
                verification.GetProperty("best_epoch").GetInt32(), verification.GetProperty("test_accuracy").GetDouble(),
                verification.GetProperty("test_auc").GetDouble(), verification.GetProperty("validation_accuracy").GetDouble(), peakKb / 1024.0);
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }
}
