using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// A convolution's epilogue done by the GEMM: a bias per row of C (an output channel), then an activation. The
/// Vector512 micro-kernel adds the bias and clamps (no activation, ReLU, ReLU6) in registers before it stores its sums
/// (<see cref="Clamp"/>); with other activations or kernels <see cref="Gemm"/> applies it to each thread's block of C
/// after its product (<see cref="Apply"/>), as the convolution did before. As a pass over the output afterwards it cost
/// as much as the product itself on the wide 1×1 convolutions of MobileNets, whose outputs outgrow the L2 (16 → 96
/// channels at 112×112 on two threads, Zen 5: 301 µs against 198 in registers, 181 for the product alone). The
/// arithmetic is the pass's (the bias added to the finished sum, then max and min), so results do not change. The
/// other activations stay out of the kernel: their code, inlined into every row of every tile shape, made small
/// products (LeNet-5's) 10–18% slower, and a call from the kernel made every product three times slower.
/// </summary>
internal readonly unsafe struct GemmEpilogue(float* bias, ActivationOp? activation, float activationParameter)
{
    /// <summary>The bias of C's rows from the first row this epilogue is given for, or null.</summary>
    readonly float* bias = bias;

    /// <summary>Nothing to apply.</summary>
    public bool IsNone => bias == null && activation == null;

    /// <summary>Whether the Vector512 kernel applies it in registers (<see cref="Clamp"/>): no activation, ReLU or ReLU6.</summary>
    public bool InRegisters => activation is null or ActivationOp.Relu or ActivationOp.Relu6;

    /// <summary>The same epilogue for the rows of C from <paramref name="row"/> on.</summary>
    public GemmEpilogue From(int row) => new(bias == null ? null : bias + row, activation, activationParameter);

    /// <summary>
    /// Row <paramref name="row"/>'s bias and the clamp's bounds as vectors: the kernel stores min(max(sum + shift, low),
    /// high), as the pass's AddAndClamp does (0 is added without a bias, as there: −0 becomes +0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public (Vector512<float> Shift, Vector512<float> Low, Vector512<float> High) Clamp(int row)
    {
        var (low, high) = Bounds(activation);
        return (Vector512.Create(bias == null ? 0f : bias[row]), Vector512.Create(low), Vector512.Create(high));
    }

    /// <summary>The clamp that is no activation, ReLU or ReLU6: [−∞, ∞], [0, ∞] or [0, 6].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (float Low, float High) Bounds(ActivationOp? activation) =>
        (activation == null ? float.NegativeInfinity : 0f, activation == ActivationOp.Relu6 ? 6f : float.PositiveInfinity);

    /// <summary>Applies it to the rows × cols block of C at <paramref name="c"/> (rows counted from this epilogue's first), as a pass.</summary>
    public void Apply(float* c, nint ldc, int rows, int cols)
    {
        if (IsNone) return;
        CpuBackend.Epilogue(new Span<float>(c, (int)((rows - 1) * ldc + cols)), (int)ldc, rows, cols,
            bias == null ? default : new ReadOnlySpan<float>(bias, rows), activation, activationParameter);
    }
}
