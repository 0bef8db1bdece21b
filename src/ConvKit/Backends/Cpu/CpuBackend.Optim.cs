using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace ConvKit.Backends.Cpu;

// Fused optimiser updates. Each parameter is walked in blocks (AxisBlocks) small enough that a block's values
// and two scratch rows on the stack stay in L1 while the whole update runs over them: one trip through memory
// instead of one per tensor op, and no allocation. Large parameters spread their blocks over the threads.
public sealed partial class CpuBackend
{

    /// <inheritdoc/>
    [SkipLocalsInit] // the scratch rows are written before they are read
    public void SgdStep(Storage parameter, Storage gradient, Storage? momentumBuffer, SgdUpdate update)
    {
        float[] p = Data(parameter), g = Data(gradient);
        float[]? buffer = momentumBuffer == null ? null : Data(momentumBuffer);
        if (g.Length != p.Length || (buffer != null && buffer.Length != p.Length))
            throw new ArgumentException("SgdStep: parameter, gradient and momentum buffer lengths differ.");
        if (update.Momentum != 0 && buffer == null)
            throw new ArgumentException("SgdStep: a momentum buffer is required when the momentum is non-zero.");

        float lr = (float)update.LearningRate, weightDecay = (float)update.WeightDecay;
        float momentum = (float)update.Momentum, keep = (float)(1 - update.Dampening);
        AxisBlocks.Run(1, 1, p.Length, (_, start, count) =>
        {
            Span<float> scratch = stackalloc float[AxisBlocks.Width];
            var param = p.AsSpan(start, count);
            var direction = EffectiveGradient(g.AsSpan(start, count), param, update.Maximize, weightDecay, scratch[..count]);
            if (update.Momentum != 0)
            {
                var buf = buffer.AsSpan(start, count);
                if (update.FirstStep) direction.CopyTo(buf);
                // Without dampening the update is one multiply-add: buf·momentum + d (PyTorch's d·1 is exact).
                else if (keep == 1) TensorPrimitives.MultiplyAdd(buf, momentum, direction, buf);
                else
                {
                    TensorPrimitives.Multiply(buf, momentum, buf);
                    TensorPrimitives.MultiplyAdd(direction, keep, buf, buf);
                }
                if (update.Nesterov)
                {
                    var lookAhead = scratch[..count];
                    TensorPrimitives.MultiplyAdd(buf, momentum, direction, lookAhead);
                    direction = lookAhead;
                }
                else direction = buf;
            }
            TensorPrimitives.MultiplyAdd(direction, -lr, param, param);
        });
    }

    /// <inheritdoc/>
    [SkipLocalsInit]
    public void AdamStep(Storage parameter, Storage gradient, Storage expAvg, Storage expAvgSq, Storage? maxExpAvgSq, AdamUpdate update)
    {
        float[] p = Data(parameter), g = Data(gradient), m = Data(expAvg), v = Data(expAvgSq);
        float[]? vMax = maxExpAvgSq == null ? null : Data(maxExpAvgSq);
        if (g.Length != p.Length || m.Length != p.Length || v.Length != p.Length || (vMax != null && vMax.Length != p.Length))
            throw new ArgumentException("AdamStep: parameter, gradient and moment buffer lengths differ.");
        if (update.Amsgrad && vMax == null)
            throw new ArgumentException("AdamStep: AMSGrad needs the running maximum buffer.");
        if (update.Step < 1)
            throw new ArgumentException($"AdamStep: the step count starts at 1, not {update.Step}.");

        // Scalars in double, as PyTorch computes them in Python, then rounded once.
        float beta1 = (float)update.Beta1, beta2 = (float)update.Beta2, eps = (float)update.Eps;
        float newWeight1 = (float)(1 - update.Beta1), newWeight2 = (float)(1 - update.Beta2);
        float stepSize = (float)(update.LearningRate / (1 - Math.Pow(update.Beta1, update.Step)));
        float correction2Sqrt = (float)Math.Sqrt(1 - Math.Pow(update.Beta2, update.Step));
        float l2 = update.DecoupledWeightDecay ? 0 : (float)update.WeightDecay;
        float shrink = update.DecoupledWeightDecay ? (float)(1 - update.LearningRate * update.WeightDecay) : 1;

        AxisBlocks.Run(1, 1, p.Length, (_, start, count) =>
        {
            Span<float> scratch = stackalloc float[2 * AxisBlocks.Width];
            var param = p.AsSpan(start, count);
            var mean = m.AsSpan(start, count);
            var square = v.AsSpan(start, count);
            var denominator = scratch.Slice(AxisBlocks.Width, count);
            if (shrink != 1) TensorPrimitives.Multiply(param, shrink, param);
            var grad = EffectiveGradient(g.AsSpan(start, count), param, update.Maximize, l2, scratch[..count]);

            TensorPrimitives.Multiply(mean, beta1, mean);
            TensorPrimitives.MultiplyAdd(grad, newWeight1, mean, mean);
            TensorPrimitives.Multiply(square, beta2, square);
            TensorPrimitives.Multiply(grad, grad, denominator);
            TensorPrimitives.MultiplyAdd(denominator, newWeight2, square, square);

            Span<float> second = square;
            if (update.Amsgrad)
            {
                second = vMax!.AsSpan(start, count);
                TensorPrimitives.Max(second, square, second);
            }
            TensorPrimitives.Sqrt(second, denominator);
            TensorPrimitives.Divide(denominator, correction2Sqrt, denominator);
            TensorPrimitives.Add(denominator, eps, denominator);
            TensorPrimitives.Divide(mean, denominator, denominator);
            TensorPrimitives.MultiplyAdd(denominator, -stepSize, param, param);
        });
    }

    /// <summary>The gradient as the update sees it: negated when maximising, plus weightDecay·p (L2); in <paramref name="scratch"/> when changed.</summary>
    static ReadOnlySpan<float> EffectiveGradient(ReadOnlySpan<float> gradient, ReadOnlySpan<float> param, bool maximize, float weightDecay, Span<float> scratch)
    {
        if (!maximize && weightDecay == 0) return gradient;
        if (maximize) TensorPrimitives.Negate(gradient, scratch);
        else gradient.CopyTo(scratch);
        if (weightDecay != 0) TensorPrimitives.MultiplyAdd(param, weightDecay, scratch, scratch);
        return scratch;
    }
}
