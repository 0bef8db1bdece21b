namespace ConvKit.Backends;

// Label smoothing on top of the one-hot negative log-likelihood. With a_c = (1 − ε)·w_t·[c = t] + (ε/C)·w_c the loss
// −Σ_c a_c·logp_c and both gradients are linear in a, so the smoothed op is the one-hot kernel scaled by (1 − ε) plus
// the uniform term (ε/C)·w_c, masked where the target is the ignored index.
public abstract partial class CompositeBackend
{
    /// <summary>
    /// <see cref="IBackend.NllLoss"/> without label smoothing (<see cref="ClassTargets.Smoothing"/> is 0 here):
    /// losses[p] = −w_t·logProbs[t] and targetWeights[p] = w_t, both 0 at the ignored index.
    /// </summary>
    protected abstract int OneHotNllLoss(Storage logProbs, ClassTargets targets, Storage losses, Storage targetWeights);

    /// <summary><see cref="IBackend.NllLossBackward"/> without label smoothing (<see cref="ClassTargets.Smoothing"/> is 0 here).</summary>
    protected abstract void OneHotNllLossBackward(Storage logProbs, ClassTargets targets, Storage grads, bool fromLogits, Storage dInput);

    /// <inheritdoc/>
    public virtual int NllLoss(Storage logProbs, ClassTargets targets, Storage losses, Storage targetWeights)
    {
        float smoothing = targets.Smoothing;
        int bad = OneHotNllLoss(logProbs, targets with { Smoothing = 0 }, losses, targetWeights);
        if (bad >= 0 || smoothing == 0) return bad;
        int positions = targets.Outer * targets.Inner;
        // losses = (1 − ε)·one-hot loss − (ε/C)·Σ_c w_c·logp_c where the target counts.
        var uniform = AllocateUninitialized(positions);
        Reduce(ReduceOp.Sum, WeightedByClass(logProbs, targets), targets.Outer, targets.Classes, targets.Inner, uniform);
        Apply(BinaryOp.Mul, uniform, CountedPositions(targets), uniform, positions);
        Apply(BinaryOp.Mul, uniform, Number(-smoothing / targets.Classes), uniform, positions);
        Apply(BinaryOp.Mul, losses, Number(1 - smoothing), losses, positions);
        Apply(BinaryOp.Add, losses, uniform, losses, positions);
        return -1;
    }

    /// <inheritdoc/>
    public virtual void NllLossBackward(Storage logProbs, ClassTargets targets, Storage grads, bool fromLogits, Storage dInput)
    {
        float smoothing = targets.Smoothing;
        if (smoothing == 0)
        {
            OneHotNllLossBackward(logProbs, targets, grads, fromLogits, dInput);
            return;
        }
        int positions = targets.Outer * targets.Inner, length = positions * targets.Classes;
        OneHotNllLossBackward(logProbs, targets with { Smoothing = 0 }, Apply(BinaryOp.Mul, grads, 1 - smoothing, positions), fromLogits, dInput);
        // The uniform part, with g' = grads·(ε/C) where the target counts: −g'·w_c, or through log-softmax g'·(softmax_c·Σw − w_c).
        var scaled = Apply(BinaryOp.Mul, Apply(BinaryOp.Mul, grads, CountedPositions(targets), positions), smoothing / targets.Classes, positions);
        int[] full = [targets.Outer, targets.Classes, targets.Inner], perPosition = [targets.Outer, 1, targets.Inner], perClass = [1, targets.Classes, 1];
        var weights = targets.Weights ?? Ones(targets.Classes);
        var coefficient = AllocateUninitialized(length);
        if (fromLogits)
        {
            var weightSum = AllocateUninitialized(1);
            Reduce(ReduceOp.Sum, weights, 1, targets.Classes, 1, weightSum);
            Unary(UnaryOp.Exp, logProbs, coefficient);
            Apply(BinaryOp.Mul, coefficient, weightSum, coefficient, length);
            Binary(BinaryOp.Sub, coefficient, full, weights, perClass, coefficient, full);
        }
        else Binary(BinaryOp.Sub, Number(0), [], weights, perClass, coefficient, full);
        Binary(BinaryOp.Mul, coefficient, full, scaled, perPosition, coefficient, full);
        Apply(BinaryOp.Add, dInput, coefficient, dInput, length);
    }

    /// <summary>logProbs (outer, classes, inner) times each class's weight, or logProbs itself without weights.</summary>
    Storage WeightedByClass(Storage logProbs, ClassTargets targets)
    {
        if (targets.Weights == null) return logProbs;
        int[] full = [targets.Outer, targets.Classes, targets.Inner];
        var weighted = AllocateUninitialized(logProbs.Length);
        Binary(BinaryOp.Mul, logProbs, full, targets.Weights, [1, targets.Classes, 1], weighted, full);
        return weighted;
    }

    /// <summary>1 at each position whose target is not the ignored index, else 0.</summary>
    Storage CountedPositions(ClassTargets targets)
    {
        int positions = targets.Outer * targets.Inner;
        var values = targets.Targets;
        if (values.DType == DType.Int32)
        {
            // As floats, an index beyond 2²⁴ may round, but never onto the ignored index, a small number.
            values = AllocateUninitialized(positions);
            IndicesToFloat(targets.Targets, values);
        }
        return Apply(BinaryOp.NotEqual, values, targets.IgnoreIndex, positions);
    }

    /// <summary>A buffer of ones.</summary>
    Storage Ones(int length)
    {
        var ones = AllocateUninitialized(length);
        Fill(ones, 1);
        return ones;
    }
}
