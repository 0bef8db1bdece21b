using ConvKit.Data;
using ConvKit.Training;
using ConvKit.Vision.Faces;

namespace ConvKit.Vision.Tests.Faces;

/// <summary>Verification pairs, ROC, thresholds, PCA, and both encoders trained end to end on a small synthetic set.</summary>
public class VerificationTests
{
    [Fact]
    public void PairsAreHalfSameHalfDifferentAndReproducible()
    {
        int[] identities = [0, 1, 2, 0, 1, 2, 3, 0, 1];
        var pairs = VerificationPairs.Build(identities, 400, seed: 3);
        Assert.Equal(400, pairs.Count);
        Assert.Equal(200, pairs.Same.Count(s => s));
        for (int i = 0; i < pairs.Count; i++)
        {
            Assert.Equal(pairs.Same[i], identities[pairs.First[i]] == identities[pairs.Second[i]]);
            Assert.NotEqual(pairs.First[i], pairs.Second[i]);
        }
        Assert.Equal(pairs, VerificationPairs.Build(identities, 400, seed: 3) with { }, new PairsComparer());
        Assert.NotEqual(pairs.First, VerificationPairs.Build(identities, 400, seed: 4).First);
        Assert.DoesNotContain(6, pairs.First.Where((_, i) => pairs.Same[i])); // identity 3 has one picture: never in a same pair
    }

    sealed class PairsComparer : IEqualityComparer<VerificationPairs>
    {
        public bool Equals(VerificationPairs? a, VerificationPairs? b) =>
            a!.First.SequenceEqual(b!.First) && a.Second.SequenceEqual(b.Second) && a.Same.SequenceEqual(b.Same);
        public int GetHashCode(VerificationPairs p) => p.Count;
    }

    [Fact]
    public void PairsThatCannotBeMadeAreRefused()
    {
        Assert.Contains("even", Assert.Throws<ArgumentException>(() => VerificationPairs.Build([0, 0, 1], 3, 0)).Message);
        Assert.Contains("no identity", Assert.Throws<ArgumentException>(() => VerificationPairs.Build([0, 1, 2], 4, 0)).Message);
        Assert.Contains("one identity", Assert.Throws<ArgumentException>(() => VerificationPairs.Build([5, 5, 5], 4, 0)).Message);
    }

    [Fact]
    public void RocAreaAndThresholdsOnAHandMadeCase()
    {
        // Scores, highest first: S S D S D D (S: same). AUC = P(same outscores different) = (3 + 3 + 2) / 9.
        double[] scores = [0.9, 0.8, 0.7, 0.6, 0.4, 0.1];
        bool[] same = [true, true, false, true, false, false];
        var roc = VerificationMetrics.Roc(scores, same);
        Assert.Equal([0, 0, 0, 1 / 3.0, 1 / 3.0, 2 / 3.0, 1], roc.FalsePositiveRate);
        Assert.Equal([0, 1 / 3.0, 2 / 3.0, 2 / 3.0, 1, 1, 1], roc.TruePositiveRate);
        Assert.Equal(8 / 9.0, roc.Area, 12);
        var (threshold, accuracy) = VerificationMetrics.BestThreshold(scores, same);
        Assert.Equal(0.75, threshold, 12); // first best: after the two top pairs, 5 of 6 right
        Assert.Equal(5 / 6.0, accuracy, 12);
        Assert.Equal(accuracy, VerificationMetrics.Accuracy(scores, same, threshold));
        Assert.Equal(0.5, VerificationMetrics.Accuracy(scores, same, 100));
        // Ties fall together: one point for two equal scores, and the AUC counts them half.
        var tied = VerificationMetrics.Roc([0.5, 0.5], [true, false]);
        Assert.Equal([0, 1], tied.FalsePositiveRate);
        Assert.Equal(0.5, tied.Area, 12);
    }

    [Fact]
    public void MetricsRefuseMismatchedOrOneSidedInput()
    {
        Assert.Contains("3 scores for 2 pairs", Assert.Throws<ArgumentException>(() => VerificationMetrics.Roc([1, 2, 3], [true, false])).Message);
        Assert.Contains("both", Assert.Throws<ArgumentException>(() => VerificationMetrics.Roc([1, 2], [true, true])).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => VerificationMetrics.Accuracy([double.NaN, 1], [true, false], 0)).Message);
    }

    [Fact]
    public void PcaFindsTheDirectionsOfLargestVariance()
    {
        // Points spread widely along (1, 1, 0)/√2, less along z, not at all along (1, −1, 0), away from the origin; the
        // two spreads uncorrelated by construction (each position along the line twice, once above and once below).
        int n = 200;
        var along = new double[n];
        var up = new double[n];
        var values = new float[n * 3];
        for (int i = 0; i < n; i++)
        {
            along[i] = (i / 2 - 49.5) * 0.2;
            up[i] = i % 2 == 0 ? 0.5 : -0.5;
            values[3 * i] = (float)(along[i] / Math.Sqrt(2) + 1);
            values[3 * i + 1] = (float)(along[i] / Math.Sqrt(2) - 2);
            values[3 * i + 2] = (float)(up[i] + 5);
        }
        var projection = EmbeddingProjection.Pca(values, n, 3);
        double meanAlong = along.Average(), meanUp = up.Average();
        // Each component is found up to its sign.
        double sign0 = Math.Sign(projection[0, 0] * (along[0] - meanAlong)), sign1 = Math.Sign(projection[0, 1] * (up[0] - meanUp));
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(along[i] - meanAlong, sign0 * projection[i, 0], 3);
            Assert.Equal(up[i] - meanUp, sign1 * projection[i, 1], 3);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingProjection.Pca(values, n, 3, components: 4));
        Assert.Throws<ArgumentException>(() => EmbeddingProjection.Pca(values, n, 4));
    }

    [Theory]
    [InlineData("triplet-hard")]
    [InlineData("triplet-semi-hard")]
    [InlineData("siamese")]
    public void EncodersTrainedOnQuadrantsVerifyHeldOutPairs(string recipe)
    {
        var train = new Quadrants(400, seed: 1);
        var test = new Quadrants(200, seed: 2);
        var validation = new Quadrants(200, seed: 3);
        TrainingTask task = recipe switch
        {
            "siamese" => new SiameseTask { IdentitiesPerBatch = 4, PicturesPerIdentity = 4 },
            _ => new TripletTask
            {
                IdentitiesPerBatch = 4, PicturesPerIdentity = 4,
                Loss = new TripletLoss(0.2f, recipe == "triplet-hard" ? TripletMining.BatchHard : TripletMining.BatchSemiHard),
            },
        };
        NN.Module model;
        using (Generator.Use(new Generator(7)))
        {
            var encoder = new EmbeddingNetwork(embeddingSize: 8, inputSize: 8, width: 4);
            model = recipe == "siamese" ? new SiameseNetwork(encoder) : encoder;
        }
        var trainer = new Trainer(model, new TrainingOptions { Epochs = 4, LearningRate = 3e-3, Seed = 1, Prefetch = 0 }, task: task);
        var result = trainer.Fit(train, validation);
        Assert.Equal(4, result.History.Count);
        Assert.Equal(400 / 16, task.CreateBatchSampler(train, 1)!.BatchCount); // an epoch of P×K batches fills the set once
        var report = VerificationEvaluator.Evaluate(model, validation, VerificationPairs.Build(validation.Labels, 200, 1), test,
            VerificationPairs.Build(test.Labels, 200, 2));
        Assert.True(report.TestAccuracy >= 0.95, $"{recipe}: test accuracy {report.TestAccuracy:P1}, validation {report.ValidationAccuracy:P1}");
        Assert.True(report.TestRoc.Area >= 0.97, $"{recipe}: AUC {report.TestRoc.Area:F3}");
        Assert.Equal(test.Count, report.TestEmbeddings.Shape[0]);
        // Embeddings lie on the unit sphere.
        var norms = report.TestEmbeddings.Square().Sum(1).ToArray();
        Assert.All(norms, v => Assert.Equal(1f, v, 4));
    }

    /// <summary>P×K batches are a function of (seed, epoch): a run stopped inside an epoch and resumed ends with the same weights.</summary>
    [Fact]
    public void ATripletRunStoppedInsideAnEpochResumesToTheSameWeights()
    {
        int threads = ConvKit.Backends.Cpu.Threading.NumThreads;
        ConvKit.Backends.Cpu.Threading.NumThreads = 1;
        string directory = Directory.CreateTempSubdirectory("convkit-triplet-resume-").FullName;
        try
        {
            var train = new Quadrants(96, seed: 1);
            var validation = new Quadrants(32, seed: 3);
            TripletTask Task() => new() { IdentitiesPerBatch = 2, PicturesPerIdentity = 4 };
            EmbeddingNetwork Encoder(int seed)
            {
                using var _ = Generator.Use(new Generator(seed));
                return new EmbeddingNetwork(embeddingSize: 8, inputSize: 8, width: 4);
            }
            TrainingOptions Options(string? folder) => new() { Epochs = 2, LearningRate = 3e-3, Seed = 5, Prefetch = 1, CheckpointDirectory = folder };
            var whole = Encoder(7);
            new Trainer(whole, Options(null), task: Task()).Fit(train, validation);

            var first = new Trainer(Encoder(7), Options(directory), task: Task());
            using var stop = new CancellationTokenSource();
            first.BatchCompleted += p => { if (p.Epoch == 2 && p.Batch == 5) stop.Cancel(); };
            var stopped = first.Fit(train, validation, stop.Token);
            Assert.True(stopped.Interrupted);

            var resumedModel = Encoder(99);
            var resumed = new Trainer(resumedModel, Options(directory), task: Task());
            resumed.Resume(Checkpoint.Load(stopped.LastCheckpoint!));
            resumed.Fit(train, validation);
            Assert.Equal(whole.StateDict().Select(p => p.Value.ToArray()), resumedModel.StateDict().Select(p => p.Value.ToArray()));
        }
        finally
        {
            ConvKit.Backends.Cpu.Threading.NumThreads = threads;
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void SiameseTaskRefusesAPlainEncoder()
    {
        var task = new SiameseTask { IdentitiesPerBatch = 2, PicturesPerIdentity = 2 };
        var batch = new Batch(Tensor.Zeros(4, 1, 8, 8), Tensor.FromArray([0, 0, 1, 1], 4), [0, 1, 2, 3]);
        var error = Assert.Throws<InvalidOperationException>(() => task.Step(new EmbeddingNetwork(8, inputSize: 8), batch));
        Assert.Contains("SiameseNetwork", error.Message);
        Assert.Contains("[2, 8] and [2, 7]", Assert.Throws<ArgumentException>(() => new SiameseHead(8).Forward(Tensor.Zeros(2, 8), Tensor.Zeros(2, 7))).Message);
        Assert.Contains("[4, 1, 28, 28]", Assert.Throws<ArgumentException>(() => new EmbeddingNetwork(8, inputSize: 8).Forward(Tensor.Zeros(4, 1, 28, 28))).Message);
    }

    /// <summary>8×8 grey pictures of four identities: a bright 4×4 quadrant (which one is the identity) over noise.</summary>
    sealed class Quadrants : Dataset
    {
        readonly float[][] images;

        public Quadrants(int count, int seed)
        {
            var random = new Random(seed);
            Labels = Enumerable.Range(0, count).Select(i => i % 4).ToArray();
            images = Labels.Select(label =>
            {
                var image = new float[64];
                for (int y = 0; y < 8; y++)
                    for (int x = 0; x < 8; x++)
                    {
                        bool inside = y / 4 == label / 2 && x / 4 == label % 2;
                        image[y * 8 + x] = (float)Math.Clamp((inside ? 0.7 : 0.2) + 0.25 * (random.NextDouble() - 0.5), 0, 1);
                    }
                return image;
            }).ToArray();
        }

        public int[] Labels { get; }
        public override int Count => images.Length;
        public override IReadOnlyList<int> SampleShape => [1, 8, 8];
        public override IReadOnlyList<string> Classes => ["top-left", "top-right", "bottom-left", "bottom-right"];
        public override int Label(int index) => Labels[index];
        public override void ReadImage(int index, Span<float> destination) => images[index].CopyTo(destination);
    }
}
