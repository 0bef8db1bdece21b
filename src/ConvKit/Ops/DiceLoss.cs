namespace ConvKit.Ops;

public static partial class F
{
    /// <summary>
    /// Soft multiclass Dice loss of <paramref name="input"/> logits (N, C, d1, ...) against class indices
    /// <paramref name="target"/> (N, d1, ...), Int32 or whole floats — segmentation_models_pytorch's multiclass
    /// <c>DiceLoss</c> with linear (not squared) denominators, summed over the whole batch, averaged over every class:
    /// <code>
    /// p = softmax(input, dim 1),  y_c = [target == c],  v = [target ≠ ignoreIndex]
    /// I_c = Σ_{n,d} v·p_c·y_c,    S_c = Σ_{n,d} v·(p_c + y_c)
    /// dice_c = (2·I_c + smooth) / (S_c + smooth),   loss = 1 − (1/C)·Σ_c dice_c
    /// </code>
    /// Positions whose target is <paramref name="ignoreIndex"/> take no part in any sum. Every class counts in the mean;
    /// a class absent from both the target and (nearly) the prediction has dice_c ≈ 1 thanks to
    /// <paramref name="smooth"/>, so it neither helps nor hurts. With <paramref name="smooth"/> = 0 a class with
    /// S_c = 0 (no valid position at all) would divide 0 by 0: the smooth term must then be positive.
    /// Returns a rank-0 tensor in [0, 1].
    /// </summary>
    public static Tensor DiceLoss(Tensor input, Tensor target, int ignoreIndex = -100, float smooth = 1)
    {
        const string name = "DiceLoss";
        if (input.Rank < 2)
            throw new ArgumentException($"{name}: input must have shape (N, C, ...), got {input.ShapeString}.");
        int classes = input.Dims[1];
        int[] positions = [input.Dims[0], .. input.Dims[2..]];
        if (!target.HasShape(positions))
            throw new ArgumentException($"{name}: target shape {target.ShapeString} does not match input shape {input.ShapeString} (expected {Shapes.Format(positions)}).");
        if (!(smooth > 0) || float.IsInfinity(smooth))
            throw new ArgumentOutOfRangeException(nameof(smooth), $"{name}: smooth must be positive and finite, got {smooth}.");
        SameBackend(input, target, name);
        // A host read of the targets, to name a bad one before anything is computed (see IBackend's remarks); Int32
        // targets read as float32 are exact for any class count a one-hot over the classes could hold.
        var values = target.ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            float t = values[i];
            if (t != ignoreIndex && !(t >= 0 && t < classes && t == MathF.Floor(t)))
                throw new ArgumentOutOfRangeException(nameof(target),
                    $"{name}: target {t} at position {i} is not a class index for {classes} classes " +
                    $"(expected an integer in [0, {classes - 1}] or the ignore index {ignoreIndex}).");
        }

        var probabilities = Softmax(input, 1);
        var valid = Ne(target, ignoreIndex).Unsqueeze(1);                                  // (N, 1, d...)
        var oneHot = Stack(Enumerable.Range(0, classes).Select(c => Eq(target, c)).ToArray(), 1); // (N, C, d...)
        int[] sumAxes = [0, .. Enumerable.Range(2, input.Rank - 2)];
        var counted = probabilities * valid;
        var intersection = Sum(counted * oneHot, sumAxes);                                 // (C)
        var total = Sum(counted + oneHot * valid, sumAxes);                                // (C)
        var dice = (intersection * 2f + smooth) / (total + smooth);
        return 1f - Mean(dice);
    }
}
