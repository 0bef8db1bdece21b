using ConvKit.Autograd;
using ConvKit.Backends;

namespace ConvKit.Ops;

/// <summary>How a loss combines its per-element values: keep them all, take their mean, or their sum.</summary>
public enum Reduction
{
    /// <summary>One loss per element (or per sample), in the input's shape.</summary>
    None,
    /// <summary>The mean, a rank-0 tensor (weighted losses divide by the sum of the weights).</summary>
    Mean,
    /// <summary>The sum, a rank-0 tensor.</summary>
    Sum,
}

// Losses, as torch.nn.functional computes them. Classification: logits or log-probabilities (N, C) or
// (N, C, d1, ...) against class indices (N) or (N, d1, ...) held as float values. Regression and binary
// losses: input and target of one shape. Each returns a rank-0 tensor unless the reduction is None.
public static partial class F
{
    /// <summary>
    /// Softmax cross-entropy of <paramref name="input"/> logits (N, C, d1, ...) — or (C) for one sample — as
    /// torch.nn.functional.cross_entropy. The target holds either class indices (N, d1, ...) — Int32, as PyTorch's
    /// long targets, or whole floats — or float class probabilities of the input's shape. Class <paramref name="weight"/> (C) scales each class's term; with
    /// class indices the mean then divides by the sum of the targets' weights, and positions whose target is
    /// <paramref name="ignoreIndex"/> add nothing and are not counted. <paramref name="labelSmoothing"/> ε mixes
    /// the target with the uniform distribution: loss = (1 − ε)·nll + (ε/C)·Σ_c w_c·(−log p_c).
    /// </summary>
    public static Tensor CrossEntropy(Tensor input, Tensor target, Tensor? weight = null, int ignoreIndex = -100,
        Reduction reduction = Reduction.Mean, float labelSmoothing = 0) =>
        target.DType == DType.Float32 && target.Rank > 0 && target.Rank == input.Rank
            ? CrossEntropyWithProbabilities(input, target, weight, reduction, labelSmoothing)
            : ClassificationLoss("CrossEntropy", input, target, weight, ignoreIndex, reduction, labelSmoothing, fromLogits: true);

    /// <summary>
    /// Negative log-likelihood of <paramref name="input"/> log-probabilities (N, C, d1, ...) or (C) at the class
    /// indices <paramref name="target"/> (N, d1, ...), with the weighting and ignoring of <see cref="CrossEntropy"/>.
    /// </summary>
    public static Tensor NllLoss(Tensor input, Tensor target, Tensor? weight = null, int ignoreIndex = -100,
        Reduction reduction = Reduction.Mean) =>
        ClassificationLoss("NllLoss", input, target, weight, ignoreIndex, reduction, 0, fromLogits: false);

    // Cross-entropy is log-softmax and NLL in one node: the forward keeps the log-probabilities and the
    // backward goes straight to the logits, dx = g·(softmax·Σa − a), instead of through two recorded ops.
    static Tensor ClassificationLoss(string name, Tensor input, Tensor target, Tensor? weight, int ignoreIndex,
        Reduction reduction, float smoothing, bool fromLogits)
    {
        if (input.Rank == 1)
        {
            if (target.Rank != 0)
                throw new ArgumentException($"{name}: target shape {target.ShapeString} does not match input shape {input.ShapeString} (expected [] for one unbatched sample).");
            var batched = ClassificationLoss(name, input.Unsqueeze(0), target.Reshape(1), weight, ignoreIndex, reduction, smoothing, fromLogits);
            return reduction == Reduction.None ? batched.Reshape() : batched;
        }
        if (input.Rank == 0)
            throw new ArgumentException($"{name}: input must have shape (N, C, ...) or (C), got {input.ShapeString}.");
        int classes = input.Dims[1];
        int[] positions = [input.Dims[0], .. input.Dims[2..]];
        if (!target.HasShape(positions))
            throw new ArgumentException($"{name}: target shape {target.ShapeString} does not match input shape {input.ShapeString} (expected {Shapes.Format(positions)}).");
        CheckClassOptions(name, input, classes, weight, smoothing);
        var backend = SameBackend(input, target, name);

        var (outer, _, inner) = Split(input.Dims, 1, 2);
        var logProbs = input;
        if (fromLogits)
        {
            logProbs = Tensor.Empty(input.Dims, backend);
            backend.LogSoftmax(input.Storage, outer, classes, inner, logProbs.Storage);
        }
        var targets = new ClassTargets(target.OwnStorage, weight?.Storage, outer, classes, inner, ignoreIndex, smoothing);
        var losses = Tensor.Empty(positions, backend);
        var targetWeights = Tensor.Empty(positions, backend);
        int bad = backend.NllLoss(logProbs.Storage, targets, losses.Storage, targetWeights.Storage);
        if (bad >= 0)
            throw new ArgumentOutOfRangeException(nameof(target),
                $"{name}: target {backend.GetItem(target.Storage, bad)} at position {bad} is not a class index for {classes} classes " +
                $"(expected an integer in [0, {classes - 1}] or the ignore index {ignoreIndex}).");

        // The mean divides by the total weight of the counted positions (their number, without class weights).
        // A rank-0 tensor on the input's backend: nothing is read back to the host.
        Tensor scale = reduction == Reduction.Mean ? 1f / Sum(targetWeights) : Tensor.Scalar(1f, backend);
        var y = reduction == Reduction.None ? losses : Sum(losses) * scale;
        return Node.Record(y, name, input, g =>
        {
            var grads = reduction == Reduction.None ? g : Expand(g * scale, positions);
            var dx = Tensor.Empty(input.Dims, backend);
            backend.NllLossBackward(logProbs.Storage, targets, grads.Storage, fromLogits, dx.Storage);
            return dx;
        });
    }

    // Soft targets: loss = −Σ_c w_c·q_c·log p_c with q = (1 − ε)·target + ε/C; the mean is over positions.
    static Tensor CrossEntropyWithProbabilities(Tensor input, Tensor target, Tensor? weight, Reduction reduction, float smoothing)
    {
        const string name = "CrossEntropy";
        int classAxis = input.Rank == 1 ? 0 : 1, classes = input.Dims[classAxis];
        if (!target.HasShape(input.Dims))
            throw new ArgumentException($"{name}: probability target shape {target.ShapeString} does not match input shape {input.ShapeString} " +
                $"(class-index targets drop the class axis: {Shapes.Format([.. input.Dims[..classAxis], .. input.Dims[(classAxis + 1)..]])}).");
        CheckClassOptions(name, input, classes, weight, smoothing);
        var probabilities = smoothing == 0 ? target : target * (1 - smoothing) + smoothing / classes;
        if (weight != null) probabilities = probabilities * weight.Reshape([classes, .. Enumerable.Repeat(1, input.Rank - classAxis - 1)]);
        return ApplyReduction(-Sum(LogSoftmax(input, classAxis) * probabilities, [classAxis]), reduction);
    }

    /// <summary>
    /// Binary cross-entropy of <paramref name="input"/> logits against <paramref name="target"/> probabilities (same
    /// shape): ℓ = −w·[p·y·log σ(x) + (1 − y)·log(1 − σ(x))], with <paramref name="weight"/> w broadcast to the input
    /// and <paramref name="posWeight"/> p (one per class, along the last axis) weighing the positive term.
    /// </summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor? weight = null, Tensor? posWeight = null,
        Reduction reduction = Reduction.Mean)
    {
        const string name = "BinaryCrossEntropyWithLogits";
        CheckTargetShape(name, input, target);
        if (weight != null && !Shapes.BroadcastsTo(weight.Dims, input.Dims))
            throw new ArgumentException($"{name}: weight shape {weight.ShapeString} cannot be broadcast to input shape {input.ShapeString}.");
        if (posWeight != null && !Shapes.BroadcastsTo(posWeight.Dims, input.Dims))
            throw new ArgumentException($"{name}: posWeight shape {posWeight.ShapeString} cannot be broadcast to input shape {input.ShapeString}.");
        // ℓ = (1 − y)·x + (1 + (p − 1)·y)·softplus(−x), and softplus(−x) = log(1 + exp(−|x|)) + max(−x, 0)
        // never overflows: exp only ever sees a non-positive argument.
        var softplusOfNegative = Log(Exp(-Abs(input)) + 1f) + Maximum(-input, 0f);
        var positiveTerm = posWeight == null ? softplusOfNegative : ((posWeight - 1f) * target + 1f) * softplusOfNegative;
        var loss = (1f - target) * input + positiveTerm;
        if (weight != null) loss = loss * weight;
        return ApplyReduction(loss, reduction);
    }

    /// <summary>Squared error (x − y)², reduced.</summary>
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        CheckTargetShape("MseLoss", input, target);
        return ApplyReduction(Square(input - target), reduction);
    }

    /// <summary>Absolute error |x − y|, reduced.</summary>
    public static Tensor L1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        CheckTargetShape("L1Loss", input, target);
        return ApplyReduction(Abs(input - target), reduction);
    }

    /// <summary>Huber-like error: ½d²/β where |d| &lt; β, |d| − ½β elsewhere (d = x − y); β = 0 is the L1 loss.</summary>
    public static Tensor SmoothL1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, float beta = 1)
    {
        CheckTargetShape("SmoothL1Loss", input, target);
        if (!(beta >= 0)) throw new ArgumentOutOfRangeException(nameof(beta), $"SmoothL1Loss: beta must be non-negative, got {beta}.");
        var difference = input - target;
        var size = Abs(difference);
        if (beta == 0) return ApplyReduction(size, reduction);
        var quadratic = Lt(size, beta);
        var loss = quadratic * Square(difference) * (0.5f / beta) + (1f - quadratic) * (size - 0.5f * beta);
        return ApplyReduction(loss, reduction);
    }

    /// <summary>
    /// Triplet loss max(d(a, p) − d(a, n) + margin, 0) on embeddings (N, D) — or any (…, D) — with d the
    /// <see cref="PairwiseDistance"/>. With <paramref name="swap"/> the negative's distance is the smaller of
    /// d(a, n) and d(p, n) (Balntas et al.).
    /// </summary>
    public static Tensor TripletMarginLoss(Tensor anchor, Tensor positive, Tensor negative, float margin = 1, float p = 2,
        float eps = 1e-6f, bool swap = false, Reduction reduction = Reduction.Mean)
    {
        const string name = "TripletMarginLoss";
        if (anchor.Rank == 0)
            throw new ArgumentException($"{name}: embeddings need at least one axis, got anchor shape {anchor.ShapeString}.");
        foreach (var other in new[] { positive, negative })
            if (!other.HasShape(anchor.Dims))
                throw new ArgumentException($"{name}: shapes {anchor.ShapeString} (anchor) and {other.ShapeString} ({(other == positive ? "positive" : "negative")}) differ.");
        var toPositive = PairwiseDistance(anchor, positive, p, eps);
        var toNegative = PairwiseDistance(anchor, negative, p, eps);
        if (swap) toNegative = Minimum(toNegative, PairwiseDistance(positive, negative, p, eps));
        return ApplyReduction(Clamp(toPositive - toNegative + margin, min: 0), reduction);
    }

    /// <summary>
    /// The p-norm of x1 − x2 + eps along the last axis, as torch.nn.functional.pairwise_distance (the eps keeps the
    /// norm's gradient finite for equal inputs). <paramref name="p"/> may be positive infinity (the largest |difference|).
    /// </summary>
    public static Tensor PairwiseDistance(Tensor x1, Tensor x2, float p = 2, float eps = 1e-6f, bool keepDim = false)
    {
        if (!(p > 0)) throw new ArgumentOutOfRangeException(nameof(p), $"PairwiseDistance: the norm degree p must be positive, got {p}.");
        if (x1.Rank == 0 || x2.Rank == 0)
            throw new ArgumentException($"PairwiseDistance: inputs need at least one axis, got shapes {x1.ShapeString} and {x2.ShapeString}.");
        var difference = x1 - x2 + eps;
        return p switch
        {
            1 => Sum(Abs(difference), [-1], keepDim),
            2 => Sqrt(Sum(Square(difference), [-1], keepDim)),
            float.PositiveInfinity => Max(Abs(difference), [-1], keepDim),
            _ => Pow(Sum(Pow(Abs(difference), p), [-1], keepDim), 1 / p),
        };
    }

    static Tensor ApplyReduction(Tensor loss, Reduction reduction) => reduction switch
    {
        Reduction.None => loss,
        Reduction.Mean => Mean(loss),
        Reduction.Sum => Sum(loss),
        _ => throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "unknown reduction"),
    };

    static void CheckClassOptions(string name, Tensor input, int classes, Tensor? weight, float smoothing)
    {
        if (weight != null && !weight.HasShape([classes]))
            throw new ArgumentException($"{name}: weight shape {weight.ShapeString} does not match the {classes} classes of input shape {input.ShapeString} (expected [{classes}]).");
        if (weight != null) SameBackend(input, weight, name);
        if (!(smoothing >= 0 && smoothing <= 1))
            throw new ArgumentOutOfRangeException(nameof(smoothing), $"{name}: label smoothing must lie in [0, 1], got {smoothing}.");
    }

    static void CheckTargetShape(string name, Tensor input, Tensor target)
    {
        if (!target.HasShape(input.Dims))
            throw new ArgumentException($"{name}: target shape {target.ShapeString} does not match input shape {input.ShapeString}.");
    }
}
