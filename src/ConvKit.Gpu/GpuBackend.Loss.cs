using ILGPU;
using ILGPU.Runtime;

namespace ConvKit.Backends.Gpu;

// The one-hot negative log-likelihood and its gradient; CompositeBackend adds label smoothing around them. Targets
// are int32 or float class indices (see GpuBackend.Index.cs: IndexViews, IndexAt); class weights are optional
// (hasWeights 0: every weight 1, and the weights view is empty). The arithmetic is in double, as the reference's.
public sealed partial class GpuBackend
{
    Action<AcceleratorStream, Index1D, Work, NllShape, int, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>>? nllLoss;
    Action<AcceleratorStream, Index1D, Work, NllShape, int, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>? nllLossBackward;

    /// <summary>What the loss kernels know of <see cref="ClassTargets"/>: the layout, the ignored index, whether there are class weights and (backward) whether the input is logits.</summary>
    internal readonly record struct NllShape(int Classes, int Inner, int IgnoreIndex, int HasWeights, int FromLogits);

    static NllShape ShapeOf(ClassTargets targets, bool fromLogits) =>
        new(targets.Classes, targets.Inner, targets.IgnoreIndex, targets.Weights == null ? 0 : 1, fromLogits ? 1 : 0);

    /// <inheritdoc/>
    protected override int OneHotNllLoss(Storage logProbs, ClassTargets targets, Storage losses, Storage targetWeights)
    {
        var (isInt, ints, floats) = IndexViews(targets.Targets);
        var weights = targets.Weights == null ? ArrayView<float>.Empty : Data(targets.Weights);
        // The outputs are unspecified when a target is bad, so one kernel checks and computes; the flag works as Gather's.
        var flag = AllocateIndices(1);
        var (threads, work) = For(targets.Targets.Length);
        Load(ref nllLoss, a => a.LoadAutoGroupedKernel<Index1D, Work, NllShape, int, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>>(NllLossKernel))(
            Stream, threads, work, ShapeOf(targets, false), isInt, ints, floats, weights, Data(logProbs), Data(losses), Data(targetWeights), Indices(flag));
        return FirstBad(flag, targets.Targets.Length);
    }

    static void NllLossKernel(Index1D t, Work w, NllShape s, int isInt, ArrayView<int> ints, ArrayView<float> floats, ArrayView<float> weights,
        ArrayView<float> logProbs, ArrayView<float> losses, ArrayView<float> targetWeights, ArrayView<int> flag)
    {
        for (int p = t; p < w.Count; p += w.Stride)
        {
            if (IsIgnored(isInt, ints, floats, p, s.IgnoreIndex)) { losses[p] = 0; targetWeights[p] = 0; continue; }
            int target = IndexAt(isInt, ints, floats, p, s.Classes);
            if (target < 0) { Atomic.Max(ref flag[0], w.Count - p); continue; }
            int o = p / s.Inner, i = p - o * s.Inner;
            float weight = s.HasWeights != 0 ? weights[target] : 1;
            // 0 − w·logp, not −(w·logp): a zero term gives +0, as the reference's sum from 0.
            losses[p] = (float)(0 - (double)weight * logProbs[(o * s.Classes + target) * s.Inner + i]);
            targetWeights[p] = weight;
        }
    }

    /// <summary>Whether target <paramref name="p"/> is the ignored index (a float target compares as its value).</summary>
    static bool IsIgnored(int isInt, ArrayView<int> ints, ArrayView<float> floats, int p, int ignoreIndex) =>
        isInt != 0 ? ints[p] == ignoreIndex : (double)floats[p] == ignoreIndex;

    /// <inheritdoc/>
    protected override void OneHotNllLossBackward(Storage logProbs, ClassTargets targets, Storage grads, bool fromLogits, Storage dInput)
    {
        var (isInt, ints, floats) = IndexViews(targets.Targets);
        var weights = targets.Weights == null ? ArrayView<float>.Empty : Data(targets.Weights);
        var (threads, work) = For(dInput.Length);
        Load(ref nllLossBackward, a => a.LoadAutoGroupedKernel<Index1D, Work, NllShape, int, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(NllLossBackwardKernel))(
            Stream, threads, work, ShapeOf(targets, fromLogits), isInt, ints, floats, weights, Data(logProbs), Data(grads), Data(dInput));
    }

    static void NllLossBackwardKernel(Index1D t, Work w, NllShape s, int isInt, ArrayView<int> ints, ArrayView<float> floats, ArrayView<float> weights,
        ArrayView<float> logProbs, ArrayView<float> grads, ArrayView<float> dInput)
    {
        // One thread per element of dInput (outer, classes, inner). With a_c = w_t·[c = t] (0 where the target is
        // ignored): −g·a_c, or through log-softmax g·(softmax_c·Σa − a_c).
        for (int j = t; j < w.Count; j += w.Stride)
        {
            int i = j % s.Inner, c = j / s.Inner % s.Classes, o = j / (s.Classes * s.Inner), p = o * s.Inner + i;
            // The targets were checked by the forward pass; one out of range here counts as ignored rather than read past the weights.
            int target = IsIgnored(isInt, ints, floats, p, s.IgnoreIndex) ? -1 : IndexAt(isInt, ints, floats, p, s.Classes);
            double aSum = target < 0 ? 0 : s.HasWeights != 0 ? weights[target] : 1;
            double a = c == target ? aSum : 0;
            double g = grads[p];
            dInput[j] = (float)(s.FromLogits != 0 ? g * (Math.Exp(logProbs[j]) * aSum - a) : -g * a);
        }
    }
}
