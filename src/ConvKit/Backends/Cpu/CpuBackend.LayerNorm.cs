using System.Numerics;
using System.Numerics.Tensors;

namespace ConvKit.Backends.Cpu;

// Layer normalisation: each row (the trailing, normalised axes) is independent, so rows run in parallel; the
// per-feature weight and bias gradients sum down the rows instead, a block of feature columns per task.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void LayerNorm(Storage x, int rows, int features, Storage? weight, Storage? bias, float eps, Storage y, Storage mean, Storage invStd)
    {
        float[] input = Data(x), output = Data(y), means = Data(mean), invStds = Data(invStd);
        float[]? scale = weight == null ? null : Data(weight), shift = bias == null ? null : Data(bias);
        AxisBlocks.Run(rows, features, 1, (r, _, _) =>
        {
            var row = input.AsSpan(r * features, features);
            float center = TensorPrimitives.Sum(row) / features;
            // Squared deviations from the mean (second pass), free of the E[x²] − E[x]² cancellation.
            float inverse = 1f / MathF.Sqrt((float)(SquaredDeviations(row, center) / features) + eps);
            means[r] = center;
            invStds[r] = inverse;
            Normalize(row, center, inverse, scale, shift, output.AsSpan(r * features, features));
        });
    }

    /// <summary>y = (x − center)·inverse·scale + shift, scale and shift per element (null: 1 and 0).</summary>
    static void Normalize(ReadOnlySpan<float> x, float center, float inverse, float[]? scale, float[]? shift, Span<float> y)
    {
        var centers = new Vector<float>(center);
        var inverses = new Vector<float>(inverse);
        int i = 0;
        for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var v = (new Vector<float>(x[i..]) - centers) * inverses;
            if (scale != null) v *= new Vector<float>(scale, i);
            if (shift != null) v += new Vector<float>(shift, i);
            v.CopyTo(y[i..]);
        }
        for (; i < x.Length; i++) y[i] = (x[i] - center) * inverse * (scale?[i] ?? 1f) + (shift?[i] ?? 0f);
    }

    /// <inheritdoc/>
    public void LayerNormBackward(Storage x, Storage gradY, int rows, int features, Storage mean, Storage invStd, Storage? weight,
        Storage? gradX, Storage? gradWeight, Storage? gradBias)
    {
        float[] input = Data(x), outputGrad = Data(gradY), means = Data(mean), invStds = Data(invStd);
        float[]? scale = weight == null ? null : Data(weight);
        if (gradX != null)
        {
            float[] inputGrad = Data(gradX);
            AxisBlocks.Run(rows, features, 1, (r, _, _) =>
            {
                var row = input.AsSpan(r * features, features);
                var g = outputGrad.AsSpan(r * features, features);
                float center = means[r], inverse = invStds[r];
                // ĝ = g·weight; Σ ĝ and Σ ĝ·x̂ over the row, then dx = inverse·(ĝ − mean ĝ − x̂·mean(ĝ·x̂)).
                double sum = 0, dot = 0;
                for (int f = 0; f < features; f++)
                {
                    float scaled = g[f] * (scale?[f] ?? 1f);
                    sum += scaled;
                    dot += scaled * (row[f] - center) * inverse;
                }
                float meanScaled = (float)(sum / features), meanDot = (float)(dot / features);
                var dx = inputGrad.AsSpan(r * features, features);
                for (int f = 0; f < features; f++)
                    dx[f] = inverse * (g[f] * (scale?[f] ?? 1f) - meanScaled - (row[f] - center) * inverse * meanDot);
            });
        }
        if (gradWeight == null && gradBias == null) return;
        float[]? weightGrad = gradWeight == null ? null : Data(gradWeight), biasGrad = gradBias == null ? null : Data(gradBias);
        AxisBlocks.Run(1, rows, features, (_, column, width) =>
        {
            for (int f = column; f < column + width; f++)
            {
                if (weightGrad != null) weightGrad[f] = 0;
                if (biasGrad != null) biasGrad[f] = 0;
            }
            for (int r = 0; r < rows; r++)
            {
                float center = means[r], inverse = invStds[r];
                int offset = r * features;
                for (int f = column; f < column + width; f++)
                {
                    float g = outputGrad[offset + f];
                    if (weightGrad != null) weightGrad[f] += g * (input[offset + f] - center) * inverse;
                    if (biasGrad != null) biasGrad[f] += g;
                }
            }
        });
    }
}
