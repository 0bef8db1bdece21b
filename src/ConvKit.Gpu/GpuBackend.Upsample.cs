using ILGPU;
using ILGPU.Runtime;

namespace ConvKit.Backends.Gpu;

// Up-sampling. Forward: each thread owns output pixels and reads the input pixel(s) their coordinates map to.
// Backward: a gather. An output's source index never falls as the output index rises, so the outputs that read an
// input index are a contiguous run on each axis, found by binary search over the same float32 mapping the forward
// pass uses; each thread owns input pixels and sums that run, with no atomics.
public sealed partial class GpuBackend
{
    /// <summary><see cref="UpsampleGeometry"/> as a kernel argument: ILGPU takes only blittable structs, so the bool is an int.</summary>
    internal readonly record struct Resize(int Planes, int InputHeight, int InputWidth, int OutputHeight, int OutputWidth,
        float ScaleHeight, float ScaleWidth, int AlignCorners)
    {
        public static Resize Of(in UpsampleGeometry g) => new(g.Planes, g.InputHeight, g.InputWidth, g.OutputHeight, g.OutputWidth,
            g.ScaleHeight, g.ScaleWidth, g.AlignCorners ? 1 : 0);
        public int InputPlaneSize => InputHeight * InputWidth;
        public int OutputPlaneSize => OutputHeight * OutputWidth;
    }

    Action<AcceleratorStream, Index1D, Work, Resize, ArrayView<float>, ArrayView<float>>? upsampleNearest;
    Action<AcceleratorStream, Index1D, Work, Resize, ArrayView<float>, ArrayView<float>>? upsampleNearestBackward;
    Action<AcceleratorStream, Index1D, Work, Resize, ArrayView<float>, ArrayView<float>>? upsampleBilinear;
    Action<AcceleratorStream, Index1D, Work, Resize, ArrayView<float>, ArrayView<float>>? upsampleBilinearBackward;

    /// <summary>The input index output index <paramref name="i"/> copies: ⌊i·scale⌋ in float32, clipped to the input, as torch's 'nearest'.</summary>
    static int NearestSource(int i, int inputSize, int outputSize, float scale) =>
        // torch takes these two cases exactly; the general product may round just below an integer.
        outputSize == inputSize ? i : outputSize == 2 * inputSize ? i / 2 : Math.Min((int)MathF.Floor(i * scale), inputSize - 1);

    /// <summary>The first output index in [0, outputSize] whose nearest source is at least <paramref name="source"/>.</summary>
    static int FirstNearest(int source, int inputSize, int outputSize, float scale)
    {
        int low = 0, high = outputSize;
        while (low < high)
        {
            int mid = (low + high) >> 1;
            if (NearestSource(mid, inputSize, outputSize, scale) < source) low = mid + 1;
            else high = mid;
        }
        return low;
    }

    /// <inheritdoc/>
    public override void UpsampleNearest(Storage x, UpsampleGeometry geometry, Storage y)
    {
        var (threads, work) = For((long)geometry.Planes * geometry.OutputPlaneSize);
        Load(ref upsampleNearest, a => a.LoadAutoGroupedKernel<Index1D, Work, Resize, ArrayView<float>, ArrayView<float>>(UpsampleNearestKernel))(
            Stream, threads, work, Resize.Of(geometry), Data(x), Data(y));
    }

    static void UpsampleNearestKernel(Index1D t, Work w, Resize g, ArrayView<float> x, ArrayView<float> y)
    {
        for (int o = t; o < w.Count; o += w.Stride)
        {
            int p = o / g.OutputPlaneSize, k = o - p * g.OutputPlaneSize, oh = k / g.OutputWidth, ow = k - oh * g.OutputWidth;
            int ih = NearestSource(oh, g.InputHeight, g.OutputHeight, g.ScaleHeight);
            int iw = NearestSource(ow, g.InputWidth, g.OutputWidth, g.ScaleWidth);
            y[o] = x[(p * g.InputHeight + ih) * g.InputWidth + iw];
        }
    }

    /// <inheritdoc/>
    public override void UpsampleNearestBackward(Storage gradY, UpsampleGeometry geometry, Storage gradX)
    {
        var (threads, work) = For((long)geometry.Planes * geometry.InputPlaneSize);
        Load(ref upsampleNearestBackward, a => a.LoadAutoGroupedKernel<Index1D, Work, Resize, ArrayView<float>, ArrayView<float>>(UpsampleNearestBackwardKernel))(
            Stream, threads, work, Resize.Of(geometry), Data(gradY), Data(gradX));
    }

    /// <summary>Input pixel (ih, iw) adds the gradients of the outputs that copied it, in row-major order in float, as the reference.</summary>
    static void UpsampleNearestBackwardKernel(Index1D t, Work w, Resize g, ArrayView<float> gradY, ArrayView<float> gradX)
    {
        for (int e = t; e < w.Count; e += w.Stride)
        {
            int p = e / g.InputPlaneSize, k = e - p * g.InputPlaneSize, ih = k / g.InputWidth, iw = k - ih * g.InputWidth;
            int oh0 = FirstNearest(ih, g.InputHeight, g.OutputHeight, g.ScaleHeight);
            int oh1 = FirstNearest(ih + 1, g.InputHeight, g.OutputHeight, g.ScaleHeight);
            int ow0 = FirstNearest(iw, g.InputWidth, g.OutputWidth, g.ScaleWidth);
            int ow1 = FirstNearest(iw + 1, g.InputWidth, g.OutputWidth, g.ScaleWidth);
            float sum = gradX[e];
            for (int oh = oh0; oh < oh1; oh++)
                for (int ow = ow0; ow < ow1; ow++) sum += gradY[(p * g.OutputHeight + oh) * g.OutputWidth + ow];
            gradX[e] = sum;
        }
    }

    /// <summary>
    /// The lower input index output index <paramref name="i"/> blends, and the weight of the upper: the source coordinate
    /// is scale·i with aligned corners, else scale·(i + ½) − ½ clipped at 0 (half-pixel centres), in float32.
    /// </summary>
    static int LinearSource(int i, float scale, int alignCorners, out float fraction)
    {
        float position = alignCorners != 0 ? scale * i : MathF.Max(scale * (i + 0.5f) - 0.5f, 0f);
        int low = (int)position;
        fraction = position - low;
        return low;
    }

    /// <summary>The first output index in [0, outputSize] whose lower source index is at least <paramref name="source"/>.</summary>
    static int FirstLinear(int source, int outputSize, float scale, int alignCorners)
    {
        int low = 0, high = outputSize;
        while (low < high)
        {
            int mid = (low + high) >> 1;
            if (LinearSource(mid, scale, alignCorners, out _) < source) low = mid + 1;
            else high = mid;
        }
        return low;
    }

    /// <summary>
    /// The weight input index <paramref name="at"/> has in output index <paramref name="i"/> on one axis: 1 − f if it is
    /// the lower source, f if it is the upper one (min(lower + 1, in − 1)), both at the last index where they coincide;
    /// in float32, as the reference forms its weights.
    /// </summary>
    static float LinearWeight(int i, int at, int inputSize, float scale, int alignCorners)
    {
        int low = LinearSource(i, scale, alignCorners, out float fraction);
        int high = Math.Min(low + 1, inputSize - 1);
        return (low == at ? 1 - fraction : 0f) + (high == at ? fraction : 0f);
    }

    /// <inheritdoc/>
    public override void UpsampleBilinear(Storage x, UpsampleGeometry geometry, Storage y)
    {
        var (threads, work) = For((long)geometry.Planes * geometry.OutputPlaneSize);
        Load(ref upsampleBilinear, a => a.LoadAutoGroupedKernel<Index1D, Work, Resize, ArrayView<float>, ArrayView<float>>(UpsampleBilinearKernel))(
            Stream, threads, work, Resize.Of(geometry), Data(x), Data(y));
    }

    static void UpsampleBilinearKernel(Index1D t, Work w, Resize g, ArrayView<float> x, ArrayView<float> y)
    {
        for (int o = t; o < w.Count; o += w.Stride)
        {
            int p = o / g.OutputPlaneSize, k = o - p * g.OutputPlaneSize, oh = k / g.OutputWidth, ow = k - oh * g.OutputWidth;
            int h0 = LinearSource(oh, g.ScaleHeight, g.AlignCorners, out float fh), h1 = Math.Min(h0 + 1, g.InputHeight - 1);
            int w0 = LinearSource(ow, g.ScaleWidth, g.AlignCorners, out float fw), w1 = Math.Min(w0 + 1, g.InputWidth - 1);
            int row0 = (p * g.InputHeight + h0) * g.InputWidth, row1 = (p * g.InputHeight + h1) * g.InputWidth;
            // Blended in double, as the reference.
            double top = (1 - fw) * (double)x[row0 + w0] + fw * (double)x[row0 + w1];
            double bottom = (1 - fw) * (double)x[row1 + w0] + fw * (double)x[row1 + w1];
            y[o] = (float)((1 - fh) * top + fh * bottom);
        }
    }

    /// <inheritdoc/>
    public override void UpsampleBilinearBackward(Storage gradY, UpsampleGeometry geometry, Storage gradX)
    {
        var (threads, work) = For((long)geometry.Planes * geometry.InputPlaneSize);
        Load(ref upsampleBilinearBackward, a => a.LoadAutoGroupedKernel<Index1D, Work, Resize, ArrayView<float>, ArrayView<float>>(UpsampleBilinearBackwardKernel))(
            Stream, threads, work, Resize.Of(geometry), Data(gradY), Data(gradX));
    }

    /// <summary>
    /// Input pixel (ih, iw) is a source of the outputs whose lower source index is ih − 1 or ih on each axis (the
    /// upper is the lower + 1, or the lower itself at the edge); it sums their gradients by its weights, in double as
    /// the reference, then adds the sum to gradX.
    /// </summary>
    static void UpsampleBilinearBackwardKernel(Index1D t, Work w, Resize g, ArrayView<float> gradY, ArrayView<float> gradX)
    {
        for (int e = t; e < w.Count; e += w.Stride)
        {
            int p = e / g.InputPlaneSize, k = e - p * g.InputPlaneSize, ih = k / g.InputWidth, iw = k - ih * g.InputWidth;
            int oh0 = FirstLinear(ih - 1, g.OutputHeight, g.ScaleHeight, g.AlignCorners);
            int oh1 = FirstLinear(ih + 1, g.OutputHeight, g.ScaleHeight, g.AlignCorners);
            int ow0 = FirstLinear(iw - 1, g.OutputWidth, g.ScaleWidth, g.AlignCorners);
            int ow1 = FirstLinear(iw + 1, g.OutputWidth, g.ScaleWidth, g.AlignCorners);
            double sum = 0;
            for (int oh = oh0; oh < oh1; oh++)
            {
                float weightH = LinearWeight(oh, ih, g.InputHeight, g.ScaleHeight, g.AlignCorners);
                int row = (p * g.OutputHeight + oh) * g.OutputWidth;
                for (int ow = ow0; ow < ow1; ow++)
                {
                    // The weight product in float, then the sum in double, as the reference.
                    sum += weightH * LinearWeight(ow, iw, g.InputWidth, g.ScaleWidth, g.AlignCorners) * (double)gradY[row + ow];
                }
            }
            gradX[e] += (float)sum;
        }
    }
}
