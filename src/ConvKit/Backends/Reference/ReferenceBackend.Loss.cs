namespace ConvKit.Backends.Reference;

// Negative log-likelihood with class weights, an ignored index and label smoothing, one position at a time:
// with a_c = (1 − ε)·w_t·[c = t] + (ε/C)·w_c the loss is −Σ_c a_c·logp_c, so both gradients follow from a.
public sealed partial class ReferenceBackend
{

    /// <summary>The coefficients a_c of one position whose target is class <paramref name="target"/>.</summary>
    static double[] TargetCoefficients(ClassTargets targets, float[]? weights, int target)
    {
        var a = new double[targets.Classes];
        for (int c = 0; c < targets.Classes; c++)
        {
            double weight = weights?[c] ?? 1;
            a[c] = targets.Smoothing / (double)targets.Classes * weight;
            if (c == target) a[c] += (1 - (double)targets.Smoothing) * weight;
        }
        return a;
    }

    /// <inheritdoc/>
    public int NllLoss(Storage logProbs, ClassTargets targets, Storage losses, Storage targetWeights)
    {
        float[] logp = Data(logProbs), loss = Data(losses), targetWeight = Data(targetWeights);
        double[] target = IndexValues(targets.Targets);
        float[]? weights = targets.Weights == null ? null : Data(targets.Weights);
        for (int p = 0; p < target.Length; p++)
            if (target[p] != targets.IgnoreIndex && !IsClassIndex(target[p], targets.Classes)) return p;

        for (int o = 0; o < targets.Outer; o++)
            for (int i = 0; i < targets.Inner; i++)
            {
                int p = o * targets.Inner + i;
                if (target[p] == targets.IgnoreIndex) { loss[p] = 0; targetWeight[p] = 0; continue; }
                int t = (int)target[p];
                var a = TargetCoefficients(targets, weights, t);
                double sum = 0;
                for (int c = 0; c < targets.Classes; c++) sum -= a[c] * logp[At(o, c, i, targets.Classes, targets.Inner)];
                loss[p] = (float)sum;
                targetWeight[p] = weights?[t] ?? 1;
            }
        return -1;
    }

    /// <inheritdoc/>
    public void NllLossBackward(Storage logProbs, ClassTargets targets, Storage grads, bool fromLogits, Storage dInput)
    {
        float[] logp = Data(logProbs), grad = Data(grads), dx = Data(dInput);
        double[] target = IndexValues(targets.Targets);
        float[]? weights = targets.Weights == null ? null : Data(targets.Weights);
        for (int o = 0; o < targets.Outer; o++)
            for (int i = 0; i < targets.Inner; i++)
            {
                int p = o * targets.Inner + i;
                bool ignored = target[p] == targets.IgnoreIndex;
                var a = ignored ? new double[targets.Classes] : TargetCoefficients(targets, weights, (int)target[p]);
                double aSum = a.Sum();
                for (int c = 0; c < targets.Classes; c++)
                {
                    int at = At(o, c, i, targets.Classes, targets.Inner);
                    // d(−Σ a·logp)/dlogp_c = −a_c; through log-softmax, d/dlogit_c = softmax_c·Σa − a_c.
                    dx[at] = (float)(fromLogits ? grad[p] * (Math.Exp(logp[at]) * aSum - a[c]) : -grad[p] * a[c]);
                }
            }
    }
}
