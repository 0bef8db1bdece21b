using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// Depthwise convolution on <see cref="ChannelBlocks"/>: every tap of every output is one multiply-add by a vector of
/// the tap's sixteen weights, from the bias, and ReLU, ReLU6, HardSwish or SiLU is applied in registers (HardSwish
/// 12–24% and SiLU 2–12% faster than a pass over the output on Zen 3, to the same bits).
/// </summary>
static class ChannelsLastDepthwise
{
    const int Lanes = ChannelBlocks.Lanes;

    /// <summary>
    /// Whether this path takes the convolution: depthwise with one filter per channel, no negative padding, and output
    /// rows of at most 28 values at column stride 2, or of at most 16 at unit stride. On wider rows the plane path's row
    /// vectors are full and this one's transposes cost more than they save. MobileNetV2's layers at batch 1 on two
    /// threads, Zen 5: 32 channels at 112×112 took 173 µs here against 88 on the plane path, 384 at 14×14 32 against 37,
    /// 960 at 7×7 27 against 67, 576 at 14×14 to 7×7 by stride 2 25 against 63, 144 at 56×56 to 28×28 63 against 81.
    /// On Zen 3 (AVX2), two threads, once the sums stayed in registers (<see cref="ChannelBlocks"/>): 384 channels at
    /// 14×14 83 µs against 120, 144 at 56×56 to 28×28 151 against 188, 384 at 14×14 with 7×7 filters 173 against 234;
    /// at 28×28 and unit stride the two paths were within 6% of each other, at 56×56 the plane path won by 10–40%.
    /// </summary>
    public static bool Takes(in ConvGeometry g) =>
        g.IsDepthwise && g.OutChannels == g.InChannels && g.PadTop >= 0 && g.PadLeft >= 0
        && g.OutWidth <= (g.StrideWidth == 2 ? 28 : 16);

    /// <summary>The filters of <paramref name="weight"/> in blocks of sixteen channels, a vector a tap, kept beside it (<see cref="TransposedWeights"/>).</summary>
    public static float[] Taps(Storage weight, float[] w, in ConvGeometry g) => TransposedWeights.InBlocks(weight, w, g.InChannels, g.KernelArea, Lanes);

    /// <summary>
    /// y = activation(the depthwise convolution of x with the bias), for a geometry <see cref="Takes"/> accepts, the
    /// filters as <see cref="Taps"/> lays them out.
    /// </summary>
    public static void Forward(float[] x, float[] taps, float[]? bias, float[] y, ConvGeometry g, ActivationOp? activation, float activationParameter)
    {
        int channels = g.InChannels, area = g.KernelArea;
        var shifts = new float[(channels + Lanes - 1) / Lanes * Lanes];
        for (int c = 0; c < channels; c++) shifts[c] = (bias == null ? 0f : bias[c]) + 0f;
        // ReLU, ReLU6, HardSwish and SiLU are applied in registers (a −0 bias counted as +0, so no sum is −0 for the
        // clamp); other activations are a pass over each block's rows of its output planes.
        bool inRegisters = ChannelBlocks.InRegisters(activation);
        new ChannelBlocks(g).Run(x, y, g.Batch, channels, 0f, g.MultiplyAdds, first => new Filter(taps, first / Lanes * area, shifts, first),
            inRegisters ? null : (values, _) => CpuBackend.Activate(activation!.Value, activationParameter, values, values), inRegisters ? activation : null);
    }

    /// <summary>The multiply-adds of one block of channels, from its bias.</summary>
    readonly struct Filter(float[] taps, int firstTap, float[] shifts, int first) : IWindowOp
    {
        public Vector512<float> Start => Vector512.Create(shifts.AsSpan(first, Lanes));

        public Vector512<float> Tap(int tap) =>
            Vector512.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(taps), (nuint)((firstTap + tap) * Lanes));

        public Vector512<float> Take(Vector512<float> sum, Vector512<float> value, Vector512<float> tap) => Vector512.FusedMultiplyAdd(value, tap, sum);

        public Vector256<float> Start256(int half) => Vector256.Create(shifts.AsSpan(first + half * Lanes / 2, Lanes / 2));

        public Vector256<float> Tap256(int tap, int half) =>
            Vector256.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(taps), (nuint)((firstTap + tap) * Lanes + half * Lanes / 2));

        public Vector256<float> Take256(Vector256<float> sum, Vector256<float> value, Vector256<float> tap) => Vector256.FusedMultiplyAdd(value, tap, sum);
    }
}
