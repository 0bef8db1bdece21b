using ConvKit.Backends;
using ConvKit.Ops;
using ConvKit.Vision.Models;

namespace ConvKit.Vision.Faces;

/// <summary>
/// The triplet loss of face recognition, max(d(a, p) − d(a, n) + margin, 0), with its triplets mined online from
/// the batch (<see cref="TripletMining"/>): a batch of P identities × K pictures (<see cref="PKBatchSampler"/>)
/// holds K − 1 positives and (P − 1)·K negatives for every anchor. Embeddings are expected L2-normalised
/// (<see cref="EmbeddingNetwork"/> ends so), which bounds the distances: plain distances lie in [0, 2], squared ones
/// in [0, 4], and the margin is on that scale (0.2 is FaceNet's, for squared distances).
/// <para>
/// The distance d is Euclidean, d = √(‖a − b‖² + ε) with ε = 1e-12 (finite gradient when two embeddings coincide),
/// or, with <see cref="Squared"/>, ‖a − b‖². Mining reads the distances without gradient (a choice of indices);
/// the loss is then computed on the chosen rows, so its gradient reaches the embeddings through the selected
/// anchors, positives and negatives only, as in PyTorch implementations that take the max and min of a masked
/// distance matrix. Anchors (batch-hard) or pairs (semi-hard) with no positive or no negative in the batch are
/// left out; a batch with none at all gives a loss of 0.
/// </para>
/// </summary>
public sealed class TripletLoss
{
    /// <summary>ε under the square root of the plain distance.</summary>
    public const float DistanceEps = 1e-12f;

    /// <summary>How much farther than the positive the negative must be before a triplet costs nothing.</summary>
    public float Margin { get; }
    /// <summary>Which triplets of the batch make the loss.</summary>
    public TripletMining Mining { get; }
    /// <summary>Squared Euclidean distances (FaceNet) instead of plain ones (Hermans et al.).</summary>
    public bool Squared { get; }

    /// <summary>A triplet loss with the given margin, mining and distance.</summary>
    public TripletLoss(float margin = 0.2f, TripletMining mining = TripletMining.BatchHard, bool squared = false)
    {
        if (!(margin >= 0 && float.IsFinite(margin))) throw new ArgumentException($"TripletLoss: the margin must be ≥ 0, not {margin}.", nameof(margin));
        if (!Enum.IsDefined(mining)) throw new ArgumentException($"TripletLoss: unknown mining {mining}.", nameof(mining));
        (Margin, Mining, Squared) = (margin, mining, squared);
    }

    /// <summary>The mean loss over the mined triplets of the batch (a scalar).</summary>
    /// <param name="embeddings">(N, D), one embedding per picture</param>
    /// <param name="identities">(N), each picture's identity as a float holding an integer (a batch's labels)</param>
    public Tensor Forward(Tensor embeddings, Tensor identities) => Compute(embeddings, identities).Loss;

    /// <summary>The loss with the triplets it was computed on.</summary>
    /// <param name="embeddings">(N, D)</param>
    /// <param name="identities">(N) Int32, or integers held in floats</param>
    public TripletLossResult Compute(Tensor embeddings, Tensor identities)
    {
        if (identities.Rank != 1)
            throw new ArgumentException($"TripletLoss: identities must have shape (N), got {ModelChecks.Format(identities.Shape)} (embeddings {ModelChecks.Format(embeddings.Shape)}).");
        var labels = identities.DType == DType.Int32 ? identities.ToInt32Array() : identities.ToArray().Select(v => v == MathF.Round(v) ? (int)v
            : throw new ArgumentException($"TripletLoss: identity {v} is not an integer.")).ToArray();
        return Compute(embeddings, labels);
    }

    /// <inheritdoc cref="Compute(Tensor, Tensor)"/>
    public TripletLossResult Compute(Tensor embeddings, IReadOnlyList<int> identities)
    {
        CheckEmbeddings("TripletLoss", embeddings, identities.Count);
        var distances = PairwiseDistances(embeddings.ToArray(), embeddings.Shape[0], embeddings.Shape[1], Squared);
        var triplets = Mine(distances, identities, Margin, Mining);
        int count = triplets.Anchors.Length;
        if (count == 0) return new TripletLossResult((embeddings * 0f).Sum(), triplets, 0);

        Tensor Rows(int[] indices) => F.IndexSelect(embeddings, 0, Tensor.FromInt32(indices));
        var anchors = Rows(triplets.Anchors);
        var toPositive = Distance(anchors - Rows(triplets.Positives));
        var toNegative = Distance(anchors - Rows(triplets.Negatives));
        var perTriplet = F.Relu(toPositive - toNegative + Margin);
        int active = perTriplet.ToArray().Count(v => v > 0);
        return new TripletLossResult(perTriplet.Mean(), triplets, active);
    }

    Tensor Distance(Tensor difference)
    {
        var squared = difference.Square().Sum(1);
        return Squared ? squared : (squared + DistanceEps).Sqrt();
    }

    /// <summary>Throws naming <paramref name="op"/> and the shapes unless <paramref name="embeddings"/> is (N, D) with N = <paramref name="count"/>.</summary>
    internal static void CheckEmbeddings(string op, Tensor embeddings, int count)
    {
        if (embeddings.Rank != 2 || embeddings.Shape[1] < 1)
            throw new ArgumentException($"{op}: embeddings must have shape (N, D), got {ModelChecks.Format(embeddings.Shape)}.");
        if (embeddings.Shape[0] != count)
            throw new ArgumentException($"{op}: embeddings of shape {ModelChecks.Format(embeddings.Shape)} but {count} identities; there must be one identity per embedding.");
    }

    /// <summary>The (N, N) matrix of distances between the rows of <paramref name="embeddings"/> (N × D values, row-major), in double precision.</summary>
    public static double[,] PairwiseDistances(float[] embeddings, int count, int dimension, bool squared)
    {
        if (embeddings.Length != count * dimension)
            throw new ArgumentException($"PairwiseDistances: {embeddings.Length} values are not {count} embeddings of {dimension}.");
        var distances = new double[count, count];
        for (int i = 0; i < count; i++)
            for (int j = i + 1; j < count; j++)
            {
                double sum = 0;
                for (int k = 0; k < dimension; k++)
                {
                    double d = embeddings[i * dimension + k] - embeddings[j * dimension + k];
                    sum += d * d;
                }
                distances[i, j] = distances[j, i] = squared ? sum : Math.Sqrt(sum + DistanceEps);
            }
        return distances;
    }

    /// <summary>The triplets that <paramref name="mining"/> picks from a batch's distances and identities.</summary>
    /// <param name="distances">(N, N) distances between the batch's embeddings</param>
    /// <param name="identities">(N) each picture's identity</param>
    public static MinedTriplets Mine(double[,] distances, IReadOnlyList<int> identities, float margin, TripletMining mining)
    {
        int n = identities.Count;
        if (distances.GetLength(0) != n || distances.GetLength(1) != n)
            throw new ArgumentException($"TripletLoss.Mine: distances of shape [{distances.GetLength(0)}, {distances.GetLength(1)}] for {n} identities.");
        List<int> anchors = [], positives = [], negatives = [];
        for (int a = 0; a < n; a++)
        {
            // The nearest negative and the farthest one, for both minings.
            int nearest = -1, farthest = -1;
            for (int j = 0; j < n; j++)
            {
                if (identities[j] == identities[a]) continue;
                if (nearest < 0 || distances[a, j] < distances[a, nearest]) nearest = j;
                if (farthest < 0 || distances[a, j] > distances[a, farthest]) farthest = j;
            }
            if (nearest < 0) continue;
            if (mining == TripletMining.BatchHard)
            {
                int hardest = -1;
                for (int p = 0; p < n; p++)
                    if (p != a && identities[p] == identities[a] && (hardest < 0 || distances[a, p] > distances[a, hardest])) hardest = p;
                if (hardest < 0) continue;
                anchors.Add(a); positives.Add(hardest); negatives.Add(nearest);
                continue;
            }
            for (int p = 0; p < n; p++)
            {
                if (p == a || identities[p] != identities[a]) continue;
                int semiHard = -1;
                for (int j = 0; j < n; j++)
                    if (identities[j] != identities[a] && distances[a, j] > distances[a, p] && (semiHard < 0 || distances[a, j] < distances[a, semiHard])) semiHard = j;
                anchors.Add(a); positives.Add(p); negatives.Add(semiHard >= 0 ? semiHard : farthest);
            }
        }
        return new MinedTriplets([.. anchors], [.. positives], [.. negatives]);
    }

    /// <inheritdoc/>
    public override string ToString() => $"TripletLoss(margin={Margin}, mining={Mining}, squared={Squared.ToString().ToLowerInvariant()})";
}

/// <summary>Row indices of the mined triplets: anchor i with positive i and negative i.</summary>
public sealed record MinedTriplets(int[] Anchors, int[] Positives, int[] Negatives)
{
    /// <summary>Number of triplets.</summary>
    public int Count => Anchors.Length;
}

/// <summary>A triplet loss, the triplets it was computed on, and how many of them cost something (d(a,p) + margin &gt; d(a,n)).</summary>
public sealed record TripletLossResult(Tensor Loss, MinedTriplets Triplets, int Active);
