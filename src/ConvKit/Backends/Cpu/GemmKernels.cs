using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Backends.Cpu;

/// <summary>Which micro-kernel family <see cref="Gemm"/> runs.</summary>
internal enum GemmIsa { Scalar, Vector256, Vector512 }

/// <summary>
/// A micro-kernel and its register tile: it computes an MR×NR block of C from an MR×kc micro-panel of A and a
/// kc×NR micro-panel of B, and stores C = alpha·acc + beta·C (beta = 0: C is written without being read).
/// A's element (r, p) is at a[r·aRow + p·aStep] and B's element (p, j) at b[p·bStep + j], so a kernel reads a
/// packed panel (aRow = 1, aStep = MR; bStep = NR) or the caller's matrix in place with the same code.
/// </summary>
internal readonly unsafe struct GemmMicroKernel(
    int mr, int nr, delegate*<int, float*, nint, nint, float*, nint, float*, nint, float, float, GemmEpilogue*, void> run,
    delegate*<int, int, float*, nint, nint, float*, nint, float*, nint, float, float, GemmEpilogue*, void> runRows = null,
    delegate*<int, int, int, float*, nint, nint, float*, nint, float*, nint, float, float, GemmEpilogue*, void> runNarrow = null, int narrowWidth = 0)
{
    public readonly int MR = mr, NR = nr;
    /// <summary>
    /// The tile; the last argument, when not null, is the epilogue to finish the stored sums with (<see cref="GemmEpilogue"/>,
    /// rows counted from the tile's first), which only a family that <see cref="AppliesEpilogue"/> is given.
    /// </summary>
    public readonly delegate*<int, float*, nint, nint, float*, nint, float*, nint, float, float, GemmEpilogue*, void> Run = run;

    /// <summary>Whether the kernels apply an <see cref="GemmEpilogue.InRegisters"/> epilogue as they store (the vector families).</summary>
    public bool AppliesEpilogue => NR > 4;

    /// <summary>
    /// The same tile for fewer than MR rows (its first argument), reading and writing only those rows; null when the
    /// family has none, and a short panel is then padded to MR rows.
    /// </summary>
    public readonly delegate*<int, int, float*, nint, nint, float*, nint, float*, nint, float, float, GemmEpilogue*, void> RunRows = runRows;

    /// <summary>
    /// The tile cut to its first (first argument) NarrowWidth-wide column vectors, for (second argument) 1 to MR rows,
    /// reading and writing only those: a ragged last panel (196 = 3·64 + 4 positions of a 14×14 map) then costs a
    /// 16-wide tile instead of a 64-wide one. Null when the family has none.
    /// </summary>
    public readonly delegate*<int, int, int, float*, nint, nint, float*, nint, float*, nint, float, float, GemmEpilogue*, void> RunNarrow = runNarrow;
    /// <summary>The width of one column vector of <see cref="RunNarrow"/>.</summary>
    public readonly int NarrowWidth = narrowWidth;
}

/// <summary>
/// The register-tiled micro-kernels. Each keeps its whole C tile in registers for the kc loop, which per step
/// loads one row of B as vectors and broadcasts MR values of A, one fused multiply-add per accumulator.
/// </summary>
internal static unsafe class GemmKernels
{
    public static GemmIsa BestIsa() =>
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? GemmIsa.Vector512
        : Vector256.IsHardwareAccelerated && Fma.IsSupported ? GemmIsa.Vector256
        : GemmIsa.Scalar;

    public static GemmMicroKernel For(GemmIsa isa) => isa switch
    {
        GemmIsa.Vector512 => new(6, 64, &Kernel6x64<Six, Four>, &Rows<Four>, &Kernel6x64Narrow, 16),
        GemmIsa.Vector256 => new(6, 16, &Kernel6x16<Six, Two>, &Rows16, &Narrow16, 8),
        _ => new(4, 4, &Kernel4x4),
    };

    /// <summary>
    /// 6×64 with Vector512: 24 accumulators + 4 B vectors + 1 broadcast of the 32 zmm registers. Per step 4 loads
    /// and 6 broadcasts feed 24 FMAs, so the FMA pipe (one zmm FMA a cycle on double-pumped Zen 4) stays the
    /// bottleneck; 6 rows also leave enough general registers for six row pointers when A is read in place.
    /// (12×32 and 8×48 measured the same in the kernel, 6×64 fits conv shapes with 64 channels exactly.)
    /// The tile has <typeparamref name="T"/>.Count ≤ 6 rows and <typeparamref name="V"/>.Count ≤ 4 column vectors of 16:
    /// the JIT compiles one loop per pair and drops the rows and vectors past them, so a product's last, short panel
    /// (49 output positions are 8 panels and 1 row) or narrow one (196 columns are 3 panels and 4 columns) costs only
    /// its own rows and vectors instead of a padded 6×64 tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel6x64<T, V>(int kc, float* a, nint aRow, nint aStep, float* b, nint bStep, float* c, nint ldc, float alpha, float beta,
        GemmEpilogue* epilogue) where T : struct, ICount where V : struct, ICount
    {
        float* a0 = a, a1 = a0 + aRow, a2 = a1 + aRow, a3 = a2 + aRow, a4 = a3 + aRow, a5 = a4 + aRow;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c43 = default;
        Vector512<float> c50 = default, c51 = default, c52 = default, c53 = default;
        nint o = 0;
        for (int p = 0; p < kc; p++, o += aStep, b += bStep)
        {
            // Unused column vectors are zero and never stored: the JIT drops their loads and FMAs for narrow V.
            var b0 = Vector512.Load(b);
            var b1 = V.Count > 1 ? Vector512.Load(b + 16) : default;
            var b2 = V.Count > 2 ? Vector512.Load(b + 32) : default;
            var b3 = V.Count > 3 ? Vector512.Load(b + 48) : default;
            var x = Vector512.Create(a0[o]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
            if (V.Count > 1) c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            if (V.Count > 2) c02 = Vector512.FusedMultiplyAdd(x, b2, c02);
            if (V.Count > 3) c03 = Vector512.FusedMultiplyAdd(x, b3, c03);
            if (T.Count < 2) continue;
            x = Vector512.Create(a1[o]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
            if (V.Count > 1) c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            if (V.Count > 2) c12 = Vector512.FusedMultiplyAdd(x, b2, c12);
            if (V.Count > 3) c13 = Vector512.FusedMultiplyAdd(x, b3, c13);
            if (T.Count < 3) continue;
            x = Vector512.Create(a2[o]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
            if (V.Count > 1) c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            if (V.Count > 2) c22 = Vector512.FusedMultiplyAdd(x, b2, c22);
            if (V.Count > 3) c23 = Vector512.FusedMultiplyAdd(x, b3, c23);
            if (T.Count < 4) continue;
            x = Vector512.Create(a3[o]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
            if (V.Count > 1) c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            if (V.Count > 2) c32 = Vector512.FusedMultiplyAdd(x, b2, c32);
            if (V.Count > 3) c33 = Vector512.FusedMultiplyAdd(x, b3, c33);
            if (T.Count < 5) continue;
            x = Vector512.Create(a4[o]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40);
            if (V.Count > 1) c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            if (V.Count > 2) c42 = Vector512.FusedMultiplyAdd(x, b2, c42);
            if (V.Count > 3) c43 = Vector512.FusedMultiplyAdd(x, b3, c43);
            if (T.Count < 6) continue;
            x = Vector512.Create(a5[o]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50);
            if (V.Count > 1) c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            if (V.Count > 2) c52 = Vector512.FusedMultiplyAdd(x, b2, c52);
            if (V.Count > 3) c53 = Vector512.FusedMultiplyAdd(x, b3, c53);
        }
        Store<V>(c, alpha, beta, c00, c01, c02, c03, epilogue, 0);
        if (T.Count > 1) Store<V>(c + ldc, alpha, beta, c10, c11, c12, c13, epilogue, 1);
        if (T.Count > 2) Store<V>(c + 2 * ldc, alpha, beta, c20, c21, c22, c23, epilogue, 2);
        if (T.Count > 3) Store<V>(c + 3 * ldc, alpha, beta, c30, c31, c32, c33, epilogue, 3);
        if (T.Count > 4) Store<V>(c + 4 * ldc, alpha, beta, c40, c41, c42, c43, epilogue, 4);
        if (T.Count > 5) Store<V>(c + 5 * ldc, alpha, beta, c50, c51, c52, c53, epilogue, 5);
    }

    /// <summary>The 6×64 tile cut to its first 1 to 3 column vectors of 16, for 1 to 6 rows.</summary>
    static void Kernel6x64Narrow(int vectors, int rows, int kc, float* a, nint aRow, nint aStep, float* b, nint bStep, float* c, nint ldc, float alpha, float beta,
        GemmEpilogue* epilogue)
    {
        switch (vectors)
        {
            case 1: Rows<One>(rows, kc, a, aRow, aStep, b, bStep, c, ldc, alpha, beta, epilogue); break;
            case 2: Rows<Two>(rows, kc, a, aRow, aStep, b, bStep, c, ldc, alpha, beta, epilogue); break;
            case 3: Rows<Three>(rows, kc, a, aRow, aStep, b, bStep, c, ldc, alpha, beta, epilogue); break;
            default: throw new ArgumentOutOfRangeException(nameof(vectors), vectors, "Kernel6x64Narrow takes 1 to 3 column vectors.");
        }
    }

    /// <summary>The 6×64 tile's first <typeparamref name="V"/>.Count column vectors for 1 to 6 rows (a short last panel's).</summary>
    static void Rows<V>(int rows, int kc, float* a, nint aRow, nint aStep, float* b, nint bStep, float* c, nint ldc, float alpha, float beta,
        GemmEpilogue* epilogue) where V : struct, ICount
    {
        switch (rows)
        {
            case 1: Kernel6x64<One, V>(kc, a, aRow, aStep, b, bStep, c, ldc, alpha, beta, epilogue); break;
            case 2: Kernel6x64<Two, V>(kc, a, aRow, aStep, b, bStep, c, ldc, alpha, beta, epilogue); break;
            case 3: Kernel6x64<Three, V>(kc, a, aRow, aStep, b, bStep, c, ldc, alpha, beta, epilogue); break;
            case 4: Kernel6x64<Four, V>(kc, a, aRow, aStep, b, bStep, c, ldc, alpha, beta, epilogue); break;
            case 5: Kernel6x64<Five, V>(kc, a, aRow, aStep, b, bStep, c, ldc, alpha, beta, epilogue); break;
            case 6: Kernel6x64<Six, V>(kc, a, aRow, aStep, b, bStep, c, ldc, alpha, beta, epilogue); break;
            default: throw new ArgumentOutOfRangeException(nameof(rows), rows, "The 6×64 tile takes 1 to 6 rows.");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store<V>(float* c, float alpha, float beta, Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3,
        GemmEpilogue* epilogue, int row) where V : struct, ICount
    {
        // The epilogue is the bias and a clamp (GemmEpilogue.InRegisters): three operations a vector, no branches and no
        // calls, which would make the JIT keep the accumulators in memory.
        bool finishes = epilogue != null;
        var (shift, low, high) = finishes ? epilogue->Clamp(row) : default;
        Store(c, alpha, beta, s0, finishes, shift, low, high);
        if (V.Count > 1) Store(c + 16, alpha, beta, s1, finishes, shift, low, high);
        if (V.Count > 2) Store(c + 32, alpha, beta, s2, finishes, shift, low, high);
        if (V.Count > 3) Store(c + 48, alpha, beta, s3, finishes, shift, low, high);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, float alpha, float beta, Vector512<float> sum, bool finishes, float shift, float low, float high)
    {
        var scaled = sum * alpha;
        var value = beta == 0 ? scaled : Vector512.FusedMultiplyAdd(Vector512.Load(c), Vector512.Create(beta), scaled);
        Vector512.Store(finishes ? GemmEpilogue.Clamp(value + Vector512.Create(shift), Vector512.Create(low), Vector512.Create(high)) : value, c);
    }

    /// <summary>
    /// 6×16 with Vector256, for AVX2 machines with 16 ymm registers: 12 accumulators + 2 B vectors + 1 broadcast
    /// (the classic Haswell tile: 12 independent FMAs hide the 4–5 cycle latency on two FMA pipes). Like
    /// <see cref="Kernel6x64{T, V}"/> it has <typeparamref name="T"/>.Count ≤ 6 rows, so a short last panel is read in
    /// place instead of being copied and padded (ResNet-50, MobileNetV2 and SqueezeNet 3–5% faster on Zen 3). It clamps
    /// in registers as well: as a pass over C the epilogue cost ResNet-50, EfficientNet-B0 and SqueezeNet 5–7% on Zen 3.
    /// With <typeparamref name="V"/>.Count = 1 it is cut to its first 8 columns (<see cref="Narrow16"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel6x16<T, V>(int kc, float* a, nint aRow, nint aStep, float* b, nint bStep, float* c, nint ldc, float alpha, float beta,
        GemmEpilogue* epilogue) where T : struct, ICount where V : struct, ICount
    {
        float* a0 = a, a1 = a0 + aRow, a2 = a1 + aRow, a3 = a2 + aRow, a4 = a3 + aRow, a5 = a4 + aRow;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        nint o = 0;
        for (int p = 0; p < kc; p++, o += aStep, b += bStep)
        {
            // With one column vector (V) the second is zero and never stored: the JIT drops its load and FMAs.
            var b0 = Vector256.Load(b); var b1 = V.Count > 1 ? Vector256.Load(b + 8) : default;
            var x = Vector256.Create(a0[o]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); if (V.Count > 1) c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            if (T.Count < 2) continue;
            x = Vector256.Create(a1[o]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); if (V.Count > 1) c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            if (T.Count < 3) continue;
            x = Vector256.Create(a2[o]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20); if (V.Count > 1) c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            if (T.Count < 4) continue;
            x = Vector256.Create(a3[o]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30); if (V.Count > 1) c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            if (T.Count < 5) continue;
            x = Vector256.Create(a4[o]);
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40); if (V.Count > 1) c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            if (T.Count < 6) continue;
            x = Vector256.Create(a5[o]);
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50); if (V.Count > 1) c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
        }
        Store<V>(c, alpha, beta, c00, c01, epilogue, 0);
        if (T.Count > 1) Store<V>(c + ldc, alpha, beta, c10, c11, epilogue, 1);
        if (T.Count > 2) Store<V>(c + 2 * ldc, alpha, beta, c20, c21, epilogue, 2);
        if (T.Count > 3) Store<V>(c + 3 * ldc, alpha, beta, c30, c31, epilogue, 3);
        if (T.Count > 4) Store<V>(c + 4 * ldc, alpha, beta, c40, c41, epilogue, 4);
        if (T.Count > 5) Store<V>(c + 5 * ldc, alpha, beta, c50, c51, epilogue, 5);
    }

    /// <summary>The 6×16 tile for 1 to 6 rows (a short last panel's).</summary>
    static void Rows16(int rows, int kc, float* a, nint aRow, nint aStep, float* b, nint bStep, float* c, nint ldc, float alpha, float beta,
        GemmEpilogue* epilogue) => Rows16<Two>(rows, kc, a, aRow, aStep, b, bStep, c, ldc, alpha, beta, epilogue);

    /// <summary>
    /// The 6×16 tile cut to its first 8 columns, for 1 to 6 rows (first argument 1: one vector of 8): a ragged last panel
    /// of at most 8 columns (49 = 3·16 + 1 positions of a 7×7 map, 196 = 12·16 + 4 of a 14×14 one) then costs half a tile.
    /// </summary>
    static void Narrow16(int vectors, int rows, int kc, float* a, nint aRow, nint aStep, float* b, nint bStep, float* c, nint ldc, float alpha, float beta,
        GemmEpilogue* epilogue)
    {
        if (vectors != 1) throw new ArgumentOutOfRangeException(nameof(vectors), vectors, "The 6×16 tile's narrow form has one vector of 8.");
        Rows16<One>(rows, kc, a, aRow, aStep, b, bStep, c, ldc, alpha, beta, epilogue);
    }

    static void Rows16<V>(int rows, int kc, float* a, nint aRow, nint aStep, float* b, nint bStep, float* c, nint ldc, float alpha, float beta,
        GemmEpilogue* epilogue) where V : struct, ICount
    {
        switch (rows)
        {
            case 1: Kernel6x16<One, V>(kc, a, aRow, aStep, b, bStep, c, ldc, alpha, beta, epilogue); break;
            case 2: Kernel6x16<Two, V>(kc, a, aRow, aStep, b, bStep, c, ldc, alpha, beta, epilogue); break;
            case 3: Kernel6x16<Three, V>(kc, a, aRow, aStep, b, bStep, c, ldc, alpha, beta, epilogue); break;
            case 4: Kernel6x16<Four, V>(kc, a, aRow, aStep, b, bStep, c, ldc, alpha, beta, epilogue); break;
            case 5: Kernel6x16<Five, V>(kc, a, aRow, aStep, b, bStep, c, ldc, alpha, beta, epilogue); break;
            case 6: Kernel6x16<Six, V>(kc, a, aRow, aStep, b, bStep, c, ldc, alpha, beta, epilogue); break;
            default: throw new ArgumentOutOfRangeException(nameof(rows), rows, "The 6×16 tile takes 1 to 6 rows.");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store<V>(float* c, float alpha, float beta, Vector256<float> s0, Vector256<float> s1, GemmEpilogue* epilogue, int row)
        where V : struct, ICount
    {
        // With one column vector (V) nothing past the first 8 columns of C, or of the residual, is read or written.
        bool two = V.Count > 1;
        var scaled0 = s0 * alpha;
        var scaled1 = s1 * alpha;
        if (beta != 0)
        {
            scaled0 = Vector256.FusedMultiplyAdd(Vector256.Load(c), Vector256.Create(beta), scaled0);
            if (two) scaled1 = Vector256.FusedMultiplyAdd(Vector256.Load(c + 8), Vector256.Create(beta), scaled1);
        }
        if (epilogue != null)
        {
            var (shift, low, high) = epilogue->Clamp(row);
            var (s, lo, hi) = (Vector256.Create(shift), Vector256.Create(low), Vector256.Create(high));
            scaled0 += s;
            scaled1 += s;
            if (epilogue->Adds)
            {
                // A residual block's Add (and the ReLU after it): see GemmEpilogue.Clamp(int).
                float* r = c + epilogue->ResidualOffset;
                var zero = Vector256.Create(epilogue->Zero);
                scaled0 = scaled0 + Vector256.Load(r) + zero;
                if (two) scaled1 = scaled1 + Vector256.Load(r + 8) + zero;
            }
            scaled0 = GemmEpilogue.Clamp(scaled0, lo, hi);
            scaled1 = GemmEpilogue.Clamp(scaled1, lo, hi);
        }
        Vector256.Store(scaled0, c);
        if (two) Vector256.Store(scaled1, c + 8);
    }

    /// <summary>Portable 4×4 fallback: 16 scalar accumulators, the same panel layout as the vector kernels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel4x4(int kc, float* a, nint aRow, nint aStep, float* b, nint bStep, float* c, nint ldc, float alpha, float beta, GemmEpilogue* _)
    {
        float* a0 = a, a1 = a0 + aRow, a2 = a1 + aRow, a3 = a2 + aRow;
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        nint o = 0;
        for (int p = 0; p < kc; p++, o += aStep, b += bStep)
        {
            float b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            float x = a0[o];
            c00 += x * b0; c01 += x * b1; c02 += x * b2; c03 += x * b3;
            x = a1[o];
            c10 += x * b0; c11 += x * b1; c12 += x * b2; c13 += x * b3;
            x = a2[o];
            c20 += x * b0; c21 += x * b1; c22 += x * b2; c23 += x * b3;
            x = a3[o];
            c30 += x * b0; c31 += x * b1; c32 += x * b2; c33 += x * b3;
        }
        Store(c, alpha, beta, c00, c01, c02, c03);
        Store(c + ldc, alpha, beta, c10, c11, c12, c13);
        Store(c + 2 * ldc, alpha, beta, c20, c21, c22, c23);
        Store(c + 3 * ldc, alpha, beta, c30, c31, c32, c33);
    }

    static void Store(float* c, float alpha, float beta, float s0, float s1, float s2, float s3)
    {
        c[0] = alpha * s0 + (beta == 0 ? 0 : beta * c[0]);
        c[1] = alpha * s1 + (beta == 0 ? 0 : beta * c[1]);
        c[2] = alpha * s2 + (beta == 0 ? 0 : beta * c[2]);
        c[3] = alpha * s3 + (beta == 0 ? 0 : beta * c[3]);
    }
}
