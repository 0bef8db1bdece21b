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

    /// <summary>The product on at most <paramref name="threads"/> threads (callers that parallelise around it pass 1).</summary>
    /// <remarks>
    /// A product at most 32 columns wide (the weight gradient of a convolution with 16 or 32 output channels)
    /// would leave half or more of the 64-wide Vector512 tile empty; the 16-wide Vector256 tile wastes none, and
    /// ran 2.6× (32 columns) to 6× (16 columns) faster on Zen 4, where both widths have the same FMA throughput.
    /// </remarks>
    internal static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, int threads)
        => Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads,
            n <= 32 && BestIsa == GemmIsa.Vector512 ? GemmIsa.Vector256 : BestIsa);

    /// <summary>The product on at most <paramref name="threads"/> threads with the given kernel family (tests run each).</summary>
    internal static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc,
        int threads, GemmIsa isa)
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
        if (m == 0 || n == 0) return;
        if (!readsAB) { Scale(c, m, n, ldc, beta); return; }

        var kernel = GemmKernels.For(isa);
        threads = (int)Math.Clamp((long)m * n * k / MinParallelWork, 1, Math.Max(threads, 1));
        fixed (float* pa = a, pb = b, pc = c)
        {
            // One row of C from contiguous rows of A and Bᵀ, or one column from rows of A and a contiguous column of B.
            if (k >= DotMinDepth && m == 1 && (!transA || lda == 1) && transB)
            {
                Dots(pa, pb, ldb, n, k, alpha, beta, pc, 1, threads);
                return;
            }
            if (k >= DotMinDepth && n == 1 && !transA && (transB || ldb == 1))
            {
                Dots(pb, pa, lda, m, k, alpha, beta, pc, ldc, threads);
                return;
            }
            var blocks = new GemmBlocking(transA, transB, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, kernel);
            if (threads == 1)
            {
                blocks.Run(0, m, 0, n);
                return;
            }
            var (rowParts, colParts) = Partition(m, n, threads);
            int rowsPer = RoundUp((m + rowParts - 1) / rowParts, kernel.MR);
            int colsPer = RoundUp((n + colParts - 1) / colParts, kernel.NR);
            Parallel.For(0, rowParts * colParts, new ParallelOptions { MaxDegreeOfParallelism = threads }, part =>
            {
                int i0 = part / colParts * rowsPer, j0 = part % colParts * colsPer;
                if (i0 < m && j0 < n)
                    blocks.Run(i0, Math.Min(rowsPer, m - i0), j0, Math.Min(colsPer, n - j0));
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
        // As the micro-kernel stores: the first slice scaled (plus beta·C), each later one added to it.
        void Store(float* target, bool first, float sum)
        {
            float scaled = sum * alpha;
            *target = !first ? *target + scaled : beta == 0 ? scaled : MathF.FusedMultiplyAdd(*target, beta, scaled);
        }
        if (threads == 1) Part(0);
        else Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, Part);
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
