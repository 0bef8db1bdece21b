using ConvKit.Tests.Autograd;
using ConvKit.Vision.Faces;

namespace ConvKit.Vision.Tests.Faces;

/// <summary>The triplet loss's gradient by finite differences, its mining on hand-made cases, and its errors on bad input.</summary>
public class TripletLossTests
{
    static readonly int[] Labels = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]; // P = 3 identities × K = 4, interleaved

    [Theory]
    [InlineData(TripletMining.BatchHard, false)]
    [InlineData(TripletMining.BatchHard, true)]
    [InlineData(TripletMining.BatchSemiHard, false)]
    [InlineData(TripletMining.BatchSemiHard, true)]
    public void GradientMatchesFiniteDifferences(TripletMining mining, bool squared)
    {
        var loss = new TripletLoss(0.4f, mining, squared);
        // Finite differences step inputs by ±0.01: take raw embeddings whose mining and active triplets stay the same
        // under every such step, so the loss is smooth where it is probed.
        var x = Enumerable.Range(1, 2000).Select(seed => Tensor.Randn([Labels.Length, 4], seed: seed)).First(t => Stable(loss, t, 0.012f));
        GradCheck.Check(inputs => loss.Forward(L2Normalize.Apply(inputs[0]), Tensor.FromArray(Labels.Select(l => (float)l).ToArray(), Labels.Length)), x);
    }

    static bool Stable(TripletLoss loss, Tensor x, float step)
    {
        var reference = Describe(loss, x.ToArray(), x.Shape.ToArray());
        var values = x.ToArray();
        for (int j = 0; j < values.Length; j++)
            foreach (float delta in new[] { -step, step })
            {
                var moved = values.ToArray();
                moved[j] += delta;
                if (Describe(loss, moved, x.Shape.ToArray()) != reference) return false;
            }
        return true;
    }

    static string Describe(TripletLoss loss, float[] values, int[] shape)
    {
        using var _ = Tensor.NoGrad();
        var e = L2Normalize.Apply(Tensor.FromArray(values, shape));
        var result = loss.Compute(e, Labels);
        // The triplets, and which of them are active (clear of the ReLU's kink by a margin).
        var d = TripletLoss.PairwiseDistances(e.ToArray(), shape[0], shape[1], loss.Squared);
        var t = result.Triplets;
        var active = Enumerable.Range(0, t.Count).Select(i => d[t.Anchors[i], t.Positives[i]] - d[t.Anchors[i], t.Negatives[i]] + loss.Margin)
            .Select(v => Math.Abs(v) < 0.012 ? "?" : v > 0 ? "+" : "-");
        return string.Join(",", t.Anchors) + "|" + string.Join(",", t.Positives) + "|" + string.Join(",", t.Negatives) + "|" + string.Concat(active);
    }

    [Fact]
    public void BatchHardTakesTheFarthestPositiveAndTheNearestNegative()
    {
        // On a line: identity 0 at 0, 1 and 3; identity 1 at 2 and 10.
        float[] points = [0, 1, 3, 2, 10];
        int[] identities = [0, 0, 0, 1, 1];
        var d = Distances(points);
        var t = TripletLoss.Mine(d, identities, 0.5f, TripletMining.BatchHard);
        Assert.Equal([0, 1, 2, 3, 4], t.Anchors);
        Assert.Equal([2, 2, 0, 4, 3], t.Positives);
        Assert.Equal([3, 3, 3, 1, 2], t.Negatives);
    }

    [Fact]
    public void SemiHardTakesTheNearestNegativeFartherThanThePositiveElseTheFarthest()
    {
        float[] points = [0, 1, 3, 2, 10];
        int[] identities = [0, 0, 0, 1, 1];
        var t = TripletLoss.Mine(Distances(points), identities, 0.5f, TripletMining.BatchSemiHard);
        // Anchor 0: positive 1 (d 1) → the nearest negative farther than 1 is 3 (d 2); positive 2 (d 3) → 4 (d 10).
        // Anchor 1: positive 0 (d 1) → negative 3 is at d 1, not farther: 4. Anchor 3 (at 2): positive 4 (d 8) → no
        // negative is farther than 8: the farthest, 0 (d 2). Anchor 4: positive 3 (d 8) → 0 (d 10) and 1 (d 9): 1.
        Assert.Equal([0, 0, 1, 1, 2, 2, 3, 4], t.Anchors);
        Assert.Equal([1, 2, 0, 2, 0, 1, 4, 3], t.Positives);
        Assert.Equal([3, 4, 4, 4, 4, 4, 0, 1], t.Negatives);
    }

    static double[,] Distances(float[] points)
    {
        var d = new double[points.Length, points.Length];
        for (int i = 0; i < points.Length; i++) for (int j = 0; j < points.Length; j++) d[i, j] = Math.Abs(points[i] - points[j]);
        return d;
    }

    [Fact]
    public void SeparatedClustersCostNothingAndABatchWithoutNegativesGivesZero()
    {
        var e = Tensor.FromArray([1, 0, 1, 0, 0, 1, 0, 1], 4, 2);
        Assert.Equal(0f, new TripletLoss(0.2f).Forward(e, Tensor.FromArray([0, 0, 1, 1], 4)).Item());
        var one = Tensor.FromArray([1, 0, 0.6f, 0.8f], 2, 2).RequireGrad();
        var loss = new TripletLoss(0.2f).Compute(one, [3, 3]);
        Assert.Equal(0, loss.Triplets.Count);
        Assert.Equal(0f, loss.Loss.Item());
        loss.Loss.Backward(); // still part of the graph: a trainer can step on it
        Assert.All(one.Grad!.ToArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void EmbeddingsOfTheWrongShapeAreRefused()
    {
        var loss = new TripletLoss();
        var flat = Assert.Throws<ArgumentException>(() => loss.Forward(Tensor.Zeros(8), Tensor.Zeros(8)));
        Assert.Contains("TripletLoss", flat.Message);
        Assert.Contains("[8]", flat.Message);
        var image = Assert.Throws<ArgumentException>(() => loss.Forward(Tensor.Zeros(4, 1, 2, 2), Tensor.Zeros(4)));
        Assert.Contains("[4, 1, 2, 2]", image.Message);
        var count = Assert.Throws<ArgumentException>(() => loss.Forward(Tensor.Zeros(4, 3), Tensor.Zeros(5)));
        Assert.Contains("[4, 3]", count.Message);
        Assert.Contains("5 identities", count.Message);
        var identities = Assert.Throws<ArgumentException>(() => loss.Forward(Tensor.Zeros(4, 3), Tensor.Zeros(4, 1)));
        Assert.Contains("[4, 1]", identities.Message);
        Assert.Contains("not an integer", Assert.Throws<ArgumentException>(() => loss.Forward(Tensor.Zeros(2, 3), Tensor.FromArray([0, 0.5f], 2))).Message);
        Assert.Contains("margin", Assert.Throws<ArgumentException>(() => new TripletLoss(-1)).Message);
    }
}
