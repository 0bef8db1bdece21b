using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// A convolution's epilogue done by the GEMM: a bias per row of C (an output channel), then an activation. The
/// vector micro-kernels add the bias and clamp (no activation, ReLU, ReLU6) in registers before they store their sums
/// (<see cref="Clamp(int)"/>); with other activations or the scalar kernel <see cref="Gemm"/> applies it to each thread's block of C
/// after its product (<see cref="Apply"/>), as the convolution did before. As a pass over the output afterwards it cost
/// as much as the product itself on the wide 1×1 convolutions of MobileNets, whose outputs outgrow the L2 (16 → 96
/// channels at 112×112 on two threads, Zen 5: 301 µs against 198 in registers, 181 for the product alone). The
/// arithmetic is the pass's (the bias added to the finished sum, then max and min), so results do not change. The
/// other activations stay out of the kernel: their code, inlined into every row of every tile shape, made small
/// products (LeNet-5's) 10–18% slower, and a call from the kernel made every product three times slower.
/// With a residual (a matrix laid out as C, <paramref name="residualOffset"/> floats from it), each value becomes
/// activation((sum + bias) + residual): a Conv, the Add of a residual block and its ReLU in one pass, to the bit.
/// </summary>
internal readonly unsafe struct GemmEpilogue(float* bias, ActivationOp? activation, float activationParameter, nint residualOffset = 0, bool adds = false)
{
    /// <summary>The bias of C's rows from the first row this epilogue is given for, or null.</summary>
    readonly float* bias = bias;

    /// <summary>Whether a residual is added (after the bias, before the activation).</summary>
    public readonly bool Adds = adds;

    /// <summary>Where the residual's value for a place of C is, in floats from that place.</summary>
    public readonly nint ResidualOffset = residualOffset;

    /// <summary>Nothing to apply.</summary>
    public bool IsNone => bias == null && activation == null && !Adds;

    /// <summary>Whether the vector kernels apply it in registers (<see cref="Clamp(int)"/>): no activation, ReLU or ReLU6.</summary>
    public bool InRegisters => activation is null or ActivationOp.Relu or ActivationOp.Relu6;

    /// <summary>The same epilogue for the rows of C from <paramref name="row"/> on.</summary>
    public GemmEpilogue From(int row) => new(bias == null ? null : bias + row, activation, activationParameter, ResidualOffset, Adds);

    /// <summary>
    /// Row <paramref name="row"/>'s bias and the clamp's bounds: the kernels store min(max(sum + shift, low), high), as
    /// the pass's AddAndClamp does. The shift is +0 without a bias and a −0 bias counts as +0, so sum + shift is never
    /// −0 and the one-instruction max and min (<see cref="Clamp(Vector256{float}, Vector256{float}, Vector256{float})"/>)
    /// give the IEEE result.
    /// </summary>
    /// <remarks>
    /// With a residual the kernels store min(max(((sum + shift) + residual) + zero, low), high): the shift is the
    /// convolution's own (a bias + 0, or −0, which adds nothing, without one), and zero is +0 before a ReLU's clamp (a −0
    /// sum becomes +0, as IEEE max(−0, 0) has it) and −0, which adds nothing, when there is no activation.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public (float Shift, float Low, float High) Clamp(int row)
    {
        var (low, high) = Bounds(activation);
        return (bias != null ? bias[row] + 0f : Adds ? -0f : 0f, low, high);
    }

    /// <summary>The zero added after the residual (see <see cref="Clamp(int)"/>).</summary>
    public float Zero => activation == null ? -0f : 0f;

    /// <summary>
    /// min(max(value, low), high) by the native max and min, which return their second operand when either is NaN or
    /// both are zeros: the value goes second, so NaN stays NaN, and for a value that is never −0 that is the IEEE result
    /// to the bit. (.NET's IEEE Max and Min are several instructions each without AVX-512: in the 6×16 kernel's registers
    /// they made MobileNets 2–7% slower on Zen 3, where the native pair made them 3–5% faster than the pass.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Clamp(Vector256<float> value, Vector256<float> low, Vector256<float> high) =>
        Vector256.MinNative(high, Vector256.MaxNative(low, value));

    /// <inheritdoc cref="Clamp(Vector256{float}, Vector256{float}, Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Clamp(Vector512<float> value, Vector512<float> low, Vector512<float> high) =>
        Vector512.MinNative(high, Vector512.MaxNative(low, value));

    /// <summary>The clamp that is no activation, ReLU or ReLU6: [−∞, ∞], [0, ∞] or [0, 6].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (float Low, float High) Bounds(ActivationOp? activation) =>
        (activation == null ? float.NegativeInfinity : 0f, activation == ActivationOp.Relu6 ? 6f : float.PositiveInfinity);

    /// <summary>Applies it to the rows × cols block of C at <paramref name="c"/> (rows counted from this epilogue's first), as a pass.</summary>
    public void Apply(float* c, nint ldc, int rows, int cols)
    {
        if (IsNone) return;
        int length = (int)((rows - 1) * ldc + cols);
        CpuBackend.Epilogue(new Span<float>(c, length), (int)ldc, rows, cols,
            bias == null ? default : new ReadOnlySpan<float>(bias, rows), activation, activationParameter,
            Adds ? new ReadOnlySpan<float>(c + ResidualOffset, length) : default);
    }
}
