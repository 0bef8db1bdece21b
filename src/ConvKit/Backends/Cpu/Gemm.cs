using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// Single-precision matrix multiply for the CPU backend, GotoBLAS/BLIS style: C is cut into one block per thread,
/// and each block runs the cache-blocked loops of <see cref="GemmBlocking"/> around a register-tiled micro-kernel
/// from <see cref="GemmKernels"/>.
/// </summary>
public static unsafe class Gemm
{
    // Below this many multiply-adds (about 20 µs on one core) a product runs on the calling thread: handing half
    // of it to another thread costs about as much as it saves.
    const long MinParallelWork = 1 << 20;

    /// <summary>C = alpha·op(A)·op(B) + beta·C, all row-major. op(A) is m×k, op(B) is k×n, C is m×n.</summary>
    /// <param name="a">A, read as (k×m with lda) when <paramref name="transA"/>, else (m×k with lda)</param>
    /// <param name="b">B, read as (n×k with ldb) when <paramref name="transB"/>, else (k×n with ldb)</param>
    /// <remarks>
    /// With beta = 0, C is overwritten without being read. With k = 0 or alpha = 0, A and B are not read and C
    /// becomes beta·C (as in BLAS).
    /// </remarks>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
        => Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Threading.NumThreads);

    /// <summary>The fastest micro-kernel family this machine runs natively.</summary>
    internal static GemmIsa BestIsa { get; } = GemmKernels.BestIsa();

    /// <summary>
    /// The product on at most <paramref name="threads"/> threads (callers that parallelise around it pass 1), then, if
    /// given, a bias per row of C, a residual laid out as C and an activation: a convolution's epilogue, in the kernel's
    /// registers where it can, else as a pass over each thread's block (<see cref="GemmEpilogue"/>).
    /// </summary>
    /// <remarks>
    /// A product at most 32 columns wide (the weight gradient of a convolution with 16 or 32 output channels)
    /// would leave half or more of the 64-wide Vector512 tile empty; the 16-wide Vector256 tile wastes none, and
    /// ran 2.6× (32 columns) to 6× (16 columns) faster on Zen 4, where both widths have the same FMA throughput.
    /// </remarks>
    internal static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, int threads,
        ReadOnlySpan<float> rowBias = default, ActivationOp? activation = null, float activationParameter = 0f, ReadOnlySpan<float> residual = default)
        => Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads,
            n <= 32 && BestIsa == GemmIsa.Vector512 ? GemmIsa.Vector256 : BestIsa, rowBias, activation, activationParameter, residual);

    /// <summary>The product (and epilogue) on at most <paramref name="threads"/> threads with the given kernel family (tests run each).</summary>
    internal static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc,
        int threads, GemmIsa isa, ReadOnlySpan<float> rowBias = default, ActivationOp? activation = null, float activationParameter = 0f,
        ReadOnlySpan<float> residual = default)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentException($"Sgemm: sizes must be non-negative, got m={m}, n={n}, k={k}.");
        bool readsAB = k > 0 && alpha != 0;
        if (readsAB)
        {
            CheckOperand("A", a.Length, transA ? k : m, transA ? m : k, lda);
            CheckOperand("B", b.Length, transB ? n : k, transB ? k : n, ldb);
        }
        CheckOperand("C", c.Length, m, n, ldc);
        if (!rowBias.IsEmpty && rowBias.Length < m)
            throw new ArgumentException($"Sgemm: C has {m} rows but the bias has {rowBias.Length} values.");
        if (!residual.IsEmpty) CheckOperand("the residual", residual.Length, m, n, ldc);
        if (m == 0 || n == 0) return;

        var kernel = GemmKernels.For(isa);
        threads = (int)Math.Clamp((long)m * n * k / MinParallelWork, 1, Math.Max(threads, 1));
        fixed (float* pa = a, pb = b, pc = c, pBias = rowBias, pResidual = residual)
        {
            var epilogue = new GemmEpilogue(rowBias.IsEmpty ? null : pBias, activation, activationParameter, (nint)(pResidual - pc), !residual.IsEmpty);
            // The paths without GemmBlocking finish all of C afterwards.
            if (!readsAB) { Scale(c, m, n, ldc, beta); epilogue.Apply(pc, ldc, m, n); return; }
            // One row of C from contiguous rows of A and Bᵀ, or one column from rows of A and a contiguous column of B.
            if (k >= DotMinDepth && m == 1 && (!transA || lda == 1) && transB)
            {
                Dots(pa, pb, ldb, n, k, alpha, beta, pc, 1, threads);
                epilogue.Apply(pc, ldc, m, n);
                return;
            }
            if (k >= DotMinDepth && n == 1 && !transA && (transB || ldb == 1))
            {
                Dots(pb, pa, lda, m, k, alpha, beta, pc, ldc, threads);
                epilogue.Apply(pc, ldc, m, n);
                return;
            }
            // The vector kernels finish their tiles in registers (a residual only the Vector256 family adds there, which
            // this code was measured and tested on); otherwise each block gets the epilogue as a pass.
            bool inKernel = kernel.AppliesEpilogue && epilogue.InRegisters && (!epilogue.Adds || isa == GemmIsa.Vector256);
            var blocks = new GemmBlocking(transA, transB, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, kernel, inKernel ? epilogue : default);
            var finish = inKernel ? default : epilogue;
            nint cAddress = (nint)pc;
            void Block(int i0, int rows, int j0, int cols)
            {
                blocks.Run(i0, rows, j0, cols);
                finish.From(i0).Apply((float*)cAddress + i0 * ldc + j0, ldc, rows, cols);
            }
            if (threads == 1)
            {
                Block(0, m, 0, n);
                return;
            }
            var (rowParts, colParts) = Partition(m, n, threads);
            int rowsPer = RoundUp((m + rowParts - 1) / rowParts, kernel.MR);
            int colsPer = RoundUp((n + colParts - 1) / colParts, kernel.NR);
            Threading.For(rowParts * colParts, threads, part =>
            {
                int i0 = part / colParts * rowsPer, j0 = part % colParts * colsPer;
                if (i0 < m && j0 < n)
                    Block(i0, Math.Min(rowsPer, m - i0), j0, Math.Min(colsPer, n - j0));
            });
        }
    }

    // A product with one row or one column, at least this deep, runs as dot products (Dots).
    const int DotMinDepth = 32;

    /// <summary>
    /// The <paramref name="count"/> values of a product with one row or one column of C, each the dot product of the
    /// vector <paramref name="x"/> with a row of the other operand: c[t·cStride] = alpha·(x · rows[t]) + beta·c[t·cStride].
    /// A fully connected layer on one sample (one row) or a squeeze-and-excitation block's 1×1 convolution (one
    /// column) is bound by reading its weights once; the micro-kernel would pack every weight for a single use (VGG-11's
    /// first classifier layer is 400 MB) and fill one sixth or one sixty-fourth of its tile, where the rows streamed as
    /// they lie: AlexNet's and VGG-11's classifiers took 13 and 33 ms a sample packed, 10 and 19 ms as dot products
    /// (Zen 5). Each sum is taken in the micro-kernel's order (one fused multiply-add at a time along the depth, in the
    /// same slices, then scaled and added to C as its stores do), so a sample's result is the same to the bit alone as
    /// in a batch; eight rows at a time keep eight independent chains in flight. (Vectorised dot products, summing in
    /// another order, ran 7.5 and 15 ms but changed a prediction's last bits with the batch size.)
    /// </summary>
    static void Dots(float* x, float* rows, nint rowStride, int count, int k, float alpha, float beta, float* c, nint cStride, int threads)
    {
        int slice = GemmBlocking.DepthSlice(k);
        void Part(int part)
        {
            int first = (int)((long)part * count / threads), end = (int)((long)(part + 1) * count / threads), t = first;
            if (Avx512F.IsSupported)
                for (; t + 16 <= end; t += 16) SixteenDots(x, rows + t * rowStride, rowStride, k, slice, alpha, beta, c + t * cStride, cStride);
            if (Fma.IsSupported)
            {
                // Rows a multiple of 4 KB apart put each row's current cache line in the same L1 set (64 sets of 64
                // bytes): sixteen rows at once overflow its eight ways, eight fit (a 1000-class classifier on 1024
                // features 430 -> 277 µs, on 2048 835 -> 455, on Zen 3).
                if (rowStride % 1024 != 0)
                    for (; t + 16 <= end; t += 16) EightDots(x, rows + t * rowStride, rowStride, k, slice, alpha, beta, c + t * cStride, cStride, 2);
                for (; t + 8 <= end; t += 8) EightDots(x, rows + t * rowStride, rowStride, k, slice, alpha, beta, c + t * cStride, cStride, 1);
            }
            for (; t + 8 <= end; t += 8)
            {
                float* r = rows + t * rowStride;
                float* r0 = r, r1 = r0 + rowStride, r2 = r1 + rowStride, r3 = r2 + rowStride, r4 = r3 + rowStride, r5 = r4 + rowStride, r6 = r5 + rowStride, r7 = r6 + rowStride;
                for (int p0 = 0; p0 < k; p0 += slice)
                {
                    float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
                    for (int p = p0; p < Math.Min(k, p0 + slice); p++)
                    {
                        float v = x[p];
                        s0 = MathF.FusedMultiplyAdd(v, r0[p], s0); s1 = MathF.FusedMultiplyAdd(v, r1[p], s1);
                        s2 = MathF.FusedMultiplyAdd(v, r2[p], s2); s3 = MathF.FusedMultiplyAdd(v, r3[p], s3);
                        s4 = MathF.FusedMultiplyAdd(v, r4[p], s4); s5 = MathF.FusedMultiplyAdd(v, r5[p], s5);
                        s6 = MathF.FusedMultiplyAdd(v, r6[p], s6); s7 = MathF.FusedMultiplyAdd(v, r7[p], s7);
                    }
                    float* ct = c + t * cStride;
                    Store(ct, p0 == 0, s0); Store(ct + cStride, p0 == 0, s1); Store(ct + 2 * cStride, p0 == 0, s2); Store(ct + 3 * cStride, p0 == 0, s3);
                    Store(ct + 4 * cStride, p0 == 0, s4); Store(ct + 5 * cStride, p0 == 0, s5); Store(ct + 6 * cStride, p0 == 0, s6); Store(ct + 7 * cStride, p0 == 0, s7);
                }
            }
            for (; t < end; t++)
            {
                float* r = rows + t * rowStride;
                for (int p0 = 0; p0 < k; p0 += slice)
                {
                    float sum = 0;
                    for (int p = p0; p < Math.Min(k, p0 + slice); p++) sum = MathF.FusedMultiplyAdd(x[p], r[p], sum);
                    Store(c + t * cStride, p0 == 0, sum);
                }
            }
        }
        void Store(float* target, bool first, float sum) => StoreSum(target, first, sum, alpha, beta);
        if (threads == 1) Part(0);
        else Threading.For(threads, threads, Part);
    }

    /// <summary>
    /// Sixteen of <see cref="Dots"/>' sums at once, one a vector lane, in the same order: each block of 16 × 16 values
    /// of the rows is transposed in registers, so that one vector holds the sixteen rows' values at one depth, and one
    /// fused multiply-add by the broadcast x[p] advances all sixteen sums by that depth. A transpose is 64 permutes
    /// for 256 multiply-adds, where the scalar sums load every value on its own: three to four times the speed, so a
    /// classifier's weights stream at the cache's speed rather than the loop's.
    /// </summary>
    static void SixteenDots(float* x, float* rows, nint rowStride, int k, int slice, float alpha, float beta, float* c, nint cStride)
    {
        // Four rounds of pairing row i with row i + 8, low halves interleaved into row 2i and high halves into row
        // 2i + 1, rotate each value's (row, column) bits by one; after four, by four, which is the transpose.
        var low = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var high = low + Vector512.Create(8);
        for (int p0 = 0; p0 < k; p0 += slice)
        {
            int p1 = Math.Min(k, p0 + slice), p = p0;
            var sum = Vector512<float>.Zero;
            for (; p + 16 <= p1; p += 16)
            {
                var a0 = Vector512.Load(rows + p); var a1 = Vector512.Load(rows + 1 * rowStride + p); var a2 = Vector512.Load(rows + 2 * rowStride + p); var a3 = Vector512.Load(rows + 3 * rowStride + p);
                var a4 = Vector512.Load(rows + 4 * rowStride + p); var a5 = Vector512.Load(rows + 5 * rowStride + p); var a6 = Vector512.Load(rows + 6 * rowStride + p); var a7 = Vector512.Load(rows + 7 * rowStride + p);
                var a8 = Vector512.Load(rows + 8 * rowStride + p); var a9 = Vector512.Load(rows + 9 * rowStride + p); var a10 = Vector512.Load(rows + 10 * rowStride + p); var a11 = Vector512.Load(rows + 11 * rowStride + p);
                var a12 = Vector512.Load(rows + 12 * rowStride + p); var a13 = Vector512.Load(rows + 13 * rowStride + p); var a14 = Vector512.Load(rows + 14 * rowStride + p); var a15 = Vector512.Load(rows + 15 * rowStride + p);
                var b0 = Avx512F.PermuteVar16x32x2(a0, low, a8); var b1 = Avx512F.PermuteVar16x32x2(a0, high, a8); var b2 = Avx512F.PermuteVar16x32x2(a1, low, a9); var b3 = Avx512F.PermuteVar16x32x2(a1, high, a9);
                var b4 = Avx512F.PermuteVar16x32x2(a2, low, a10); var b5 = Avx512F.PermuteVar16x32x2(a2, high, a10); var b6 = Avx512F.PermuteVar16x32x2(a3, low, a11); var b7 = Avx512F.PermuteVar16x32x2(a3, high, a11);
                var b8 = Avx512F.PermuteVar16x32x2(a4, low, a12); var b9 = Avx512F.PermuteVar16x32x2(a4, high, a12); var b10 = Avx512F.PermuteVar16x32x2(a5, low, a13); var b11 = Avx512F.PermuteVar16x32x2(a5, high, a13);
                var b12 = Avx512F.PermuteVar16x32x2(a6, low, a14); var b13 = Avx512F.PermuteVar16x32x2(a6, high, a14); var b14 = Avx512F.PermuteVar16x32x2(a7, low, a15); var b15 = Avx512F.PermuteVar16x32x2(a7, high, a15);
                var c0 = Avx512F.PermuteVar16x32x2(b0, low, b8); var c1 = Avx512F.PermuteVar16x32x2(b0, high, b8); var c2 = Avx512F.PermuteVar16x32x2(b1, low, b9); var c3 = Avx512F.PermuteVar16x32x2(b1, high, b9);
                var c4 = Avx512F.PermuteVar16x32x2(b2, low, b10); var c5 = Avx512F.PermuteVar16x32x2(b2, high, b10); var c6 = Avx512F.PermuteVar16x32x2(b3, low, b11); var c7 = Avx512F.PermuteVar16x32x2(b3, high, b11);
                var c8 = Avx512F.PermuteVar16x32x2(b4, low, b12); var c9 = Avx512F.PermuteVar16x32x2(b4, high, b12); var c10 = Avx512F.PermuteVar16x32x2(b5, low, b13); var c11 = Avx512F.PermuteVar16x32x2(b5, high, b13);
                var c12 = Avx512F.PermuteVar16x32x2(b6, low, b14); var c13 = Avx512F.PermuteVar16x32x2(b6, high, b14); var c14 = Avx512F.PermuteVar16x32x2(b7, low, b15); var c15 = Avx512F.PermuteVar16x32x2(b7, high, b15);
                var d0 = Avx512F.PermuteVar16x32x2(c0, low, c8); var d1 = Avx512F.PermuteVar16x32x2(c0, high, c8); var d2 = Avx512F.PermuteVar16x32x2(c1, low, c9); var d3 = Avx512F.PermuteVar16x32x2(c1, high, c9);
                var d4 = Avx512F.PermuteVar16x32x2(c2, low, c10); var d5 = Avx512F.PermuteVar16x32x2(c2, high, c10); var d6 = Avx512F.PermuteVar16x32x2(c3, low, c11); var d7 = Avx512F.PermuteVar16x32x2(c3, high, c11);
                var d8 = Avx512F.PermuteVar16x32x2(c4, low, c12); var d9 = Avx512F.PermuteVar16x32x2(c4, high, c12); var d10 = Avx512F.PermuteVar16x32x2(c5, low, c13); var d11 = Avx512F.PermuteVar16x32x2(c5, high, c13);
                var d12 = Avx512F.PermuteVar16x32x2(c6, low, c14); var d13 = Avx512F.PermuteVar16x32x2(c6, high, c14); var d14 = Avx512F.PermuteVar16x32x2(c7, low, c15); var d15 = Avx512F.PermuteVar16x32x2(c7, high, c15);
                var e0 = Avx512F.PermuteVar16x32x2(d0, low, d8); var e1 = Avx512F.PermuteVar16x32x2(d0, high, d8); var e2 = Avx512F.PermuteVar16x32x2(d1, low, d9); var e3 = Avx512F.PermuteVar16x32x2(d1, high, d9);
                var e4 = Avx512F.PermuteVar16x32x2(d2, low, d10); var e5 = Avx512F.PermuteVar16x32x2(d2, high, d10); var e6 = Avx512F.PermuteVar16x32x2(d3, low, d11); var e7 = Avx512F.PermuteVar16x32x2(d3, high, d11);
                var e8 = Avx512F.PermuteVar16x32x2(d4, low, d12); var e9 = Avx512F.PermuteVar16x32x2(d4, high, d12); var e10 = Avx512F.PermuteVar16x32x2(d5, low, d13); var e11 = Avx512F.PermuteVar16x32x2(d5, high, d13);
                var e12 = Avx512F.PermuteVar16x32x2(d6, low, d14); var e13 = Avx512F.PermuteVar16x32x2(d6, high, d14); var e14 = Avx512F.PermuteVar16x32x2(d7, low, d15); var e15 = Avx512F.PermuteVar16x32x2(d7, high, d15);
                sum = Vector512.FusedMultiplyAdd(Vector512.Create(x[p + 0]), e0, sum); sum = Vector512.FusedMultiplyAdd(Vector512.Create(x[p + 1]), e1, sum); sum = Vector512.FusedMultiplyAdd(Vector512.Create(x[p + 2]), e2, sum); sum = Vector512.FusedMultiplyAdd(Vector512.Create(x[p + 3]), e3, sum);
                sum = Vector512.FusedMultiplyAdd(Vector512.Create(x[p + 4]), e4, sum); sum = Vector512.FusedMultiplyAdd(Vector512.Create(x[p + 5]), e5, sum); sum = Vector512.FusedMultiplyAdd(Vector512.Create(x[p + 6]), e6, sum); sum = Vector512.FusedMultiplyAdd(Vector512.Create(x[p + 7]), e7, sum);
                sum = Vector512.FusedMultiplyAdd(Vector512.Create(x[p + 8]), e8, sum); sum = Vector512.FusedMultiplyAdd(Vector512.Create(x[p + 9]), e9, sum); sum = Vector512.FusedMultiplyAdd(Vector512.Create(x[p + 10]), e10, sum); sum = Vector512.FusedMultiplyAdd(Vector512.Create(x[p + 11]), e11, sum);
                sum = Vector512.FusedMultiplyAdd(Vector512.Create(x[p + 12]), e12, sum); sum = Vector512.FusedMultiplyAdd(Vector512.Create(x[p + 13]), e13, sum); sum = Vector512.FusedMultiplyAdd(Vector512.Create(x[p + 14]), e14, sum); sum = Vector512.FusedMultiplyAdd(Vector512.Create(x[p + 15]), e15, sum);
            }
            for (; p < p1; p++)
            {
                float* at = rows + p;
                var column = Vector512.Create(at[0], at[rowStride], at[2 * rowStride], at[3 * rowStride], at[4 * rowStride], at[5 * rowStride],
                    at[6 * rowStride], at[7 * rowStride], at[8 * rowStride], at[9 * rowStride], at[10 * rowStride], at[11 * rowStride],
                    at[12 * rowStride], at[13 * rowStride], at[14 * rowStride], at[15 * rowStride]);
                sum = Vector512.FusedMultiplyAdd(Vector512.Create(x[p]), column, sum);
            }
            for (int i = 0; i < 16; i++) StoreSum(c + i * cStride, p0 == 0, sum[i], alpha, beta);
        }
    }

    /// <summary>
    /// Eight or sixteen (<paramref name="groups"/> of eight) of <see cref="Dots"/>' sums at once with AVX2, as
    /// <see cref="SixteenDots"/> does with AVX-512: each block of 8 × 8 values of the rows is transposed in registers
    /// (<see cref="Step"/>), and one fused multiply-add by the broadcast x[p] advances eight sums by one depth, in the
    /// scalar sums' order. Two groups keep two chains of multiply-adds in flight.
    /// </summary>
    static void EightDots(float* x, float* rows, nint rowStride, int k, int slice, float alpha, float beta, float* c, nint cStride, int groups)
    {
        float* second = rows + 8 * rowStride;
        for (int p0 = 0; p0 < k; p0 += slice)
        {
            int p1 = Math.Min(k, p0 + slice), p = p0;
            Vector256<float> sum0 = Vector256<float>.Zero, sum1 = Vector256<float>.Zero;
            for (; p + 8 <= p1; p += 8)
            {
                sum0 = Step(sum0, x + p, rows + p, rowStride);
                if (groups == 2) sum1 = Step(sum1, x + p, second + p, rowStride);
            }
            for (; p < p1; p++)
            {
                sum0 = Vector256.FusedMultiplyAdd(Vector256.Create(x[p]), Column(rows + p, rowStride), sum0);
                if (groups == 2) sum1 = Vector256.FusedMultiplyAdd(Vector256.Create(x[p]), Column(second + p, rowStride), sum1);
            }
            for (int i = 0; i < 8; i++) StoreSum(c + i * cStride, p0 == 0, sum0[i], alpha, beta);
            if (groups == 2)
                for (int i = 0; i < 8; i++) StoreSum(c + (8 + i) * cStride, p0 == 0, sum1[i], alpha, beta);
        }

        static Vector256<float> Column(float* at, nint stride) => Vector256.Create(at[0], at[stride], at[2 * stride], at[3 * stride],
            at[4 * stride], at[5 * stride], at[6 * stride], at[7 * stride]);
    }

    /// <summary>
    /// sum + Σ x[j]·(the eight rows' values at depth j) for j = 0..7, one fused multiply-add a depth: the 8 × 8 block
    /// transposed by pairing rows, then quadruples (each 128-bit half holding depths j and j + 4), then swapping halves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Step(Vector256<float> sum, float* x, float* r, nint stride)
    {
        var r0 = Vector256.Load(r); var r1 = Vector256.Load(r + stride); var r2 = Vector256.Load(r + 2 * stride); var r3 = Vector256.Load(r + 3 * stride);
        var r4 = Vector256.Load(r + 4 * stride); var r5 = Vector256.Load(r + 5 * stride); var r6 = Vector256.Load(r + 6 * stride); var r7 = Vector256.Load(r + 7 * stride);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1); var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5); var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE); var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE); var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        sum = Vector256.FusedMultiplyAdd(Vector256.Create(x[0]), Avx.Permute2x128(u0, u4, 0x20), sum);
        sum = Vector256.FusedMultiplyAdd(Vector256.Create(x[1]), Avx.Permute2x128(u1, u5, 0x20), sum);
        sum = Vector256.FusedMultiplyAdd(Vector256.Create(x[2]), Avx.Permute2x128(u2, u6, 0x20), sum);
        sum = Vector256.FusedMultiplyAdd(Vector256.Create(x[3]), Avx.Permute2x128(u3, u7, 0x20), sum);
        sum = Vector256.FusedMultiplyAdd(Vector256.Create(x[4]), Avx.Permute2x128(u0, u4, 0x31), sum);
        sum = Vector256.FusedMultiplyAdd(Vector256.Create(x[5]), Avx.Permute2x128(u1, u5, 0x31), sum);
        sum = Vector256.FusedMultiplyAdd(Vector256.Create(x[6]), Avx.Permute2x128(u2, u6, 0x31), sum);
        return Vector256.FusedMultiplyAdd(Vector256.Create(x[7]), Avx.Permute2x128(u3, u7, 0x31), sum);
    }

    /// <summary>One depth slice's sum into C as the micro-kernel stores it: the first slice scaled (plus beta·C), each later one added.</summary>
    static void StoreSum(float* target, bool first, float sum, float alpha, float beta)
    {
        float scaled = sum * alpha;
        *target = !first ? *target + scaled : beta == 0 ? scaled : MathF.FusedMultiplyAdd(*target, beta, scaled);
    }

    /// <summary>
    /// Splits C into rowParts × colParts = threads blocks, as square as the factors allow: the blocks are
    /// independent (each packs what it needs of A and B), and squarer blocks read less of the operand they share.
    /// </summary>
    static (int RowParts, int ColParts) Partition(int m, int n, int threads)
    {
        var best = (RowParts: threads, ColParts: 1);
        double bestSkew = double.MaxValue;
        for (int rowParts = 1; rowParts <= threads; rowParts++)
        {
            if (threads % rowParts != 0) continue;
            int colParts = threads / rowParts;
            double skew = Math.Abs(Math.Log((double)m / rowParts) - Math.Log((double)n / colParts));
            if (skew < bestSkew) (best, bestSkew) = ((rowParts, colParts), skew);
        }
        return best;
    }

    static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    static void CheckOperand(string name, int length, int rows, int cols, int ld)
    {
        if (rows == 0 || cols == 0) return;
        if (ld < cols)
            throw new ArgumentException($"Sgemm: {name} is {rows}×{cols} but its leading dimension is {ld} (< {cols}).");
        long needed = (long)(rows - 1) * ld + cols;
        if (length < needed)
            throw new ArgumentException(
                $"Sgemm: {name} is {rows}×{cols} with leading dimension {ld}, which needs {needed} elements; the span has {length}.");
    }

    /// <summary>C = beta·C over the m×n view (zeros, without reading C, when beta is 0).</summary>
    static void Scale(Span<float> c, int m, int n, int ldc, float beta)
    {
        if (beta == 1) return;
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (beta == 0) row.Clear();
            else
                for (int j = 0; j < n; j++) row[j] *= beta;
        }
    }
}
