using System.Buffers;
using System.Numerics.Tensors;

namespace ConvKit.Backends.Cpu;

// Negative log-likelihood over (outer, classes, inner) log-probabilities. With inner = 1 (logits (N, C)) a
// position's classes are one contiguous row and TensorPrimitives works along it; with inner > 1 (logits
// (N, C, H, W)) the class axis is strided, so the kernels sweep whole class rows and vectorise along the
// positions instead, then fix up the one target entry per position.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public int NllLoss(Storage logProbs, ClassTargets targets, Storage losses, Storage targetWeights)
    {
        float[] logp = Data(logProbs), loss = Data(losses), targetWeight = Data(targetWeights);
        float[]? weights = targets.Weights == null ? null : Data(targets.Weights);
        int classes = targets.Classes, inner = targets.Inner, ignore = targets.IgnoreIndex;
        var (target, rented) = WholeIndices(targets.Targets, classes, ignore, out int bad);
        if (bad >= 0)
        {
            if (rented) ArrayPool<int>.Shared.Return(target);
            return bad;
        }

        float keep = 1 - targets.Smoothing, spread = targets.Smoothing / classes;
        AxisBlocks.Run(targets.Outer, classes, inner, (o, column, width) =>
        {
            int position = o * inner + column, rowStart = o * classes * inner + column;
            // The smoothing sum Σ_c w_c·logp_c is accumulated in the loss slots, then the target term joins it.
            var sums = loss.AsSpan(position, width);
            sums.Clear();
            if (spread != 0 && inner == 1)
                sums[0] = weights == null ? TensorPrimitives.Sum(logp.AsSpan(rowStart, classes))
                    : TensorPrimitives.Dot(weights, logp.AsSpan(rowStart, classes));
            else if (spread != 0)
                for (int c = 0; c < classes; c++)
                {
                    var row = logp.AsSpan(rowStart + c * inner, width);
                    if (weights == null) TensorPrimitives.Add(sums, row, sums);
                    else TensorPrimitives.MultiplyAdd(row, weights[c], sums, sums);
                }
            for (int j = 0; j < width; j++)
            {
                int p = position + j;
                if (target[p] == ignore) { loss[p] = 0; targetWeight[p] = 0; continue; }
                int t = (int)target[p];
                float w = weights?[t] ?? 1;
                targetWeight[p] = w;
                loss[p] = -keep * w * logp[rowStart + t * inner + j] - spread * loss[p];
            }
        });
        if (rented) ArrayPool<int>.Shared.Return(target);
        return -1;
    }

    /// <inheritdoc/>
    public void NllLossBackward(Storage logProbs, ClassTargets targets, Storage grads, bool fromLogits, Storage dInput)
    {
        float[] logp = Data(logProbs), grad = Data(grads), dx = Data(dInput);
        float[]? weights = targets.Weights == null ? null : Data(targets.Weights);
        int classes = targets.Classes, inner = targets.Inner, ignore = targets.IgnoreIndex;
        var (target, rented) = WholeIndices(targets.Targets, classes, ignore, out _);
        float keep = 1 - targets.Smoothing, spread = targets.Smoothing / classes;
        float weightSum = weights == null ? classes : TensorPrimitives.Sum(weights);
        AxisBlocks.Run(targets.Outer, classes, inner, (o, column, width) =>
        {
            int position = o * inner + column, rowStart = o * classes * inner + column;
            if (inner == 1)
            {
                var dxRow = dx.AsSpan(rowStart, classes);
                if (target[position] == ignore) { dxRow.Clear(); return; }
                int t = (int)target[position];
                float g = grad[position], w = weights?[t] ?? 1;
                if (fromLogits)
                {
                    TensorPrimitives.Exp(logp.AsSpan(rowStart, classes), dxRow);
                    TensorPrimitives.Multiply(dxRow, g * (keep * w + spread * weightSum), dxRow);
                }
                else dxRow.Clear();
                if (spread != 0 && weights == null) TensorPrimitives.Subtract(dxRow, g * spread, dxRow);
                else if (spread != 0) TensorPrimitives.MultiplyAdd(weights, -g * spread, dxRow, dxRow);
                dxRow[t] -= g * keep * w;
                return;
            }

            // Per position: g·Σa (scales the softmax) and g·ε/C (scales the class weights); zero where ignored.
            var buffer = ArrayPool<float>.Shared.Rent(2 * width);
            Span<float> total = buffer.AsSpan(0, width), smooth = buffer.AsSpan(width, width);
            for (int j = 0; j < width; j++)
            {
                int p = position + j;
                bool ignored = target[p] == ignore;
                float g = ignored ? 0 : grad[p], w = ignored ? 0 : weights?[(int)target[p]] ?? 1;
                total[j] = g * (keep * w + spread * weightSum);
                smooth[j] = g * spread;
            }
            for (int c = 0; c < classes; c++)
            {
                var dxRow = dx.AsSpan(rowStart + c * inner, width);
                if (fromLogits)
                {
                    TensorPrimitives.Exp(logp.AsSpan(rowStart + c * inner, width), dxRow);
                    TensorPrimitives.Multiply(dxRow, total, dxRow);
                }
                else dxRow.Clear();
                if (spread != 0) TensorPrimitives.MultiplyAdd(smooth, -(weights?[c] ?? 1), dxRow, dxRow);
            }
            for (int j = 0; j < width; j++)
            {
                int p = position + j;
                if (target[p] == ignore) continue;
                int t = (int)target[p];
                dx[rowStart + t * inner + j] -= grad[p] * keep * (weights?[t] ?? 1);
            }
            ArrayPool<float>.Shared.Return(buffer);
        });
        if (rented) ArrayPool<int>.Shared.Return(target);
    }

    static bool IsClassIndex(float value, int classes) => value >= 0 && value < classes && value == MathF.Floor(value);
}
