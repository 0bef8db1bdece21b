using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// Depthwise convolution of small planes (the 7×7 stage of MobileNet, MnasNet and EfficientNet, with hundreds of
/// channels) in a channels-last layout: each thread transposes its share of the channels to (position, channel), so
/// one vector holds eight or sixteen channels' values at one position and every tap is one multiply-add per vector
/// with no ragged rows, then transposes the result back. On a plane, rows of 7 values fill a vector only partly and
/// leave <see cref="DepthwiseConv"/> a loop per row and tap: on Zen 5 this path took half its time for 7×7 outputs.
/// At 14×14 it was as fast until the plane path's rows were copied without a call each; since then the plane path
/// is 10–25% faster there.
/// </summary>
static class ChannelsLastDepthwise
{
    const int Lanes = 8;

    /// <summary>Whether this path takes the convolution: depthwise with one filter per channel, channels a whole number of vectors, output rows of at most 8.</summary>
    public static bool Takes(in ConvGeometry g) =>
        Vector256.IsHardwareAccelerated && g.IsDepthwise && g.OutChannels == g.InChannels && g.InChannels % Lanes == 0 && g.OutWidth <= 8;

    /// <summary>y = activation(the depthwise convolution of x with the bias), for a geometry <see cref="Takes"/> accepts.</summary>
    public static void Forward(float[] x, float[] w, float[]? bias, float[] y, ConvGeometry g, ActivationOp? activation, float activationParameter)
    {
        int channels = g.InChannels, vectors = channels / Lanes;
        int parts = DepthwiseConv.Threads(g, vectors);
        for (int n = 0; n < g.Batch; n++)
        {
            int image = n;
            void Part(int part)
            {
                // A share of whole vectors of channels, transposed in and out by this thread alone.
                int first = part * vectors / parts * Lanes, count = (part + 1) * vectors / parts * Lanes - first;
                var input = ArrayPool<float>.Shared.Rent(g.InPlane * count);
                var taps = ArrayPool<float>.Shared.Rent(g.KernelArea * count);
                var output = ArrayPool<float>.Shared.Rent(g.OutPlane * count);
                BlockTranspose.Run(x.AsSpan((image * channels + first) * g.InPlane), g.InPlane, count, g.InPlane, input, count);
                BlockTranspose.Run(w.AsSpan(first * g.KernelArea), g.KernelArea, count, g.KernelArea, taps, count);
                Convolve(input, taps, bias == null ? null : bias.AsSpan(first, count), output, count, g);
                var result = output.AsSpan(0, g.OutPlane * count);
                if (activation is { } op) CpuBackend.Activate(op, activationParameter, result, result);
                BlockTranspose.Run(output, count, g.OutPlane, count, y.AsSpan((image * channels + first) * g.OutPlane), g.OutPlane);
                ArrayPool<float>.Shared.Return(input);
                ArrayPool<float>.Shared.Return(taps);
                ArrayPool<float>.Shared.Return(output);
            }
            if (parts == 1) Part(0);
            else Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, Part);
        }
    }

    /// <summary>
    /// output[p, c] = bias[c] + Σ over the taps inside the input of taps[t, c] · input[q(p, t), c], for the
    /// <paramref name="count"/> channels of a share (rows of <paramref name="count"/> values in all three).
    /// </summary>
    static void Convolve(float[] input, float[] taps, ReadOnlySpan<float> bias, float[] output, int count, in ConvGeometry g)
    {
        Span<int> inputRows = stackalloc int[g.KernelArea], tapRows = stackalloc int[g.KernelArea];
        ref float x = ref MemoryMarshal.GetArrayDataReference(input), w = ref MemoryMarshal.GetArrayDataReference(taps);
        ref float y = ref MemoryMarshal.GetArrayDataReference(output);
        ref float b = ref MemoryMarshal.GetReference(bias);
        for (int oh = 0; oh < g.OutHeight; oh++)
            for (int ow = 0; ow < g.OutWidth; ow++)
            {
                // The taps of this position that fall inside the input (the padding adds nothing).
                int valid = 0;
                for (int i = 0; i < g.KernelHeight; i++)
                {
                    int ih = oh * g.StrideHeight - g.PadTop + i * g.DilationHeight;
                    if ((uint)ih >= (uint)g.InHeight) continue;
                    for (int j = 0; j < g.KernelWidth; j++)
                    {
                        int iw = ow * g.StrideWidth - g.PadLeft + j * g.DilationWidth;
                        if ((uint)iw >= (uint)g.InWidth) continue;
                        inputRows[valid] = (ih * g.InWidth + iw) * count;
                        tapRows[valid++] = (i * g.KernelWidth + j) * count;
                    }
                }
                int outputRow = (oh * g.OutWidth + ow) * count, c = 0;
                // Sixteen channels a vector where AVX-512 has them, four vectors at once: four independent chains of
                // multiply-adds, where one vector's chain was bound by their latency (15% slower).
                for (; Vector512.IsHardwareAccelerated && c + 64 <= count; c += 64)
                {
                    Vector512<float> s0, s1, s2, s3;
                    if (bias.IsEmpty) s0 = s1 = s2 = s3 = Vector512<float>.Zero;
                    else
                    {
                        s0 = Vector512.LoadUnsafe(ref b, (nuint)c); s1 = Vector512.LoadUnsafe(ref b, (nuint)c + 16);
                        s2 = Vector512.LoadUnsafe(ref b, (nuint)c + 32); s3 = Vector512.LoadUnsafe(ref b, (nuint)c + 48);
                    }
                    for (int t = 0; t < valid; t++)
                    {
                        ref float wt = ref Unsafe.Add(ref w, tapRows[t] + c);
                        ref float xt = ref Unsafe.Add(ref x, inputRows[t] + c);
                        s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref wt), Vector512.LoadUnsafe(ref xt), s0);
                        s1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref wt, 16), Vector512.LoadUnsafe(ref xt, 16), s1);
                        s2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref wt, 32), Vector512.LoadUnsafe(ref xt, 32), s2);
                        s3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref wt, 48), Vector512.LoadUnsafe(ref xt, 48), s3);
                    }
                    ref float yt = ref Unsafe.Add(ref y, outputRow + c);
                    s0.StoreUnsafe(ref yt); s1.StoreUnsafe(ref yt, 16); s2.StoreUnsafe(ref yt, 32); s3.StoreUnsafe(ref yt, 48);
                }
                for (; c < count; c += Lanes)
                {
                    var sum = bias.IsEmpty ? Vector256<float>.Zero : Vector256.LoadUnsafe(ref b, (nuint)c);
                    for (int t = 0; t < valid; t++)
                        sum = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref w, (nuint)(tapRows[t] + c)),
                            Vector256.LoadUnsafe(ref x, (nuint)(inputRows[t] + c)), sum);
                    sum.StoreUnsafe(ref y, (nuint)(outputRow + c));
                }
            }
    }
}
