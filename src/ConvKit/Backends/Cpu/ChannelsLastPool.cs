using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// Max pooling without indices, and average pooling, on <see cref="ChannelBlocks"/>: every tap of every output is one
/// vector maximum (borders −∞) or one vector sum (borders 0, taps in PyTorch's row-major order, then divided by
/// <see cref="SeparablePool"/>'s divisors). The maximum is PyTorch's rule, a value replacing the maximum when greater
/// or NaN: the native max with the value first (which returns the maximum on a tie or a NaN) and the value selected
/// where it is NaN, three instructions where .NET's IEEE maximum is nine without AVX-512 (max pools 15–23% faster on
/// Zen 3). So NaN wins, as in <see cref="SeparablePool"/>; of +0 and −0 the first stays, where there +0 does.
/// </summary>
static class ChannelsLastPool
{
    /// <summary>
    /// Whether this path takes the pooling: output rows of at most 8 values, or of at most 28 at unit stride, where the
    /// plane path's rows are a few partly filled vectors each. At stride 2 from larger planes the transposes cost as
    /// much as they save with AVX-512; without it the plane path splits stride-2 rows one value at a time, and this path
    /// takes every stride-2 pooling and rows of up to 16. Two threads, Zen 5, against the plane path: GoogLeNet's 3×3
    /// stride-1 max pools of 512 planes at 14×14 32 against 63 µs, 832 at 7×7 18 against 103, 256 at 28×28 65 against
    /// 103; its 2×2 stride-2 pool of 832 planes at 14×14 35 against 123; at stride 2 to 14×14 or 28×28 within 10%
    /// either way. With AVX-512 disabled: SqueezeNet's 3×3 stride-2 pools 204 against 406 µs (64 planes at 111×111),
    /// 81 against 119 and 41 against 127; 256 planes at 28×28, stride 1, 124 against 108.
    /// </summary>
    public static bool Takes(in Pool2dGeometry g) =>
        g.OutputWidth <= 8 || (Avx512F.IsSupported
            ? g.Stride.Width == 1 && g.OutputWidth <= 28
            : g.Stride.Width == 2 || g.OutputWidth <= 16);

    /// <summary>y = the largest value of each window of x.</summary>
    public static void Max(float[] x, float[] y, in Pool2dGeometry g) =>
        new ChannelBlocks(g).Run(x, y, 1, g.Planes, float.NegativeInfinity, Work(g), _ => new Maximum());

    /// <summary>y = the mean of each window of x, with <see cref="SeparablePool"/>'s divisors.</summary>
    public static void Average(float[] x, float[] y, in Pool2dGeometry g, bool countIncludePad, int divisorOverride)
    {
        var divisors = SeparablePool.Divisors(g, countIncludePad, divisorOverride);
        new ChannelBlocks(g).Run(x, y, 1, g.Planes, 0f, Work(g), _ => new Sum(),
            (rows, start) => TensorPrimitives.Divide(rows, divisors.AsSpan(start, rows.Length), rows));
    }

    static long Work(in Pool2dGeometry g) => (long)g.Planes * g.OutputPlaneSize * g.Kernel.Height * g.Kernel.Width;

    readonly struct Maximum : IWindowOp
    {
        public Vector512<float> Start => Vector512.Create(float.NegativeInfinity);
        public Vector512<float> Tap(int tap) => default;
        public Vector512<float> Take(Vector512<float> sum, Vector512<float> value, Vector512<float> tap) => Vector512.ConditionalSelect(Vector512.IsNaN(value), value, Vector512.MaxNative(value, sum));
        public Vector256<float> Start256(int half) => Vector256.Create(float.NegativeInfinity);
        public Vector256<float> Tap256(int tap, int half) => default;
        public Vector256<float> Take256(Vector256<float> sum, Vector256<float> value, Vector256<float> tap) => Vector256.ConditionalSelect(Vector256.IsNaN(value), value, Vector256.MaxNative(value, sum));
    }

    readonly struct Sum : IWindowOp
    {
        public Vector512<float> Start => Vector512<float>.Zero;
        public Vector512<float> Tap(int tap) => default;
        public Vector512<float> Take(Vector512<float> sum, Vector512<float> value, Vector512<float> tap) => sum + value;
        public Vector256<float> Start256(int half) => Vector256<float>.Zero;
        public Vector256<float> Tap256(int tap, int half) => default;
        public Vector256<float> Take256(Vector256<float> sum, Vector256<float> value, Vector256<float> tap) => sum + value;
    }
}
