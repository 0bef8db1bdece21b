using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// Depthwise convolution on <see cref="ChannelBlocks"/>: every tap of every output is one multiply-add by a vector of
/// the tap's sixteen weights, and the bias and ReLU, ReLU6, HardSigmoid, HardSwish or SiLU are applied in registers.
/// </summary>
static class ChannelsLastDepthwise
{
    const int Lanes = ChannelBlocks.Lanes;

    /// <summary>
    /// Whether this path takes the convolution: depthwise with one filter per channel, no negative padding, and output
    /// rows of at most 28 values at column stride 2, or of at most 16 at unit stride (without AVX-512, where a Vector512
    /// is two Vector256 halves, of at most 14 and 8). On wider rows the plane path's row vectors are full and
    /// this one's transposes cost more than they save. MobileNetV2's layers at batch 1 on two threads, Zen 5: 32
    /// channels at 112×112 took 173 µs here against 88 on the plane path, 384 at 14×14 32 against 37, 960 at 7×7 27
    /// against 67, 576 at 14×14 to 7×7 by stride 2 25 against 63, 144 at 56×56 to 28×28 63 against 81; with AVX-512
    /// disabled, 96 at 112×112 to 56×56 331 against 506, and 672 at 14×14 with 5×5 filters 204 against 137. On Zen 3
    /// (AVX2) the plane path also won 3×3 at 14×14 (384 channels 136 µs against 166, 576 165 against 210) and lost at
    /// 7×7 (960: 202 against 135); once it split stride-2 rows with AVX2 permutes, straight from the input rows, it won
    /// 112×112 to 56×56 there too (96 channels 520 µs against 664, 64 486 against 592, 48 346 against 422) and 56×56 to
    /// 28×28 (144 channels 3×3 404 against 455, 72 5×5 292 against 425), and lost 28×28 to 14×14 (240: 251 against 227).
    /// </summary>
    public static bool Takes(in ConvGeometry g) =>
        g.IsDepthwise && g.OutChannels == g.InChannels && g.PadTop >= 0 && g.PadLeft >= 0
        && g.OutWidth <= (Vector512.IsHardwareAccelerated ? (g.StrideWidth == 2 ? 28 : 16) : (g.StrideWidth == 2 ? 14 : 8));

    /// <summary>y = activation(the depthwise convolution of x with the bias), for a geometry <see cref="Takes"/> accepts.</summary>
    public static void Forward(float[] x, float[] w, float[]? bias, float[] y, ConvGeometry g, ActivationOp? activation, float activationParameter)
    {
        // Each block's taps, sixteen channels' weights a tap, and bias, laid out once for all images.
        int channels = g.InChannels, area = g.KernelArea, blocks = (channels + Lanes - 1) / Lanes;
        var taps = new float[blocks * area * Lanes];
        var shifts = new float[blocks * Lanes];
        for (int c = 0; c < channels; c++)
        {
            for (int t = 0; t < area; t++) taps[(c / Lanes * area + t) * Lanes + c % Lanes] = w[c * area + t];
            if (bias != null) shifts[c] = bias[c];
        }
        bool fused = activation is null or ActivationOp.Relu or ActivationOp.Relu6 or ActivationOp.HardSigmoid or ActivationOp.HardSwish or ActivationOp.Silu;
        new ChannelBlocks(g).Run(x, y, g.Batch, channels, 0f, g.MultiplyAdds,
            first => new Filter(taps, first / Lanes * area, Vector512.Create(shifts.AsSpan(first, Lanes)), fused ? activation : null),
            fused ? null : (values, _) => CpuBackend.Activate(activation!.Value, activationParameter, values, values));
    }

    /// <summary>The multiply-adds of one block of channels.</summary>
    readonly struct Filter(float[] taps, int firstTap, Vector512<float> bias, ActivationOp? activation) : IWindowOp
    {
        public Vector512<float> Start => bias;

        public Vector512<float> Tap(int tap) =>
            Vector512.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(taps), (nuint)((firstTap + tap) * Lanes));

        public Vector512<float> Take(Vector512<float> sum, Vector512<float> value, Vector512<float> tap) => Vector512.FusedMultiplyAdd(value, tap, sum);

        /// <summary>
        /// A fused activation of sixteen sums, with the arithmetic of the convolution epilogue's pass (CpuBackend's; SiLU
        /// through its exponential, as on rows of 16 or more); the others pass through.
        /// </summary>
        public Vector512<float> Finish(Vector512<float> v)
        {
            switch (activation)
            {
                case ActivationOp.Relu: return Vector512.Max(v, Vector512<float>.Zero);
                case ActivationOp.Relu6: return Vector512.Min(Vector512.Max(v, Vector512<float>.Zero), Vector512.Create(6f));
                case ActivationOp.HardSigmoid or ActivationOp.HardSwish:
                    var six = Vector512.Create(6f);
                    var gate = Vector512.Min(Vector512.Max(v + Vector512.Create(3f), Vector512<float>.Zero), six) / six;
                    return activation == ActivationOp.HardSwish ? v * gate : gate;
                case ActivationOp.Silu: return CpuBackend.Silu(v);
                default: return v;
            }
        }
    }
}
