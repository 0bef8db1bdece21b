using ConvKit.Ops;
using ConvKit.Tests.Autograd;

namespace ConvKit.Tests.Ops;

/// <summary>Backward rules of softmax, linear and the losses against finite differences (see <see cref="GradCheck"/>).</summary>
public class LossGradientCheckTests
{
    static Tensor Uniform(int seed, float low, float high, params int[] shape) => Tensor.Rand(shape, seed) * (high - low) + low;

    static Tensor Classes(int seed, int count, params int[] shape)
    {
        var random = new Random(seed);
        return Tensor.FromArray(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => (float)random.Next(count)).ToArray(), shape);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(1)]
    public void Softmax(int dim) => GradCheck.Check(x => F.Softmax(x[0], dim), Uniform(1, -2, 2, 2, 3, 4));

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(1)]
    public void LogSoftmax(int dim) => GradCheck.Check(x => F.LogSoftmax(x[0], dim), Uniform(2, -2, 2, 2, 3, 4));

    [Fact]
    public void LinearWithBias() => GradCheck.Check(x => F.Linear(x[0], x[1], x[2]), Uniform(1, -1, 1, 3, 4), Uniform(2, -1, 1, 2, 4), Uniform(3, -1, 1, 2));

    [Fact]
    public void LinearOnSequencesWithoutBias() => GradCheck.Check(x => F.Linear(x[0], x[1]), Uniform(1, -1, 1, 2, 3, 4), Uniform(2, -1, 1, 5, 4));

    [Fact]
    public void CrossEntropy() => GradCheck.Check(x => F.CrossEntropy(x[0], Classes(1, 5, 4)), Uniform(1, -2, 2, 4, 5));

    [Fact]
    public void CrossEntropyWithWeightsIgnoredTargetsAndSmoothing()
    {
        GradCheck.Check(x => F.CrossEntropy(x[0], Tensor.FromArray([0, 3, -100, 4, 1, 3], 6), Uniform(7, 0.3f, 2, 5), labelSmoothing: 0.2f),
            Uniform(2, -2, 2, 6, 5));
    }

    [Fact]
    public void SpatialCrossEntropyPerPosition()
    {
        GradCheck.Check(x => F.CrossEntropy(x[0], Classes(3, 3, 2, 2, 3), Uniform(4, 0.5f, 1.5f, 3), ignoreIndex: 1, reduction: Reduction.None, labelSmoothing: 0.1f),
            Uniform(3, -2, 2, 2, 3, 2, 3));
    }

    [Fact]
    public void NllLossWeightedSum() =>
        GradCheck.Check(x => F.NllLoss(x[0], Classes(5, 4, 3, 2), Uniform(6, 0.5f, 2, 4), reduction: Reduction.Sum), Uniform(5, -3, 0, 3, 4, 2));

    [Fact]
    public void BinaryCrossEntropyWithLogits() =>
        GradCheck.Check(x => F.BinaryCrossEntropyWithLogits(x[0], x[1], Uniform(9, 0.5f, 2, 3), Uniform(8, 0.5f, 3, 3)),
            Uniform(1, -3, 3, 4, 3), Uniform(2, 0, 1, 4, 3));

    [Fact]
    public void MseLoss() => GradCheck.Check(x => F.MseLoss(x[0], x[1], Reduction.None), Uniform(1, -1, 1, 3, 4), Uniform(2, -1, 1, 3, 4));

    [Fact]
    public void L1Loss()
    {
        // Differences kept at least 0.3 from zero, where |d| has its kink.
        var input = Uniform(1, -1, 1, 3, 4);
        var target = input.Detach() + Uniform(2, 0.3f, 1, 3, 4) * (Tensor.Rand([3, 4], 3).Gt(0.5f) * 2f - 1f);
        GradCheck.Check(x => F.L1Loss(x[0], x[1], Reduction.Sum), input, target);
    }

    [Fact]
    public void SmoothL1Loss()
    {
        // |d| in [0.1, 0.4] ∪ [0.6, 1.5], away from zero and from beta = 0.5; both branches appear.
        var magnitude = Tensor.FromArray([0.1f, 0.2f, 0.3f, 0.4f, 0.6f, 0.8f, 1.0f, 1.5f], 2, 4);
        var sign = Tensor.FromArray([1f, -1f, -1f, 1f, -1f, 1f, 1f, -1f], 2, 4);
        var target = Uniform(2, -1, 1, 2, 4);
        GradCheck.Check(x => F.SmoothL1Loss(x[0], x[1], Reduction.Mean, beta: 0.5f), target.Detach() + magnitude * sign, target);
    }

    [Theory]
    [InlineData(2f, false)]
    [InlineData(1f, true)]
    [InlineData(3f, true)]
    public void TripletMarginLoss(float p, bool swap)
    {
        // Every hinge is active (a large margin); the inputs are the first seeded draw that also keeps clear of
        // the other kinks: each |difference| component (the norm's) and, with swap, the gap between d(a, n) and d(p, n).
        var (anchor, positive, negative) = Enumerable.Range(1, 1000).Select(Triplet).First(t => ClearOfKinks(t, p, swap));
        GradCheck.Check(x => F.TripletMarginLoss(x[0], x[1], x[2], margin: 10, p: p, swap: swap, reduction: Reduction.None),
            anchor, positive, negative);
    }

    static (Tensor, Tensor, Tensor) Triplet(int seed)
    {
        var random = new Random(seed);
        Tensor Draw() => Tensor.Rand([3, 4], random) * 2f - 1f;
        return (Draw(), Draw(), Draw());
    }

    static bool ClearOfKinks((Tensor Anchor, Tensor Positive, Tensor Negative) t, float p, bool swap)
    {
        bool apart(Tensor a, Tensor b) => (a - b).Abs().Min().Item() > 0.05f;
        if (!apart(t.Anchor, t.Positive) || !apart(t.Anchor, t.Negative) || !apart(t.Positive, t.Negative)) return false;
        var gap = F.PairwiseDistance(t.Anchor, t.Negative, p) - F.PairwiseDistance(t.Positive, t.Negative, p);
        return !swap || gap.Abs().Min().Item() > 0.1f;
    }
}
