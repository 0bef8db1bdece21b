using ILGPU;
using ILGPU.Runtime;

namespace ConvKit.Backends.Gpu;

// Log-softmax along the middle axis of (outer, extent, inner): one thread per line. Softmax and both gradients come
// from CompositeBackend (exp of this, and element-wise ops with reductions).
public sealed partial class GpuBackend
{
    Action<AcceleratorStream, Index1D, Work, int, int, ArrayView<float>, ArrayView<float>>? logSoftmax;

    /// <inheritdoc/>
    public override void LogSoftmax(Storage x, int outer, int extent, int inner, Storage y)
    {
        var (threads, work) = For((long)outer * inner);
        Load(ref logSoftmax, a => a.LoadAutoGroupedKernel<Index1D, Work, int, int, ArrayView<float>, ArrayView<float>>(LogSoftmaxKernel))(
            Stream, threads, work, extent, inner, Data(x), Data(y));
    }

    static void LogSoftmaxKernel(Index1D t, Work w, int extent, int inner, ArrayView<float> x, ArrayView<float> y)
    {
        for (int j = t; j < w.Count; j += w.Stride)
        {
            int o = j / inner, i = j - o * inner, start = o * extent * inner + i;
            // In double, as the reference backend. Shifting by the maximum keeps exp from overflowing; a NaN maximum
            // is kept (the hardware max would drop it), and a line of −∞ or one holding +∞ comes out NaN, as there.
            double max = double.NegativeInfinity, sum = 0;
            for (int r = 0; r < extent; r++)
            {
                double v = x[start + r * inner];
                if (double.IsNaN(v) || v > max) max = double.IsNaN(max) ? max : v;
            }
            for (int r = 0; r < extent; r++) sum += Math.Exp(x[start + r * inner] - max);
            double logSum = Math.Log(sum);
            for (int r = 0; r < extent; r++) y[start + r * inner] = (float)(x[start + r * inner] - max - logSum);
        }
    }
}
