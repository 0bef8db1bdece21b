using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// The error function in float32, within about 1.5e-7 of erf's value relative (one or two ulps), and GELU's exact
/// form built on it (x·½·(1 + erf(x/√2)), as ConvNeXt and ViT use it) with its derivative. .NET has no Math.Erf; the
/// two polynomials below were fitted for ConvKit (Chebyshev fits in float64 against Python's math.erf, rounded to
/// float32):
/// <list type="bullet">
/// <item>|x| &lt; 0.875: erf x = x·P(x²), P of degree 6 (the Taylor series' first coefficient 2/√π);</item>
/// <item>0.875 ≤ |x| &lt; 4: erf x = 1 − e^−x²·Q(|x| − 2.4375), Q of degree 11 fitted to erfc(x)·e^x² (smooth,
/// between 0.43 and 0.14), centred so its float32 steps stay well conditioned;</item>
/// <item>|x| ≥ 4: ±1 (erfc 4 ≈ 1.5e-8 is below half an ulp of 1).</item>
/// </list>
/// Eight lanes at a time, both branches computed and the right one selected, e^−x² from
/// <see cref="CpuBackend.Exp(Vector256{float})"/>: with TensorPrimitives' float exponential (1.2–1.6 ns a value on Zen 3
/// with AVX2, where it goes through double precision) the error function took 4.4 ns a value on one thread, now 1.8–1.9.
/// </summary>
static class ErrorFunction
{
    const float Split = 0.875f, Centre = 2.4375f, Saturation = 4f;
    const float InverseSqrt2 = 0.707106781f, InverseSqrt2Pi = 0.398942280f;

    /// <summary>y = erf(x) element-wise; y may be x. NaN stays NaN.</summary>
    public static void Compute(ReadOnlySpan<float> x, Span<float> y) => LaneMap.Run<Erf>(x, x, y);

    /// <summary>y = x·½·(1 + erf(x/√2)) element-wise, PyTorch's exact GELU (the same order of operations); y may be x.</summary>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> y) => LaneMap.Run<GeluForward>(x, x, y);

    /// <summary>dx = g·(Φ(x) + x·φ(x)), Φ = ½(1 + erf(x/√2)) and φ(x) = e^−x²/2 / √(2π), GELU's derivative as PyTorch's; dx may be x or g.</summary>
    public static void GeluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx) => LaneMap.Run<GeluGradient>(x, g, dx);

    readonly struct Erf : LaneMap.IFunction
    {
        public static Vector256<float> Apply(Vector256<float> x, Vector256<float> g) => Of(x, CpuBackend.Exp(-(x * x)));
    }

    readonly struct GeluForward : LaneMap.IFunction
    {
        public static Vector256<float> Apply(Vector256<float> x, Vector256<float> g) => x * Vector256.Create(0.5f) * TwiceCdf(x, out _);
    }

    readonly struct GeluGradient : LaneMap.IFunction
    {
        public static Vector256<float> Apply(Vector256<float> x, Vector256<float> g)
        {
            var cdf = Vector256.Create(0.5f) * TwiceCdf(x, out var gauss);
            return g * Vector256.FusedMultiplyAdd(x, gauss * Vector256.Create(InverseSqrt2Pi), cdf);
        }
    }

    /// <summary>
    /// 2Φ(x) = 1 + erf(x/√2) of eight lanes, and beside it e^−x²/2, flushed to 0 where it underflows (Exp stops at the
    /// smallest normal float; erf is ±1 there): GELU's gradient x·φ(x) is then 0, and NaN at x = ±∞, as in PyTorch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> TwiceCdf(Vector256<float> x, out Vector256<float> gauss)
    {
        var t = x * Vector256.Create(InverseSqrt2);
        var square = t * t;
        gauss = CpuBackend.Exp(-square) & Vector256.LessThan(square, Vector256.Create(87f));
        return Vector256<float>.One + Of(t, gauss);
    }

    /// <summary>erf of eight lanes given gauss = e^−x²; NaN passes (through the large branch: e^NaN is NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Of(Vector256<float> x, Vector256<float> gauss)
    {
        var sign = Vector256.Create(-0f);
        var magnitude = Vector256.AndNot(x, sign);
        var small = magnitude * Small(x * x);
        var large = Vector256<float>.One - gauss * Large(Vector256.MinNative(magnitude, Vector256.Create(Saturation)) - Vector256.Create(Centre));
        var value = Vector256.ConditionalSelect(Vector256.LessThan(magnitude, Vector256.Create(Split)), small,
            Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(Saturation)), Vector256<float>.One, large));
        return value | (x & sign); // erf is odd: x's sign on |erf x|
    }

    // The polynomials by Estrin's scheme: the powers of t and the pairs c_k + c_(k+1)·t are independent, so each is
    // four or five multiply-adds deep instead of Horner's six and eleven. The coefficients are written out as constants
    // (helpers taking them as arguments, once inlined, left the JIT with more locals than it tracks: every value spilled).

    /// <summary>P(t) = c0 + c1·t + … + c6·t⁶.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Small(Vector256<float> t)
    {
        var t2 = t * t;
        var c01 = Vector256.FusedMultiplyAdd(Vector256.Create(-0.37612634897232056f), t, Vector256.Create(1.128379225730896f));
        var c23 = Vector256.FusedMultiplyAdd(Vector256.Create(-0.02686174027621746f), t, Vector256.Create(0.11283735930919647f));
        var c45 = Vector256.FusedMultiplyAdd(Vector256.Create(-0.0008215559646487236f), t, Vector256.Create(0.005207134410738945f));
        var c456 = Vector256.FusedMultiplyAdd(Vector256.Create(8.694667485542595e-05f), t2, c45);
        return Vector256.FusedMultiplyAdd(c456, t2 * t2, Vector256.FusedMultiplyAdd(c23, t2, c01));
    }

    /// <summary>Q(u) = c0 + c1·u + … + c11·u¹¹.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Large(Vector256<float> u)
    {
        var u2 = u * u;
        var u4 = u2 * u2;
        var c01 = Vector256.FusedMultiplyAdd(Vector256.Create(-0.07756081223487854f), u, Vector256.Create(0.2155524641275406f));
        var c23 = Vector256.FusedMultiplyAdd(Vector256.Create(-0.008648294024169445f), u, Vector256.Create(0.026498349383473396f));
        var c45 = Vector256.FusedMultiplyAdd(Vector256.Create(-0.0008169856737367809f), u, Vector256.Create(0.0027073072269558907f));
        var c67 = Vector256.FusedMultiplyAdd(Vector256.Create(-6.856028630863875e-05f), u, Vector256.Create(0.00024177935847546905f));
        var c89 = Vector256.FusedMultiplyAdd(Vector256.Create(-4.247048309480306e-06f), u, Vector256.Create(1.613931090105325e-05f));
        var c1011 = Vector256.FusedMultiplyAdd(Vector256.Create(-5.405784690992732e-07f), u, Vector256.Create(2.0897687136312015e-06f));
        var low = Vector256.FusedMultiplyAdd(c23, u2, c01);
        var middle = Vector256.FusedMultiplyAdd(c67, u2, c45);
        var high = Vector256.FusedMultiplyAdd(c1011, u2, c89);
        return Vector256.FusedMultiplyAdd(high, u4 * u4, Vector256.FusedMultiplyAdd(middle, u4, low));
    }
}
