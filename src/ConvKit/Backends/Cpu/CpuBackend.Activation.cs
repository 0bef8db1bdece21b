using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Backends.Cpu;

// Activations: SIMD forward through TensorPrimitives where it has the function (LaneMap with ConvKit's exponential for
// SiLU, Sigmoid and GELU), Vector<float> loops for the rest and for the backward rules; large tensors are split into
// chunks across cores.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Activation(ActivationOp op, float parameter, Storage x, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        AxisBlocks.Run(1, 1, input.Length, (_, start, length) => Activate(op, parameter, input.AsSpan(start, length), output.AsSpan(start, length)));
    }

    /// <summary>
    /// destination = op(source) on one span; the two may be the same span. The convolution's epilogue calls it on each
    /// block of output, so a fused activation computes what the separate op does.
    /// </summary>
    internal static void Activate(ActivationOp op, float parameter, ReadOnlySpan<float> source, Span<float> destination)
    {
        switch (op)
        {
            case ActivationOp.Relu: TensorPrimitives.Max(source, 0f, destination); break;
            case ActivationOp.Relu6:
                TensorPrimitives.Max(source, 0f, destination);
                TensorPrimitives.Min(destination, 6f, destination);
                break;
            case ActivationOp.Tanh: TensorPrimitives.Tanh(source, destination); break;
            case ActivationOp.Sigmoid: LaneMap.Run<SigmoidLanes>(source, source, destination); break;
            case ActivationOp.LeakyRelu: LeakyRelu(source, parameter, destination); break;
            case ActivationOp.HardSigmoid: HardSigmoid(source, destination, timesInput: false); break;
            case ActivationOp.HardSwish: HardSigmoid(source, destination, timesInput: true); break;
            case ActivationOp.Silu: Silu(source, destination); break;
            case ActivationOp.Gelu: ErrorFunction.Gelu(source, destination); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
    }

    /// <summary>
    /// y = x·σ(x) = x / (1 + e^−x); x and y may be the same span. With AVX-512, sixteen values at a time through
    /// <see cref="Exp(Vector512{float})"/>, a third of the time of TensorPrimitives' Sigmoid then Multiply (0.18 against 0.55 ns a value
    /// on Zen 5); elsewhere eight at a time through the same arithmetic (<see cref="LaneMap"/>; 2.4 → 0.53 ns a value on
    /// Zen 3 with AVX2). The last vector is computed first and stored last, so that no value is read after it was overwritten.
    /// </summary>
    static void Silu(ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length, V = Vector512<float>.Count;
        if (Vector512.IsHardwareAccelerated && n >= V)
        {
            ref float source = ref MemoryMarshal.GetReference(x);
            ref float target = ref MemoryMarshal.GetReference(y);
            var last = Silu(Vector512.LoadUnsafe(ref source, (nuint)(n - V)));
            for (int i = 0; i + V <= n; i += V) Silu(Vector512.LoadUnsafe(ref source, (nuint)i)).StoreUnsafe(ref target, (nuint)i);
            last.StoreUnsafe(ref target, (nuint)(n - V));
            return;
        }
        LaneMap.Run<SiluLanes>(x, x, y);
    }

    /// <summary>x·σ(x) of sixteen values through <see cref="Exp(Vector512{float})"/> (the pass above, and the depthwise filter's epilogue).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Silu(Vector512<float> v) => v / (Vector512<float>.One + Exp(-v));

    /// <summary>
    /// e^x in single precision (SiLU through it is within 5e-7 of the float64 value): 2^k · e^r with k = round(x·log₂e)
    /// and r = x − k·ln 2 (ln 2 in two parts, |r| ≤ ln 2 / 2), e^r by its Taylor series to r⁶ (the next term is under
    /// 2⁻³²), 2^k put in the exponent bits. x is clamped to [−87.3, 88.8]: below, e^x stays at the smallest normal
    /// float (about 1e-38); from about 88.4 up, 2^k is 2¹²⁸, which is +∞ (e^x overflows at 88.72). That is all SiLU
    /// needs, −∞·σ(−∞) coming out NaN as in PyTorch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Exp(Vector512<float> x)
    {
        const float RoundingShift = 12582912f; // 1.5·2²³: adding it rounds to an integer, held in the low mantissa bits
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(-87.3f)), Vector512.Create(88.8f));
        var shifted = Vector512.FusedMultiplyAdd(x, Vector512.Create(1.44269504f), Vector512.Create(RoundingShift));
        var k = shifted - Vector512.Create(RoundingShift);
        var r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-0.693145752f), x);
        r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-1.42860677e-6f), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(1f / 720), r, Vector512.Create(1f / 120));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 24));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        // k's integer sits in the low bits of shifted; moved into the exponent field and biased, it is 2^k.
        var twoToK = (Vector512.ShiftLeft(shifted.AsInt32(), 23) + Vector512.Create(127 << 23)).AsSingle();
        return p * twoToK;
    }

    /// <summary>x·σ(x) of eight values through <see cref="Exp(Vector256{float})"/> (the pass below, and the depthwise filter's epilogue).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Silu(Vector256<float> v) => v / (Vector256<float>.One + Exp(-v));

    readonly struct SiluLanes : LaneMap.IFunction
    {
        public static Vector256<float> Apply(Vector256<float> x, Vector256<float> g) => Silu(x);
    }

    /// <summary>
    /// min(max(v + 3, 0), 6) / 6 of eight values by the native clamp, which is the IEEE one here (v + 3 is never −0) and
    /// twice as fast a pass on Zen 3 as .NET's IEEE Max and Min (the convolution epilogue's pass, the depthwise filter's).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> HardSigmoid(Vector256<float> v)
    {
        var six = Vector256.Create(6f);
        return GemmEpilogue.Clamp(v + Vector256.Create(3f), Vector256<float>.Zero, six) / six;
    }

    /// <inheritdoc cref="HardSigmoid(Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> HardSigmoid(Vector512<float> v)
    {
        var six = Vector512.Create(6f);
        return GemmEpilogue.Clamp(v + Vector512.Create(3f), Vector512<float>.Zero, six) / six;
    }

    /// <summary>σ(x) = 1 / (1 + e^−x) of eight values (0 below about −88.4, where e^−x overflows; 1 above about 17).</summary>
    readonly struct SigmoidLanes : LaneMap.IFunction
    {
        public static Vector256<float> Apply(Vector256<float> x, Vector256<float> g) => Sigmoid(x);
    }

    /// <summary>g·σ(x)(1 + x(1 − σ(x))) of eight values, SiLU's derivative.</summary>
    readonly struct SiluGradient : LaneMap.IFunction
    {
        public static Vector256<float> Apply(Vector256<float> x, Vector256<float> g)
        {
            var s = Sigmoid(x);
            return g * s * Vector256.FusedMultiplyAdd(x, Vector256<float>.One - s, Vector256<float>.One);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Sigmoid(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + Exp(-x));

    /// <summary>
    /// <see cref="Exp(Vector512{float})"/> eight values at a time, to the bit the same: its clamp is the native one
    /// (<see cref="GemmEpilogue.Clamp(Vector256{float}, Vector256{float}, Vector256{float})"/>; no bound is zero, so it is
    /// the IEEE result), .NET's IEEE Max and Min being several instructions each without AVX-512.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Exp(Vector256<float> x)
    {
        const float RoundingShift = 12582912f;
        x = GemmEpilogue.Clamp(x, Vector256.Create(-87.3f), Vector256.Create(88.8f));
        var shifted = Vector256.FusedMultiplyAdd(x, Vector256.Create(1.44269504f), Vector256.Create(RoundingShift));
        var k = shifted - Vector256.Create(RoundingShift);
        var r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-0.693145752f), x);
        r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-1.42860677e-6f), r);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(1f / 720), r, Vector256.Create(1f / 120));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 24));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 6));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(0.5f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        var twoToK = (Vector256.ShiftLeft(shifted.AsInt32(), 23) + Vector256.Create(127 << 23)).AsSingle();
        return p * twoToK;
    }

    static void LeakyRelu(ReadOnlySpan<float> x, float slope, Span<float> y)
    {
        var slopes = new Vector<float>(slope);
        int i = 0;
        for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var v = new Vector<float>(x[i..]);
            Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<float>.Zero), v, v * slopes).CopyTo(y[i..]);
        }
        for (; i < x.Length; i++) y[i] = x[i] > 0 ? x[i] : x[i] * slope;
    }

    /// <inheritdoc/>
    public void ActivationBackward(ActivationOp op, float parameter, Storage x, Storage y, Storage gradY, Storage gradX)
    {
        float[] input = Data(x), output = Data(y), outputGrad = Data(gradY), inputGrad = Data(gradX);
        AxisBlocks.Run(1, 1, input.Length, (_, start, length) =>
        {
            ReadOnlySpan<float> g = outputGrad.AsSpan(start, length);
            var dx = inputGrad.AsSpan(start, length);
            switch (op)
            {
                case ActivationOp.Relu: ReluFamilyBackward(input.AsSpan(start, length), g, 0f, float.PositiveInfinity, 0f, dx); break;
                case ActivationOp.Relu6: ReluFamilyBackward(input.AsSpan(start, length), g, 0f, 6f, 0f, dx); break;
                case ActivationOp.LeakyRelu: ReluFamilyBackward(input.AsSpan(start, length), g, 0f, float.PositiveInfinity, parameter, dx); break;
                case ActivationOp.Tanh: TanhBackward(output.AsSpan(start, length), g, dx); break;
                case ActivationOp.Sigmoid: SigmoidBackward(output.AsSpan(start, length), g, dx); break;
                case ActivationOp.HardSigmoid: ReluFamilyBackward(input.AsSpan(start, length), g, -3f, 3f, 0f, dx, 1f / 6); break;
                case ActivationOp.HardSwish: HardSwishBackward(input.AsSpan(start, length), g, dx); break;
                case ActivationOp.Silu: LaneMap.Run<SiluGradient>(input.AsSpan(start, length), g, dx); break;
                case ActivationOp.Gelu: ErrorFunction.GeluBackward(input.AsSpan(start, length), g, dx); break;
                default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
            }
        });
    }

    /// <summary>dx = insideSlope·g where low &lt; x &lt; high, else slope·g.</summary>
    static void ReluFamilyBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, float low, float high, float slope, Span<float> dx,
        float insideSlope = 1f)
    {
        var lows = new Vector<float>(low);
        var highs = new Vector<float>(high);
        var slopes = new Vector<float>(slope);
        var insideSlopes = new Vector<float>(insideSlope);
        int i = 0;
        for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var v = new Vector<float>(x[i..]);
            var grad = new Vector<float>(g[i..]);
            var inside = Vector.BitwiseAnd(Vector.GreaterThan(v, lows), Vector.LessThan(v, highs));
            Vector.ConditionalSelect(inside, grad * insideSlopes, grad * slopes).CopyTo(dx[i..]);
        }
        for (; i < x.Length; i++) dx[i] = x[i] > low && x[i] < high ? g[i] * insideSlope : g[i] * slope;
    }

    // PyTorch's formulas, operation for operation, so results agree to the last bit: relu6(x + 3)/6, times x for HardSwish.
    /// <summary>y = min(max(x + 3, 0), 6)/6, times x when <paramref name="timesInput"/>.</summary>
    static void HardSigmoid(ReadOnlySpan<float> x, Span<float> y, bool timesInput)
    {
        var three = new Vector<float>(3f);
        var six = new Vector<float>(6f);
        int i = 0;
        for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var v = new Vector<float>(x[i..]);
            var gate = Vector.Min(Vector.Max(v + three, Vector<float>.Zero), six) / six;
            (timesInput ? v * gate : gate).CopyTo(y[i..]);
        }
        for (; i < x.Length; i++)
        {
            float gate = MathF.Min(MathF.Max(x[i] + 3f, 0f), 6f) / 6f;
            y[i] = timesInput ? x[i] * gate : gate;
        }
    }

    /// <summary>dx = 0 for x &lt; −3, g·(x/3 + ½) for −3 ≤ x ≤ 3, g above (PyTorch's hardswish_backward).</summary>
    static void HardSwishBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx)
    {
        var three = new Vector<float>(3f);
        var half = new Vector<float>(0.5f);
        int i = 0;
        for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var v = new Vector<float>(x[i..]);
            var grad = new Vector<float>(g[i..]);
            var ramp = Vector.ConditionalSelect(Vector.GreaterThan(v, three), grad, grad * (v / three + half));
            Vector.ConditionalSelect(Vector.LessThan(v, -three), Vector<float>.Zero, ramp).CopyTo(dx[i..]);
        }
        for (; i < x.Length; i++) dx[i] = x[i] < -3f ? 0f : x[i] <= 3f ? g[i] * (x[i] / 3f + 0.5f) : g[i];
    }

    /// <summary>dx = g·(1 − y²).</summary>
    static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> dx)
    {
        int i = 0;
        for (; i <= y.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var v = new Vector<float>(y[i..]);
            (new Vector<float>(g[i..]) * (Vector<float>.One - v * v)).CopyTo(dx[i..]);
        }
        for (; i < y.Length; i++) dx[i] = g[i] * (1 - y[i] * y[i]);
    }

    /// <summary>dx = g·y·(1 − y).</summary>
    static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> dx)
    {
        int i = 0;
        for (; i <= y.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var v = new Vector<float>(y[i..]);
            (new Vector<float>(g[i..]) * v * (Vector<float>.One - v)).CopyTo(dx[i..]);
        }
        for (; i < y.Length; i++) dx[i] = g[i] * y[i] * (1 - y[i]);
    }
}
