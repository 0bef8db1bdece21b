using System.Buffers;
using System.Runtime.CompilerServices;
using System.Numerics.Tensors;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// Single-precision matrix multiply for the CPU backend, GotoBLAS/BLIS style: B is packed in KC×NC blocks
/// (kept in L2/L3), A in MC×KC blocks (L2), and a register-tiled micro-kernel (<see cref="GemmKernels"/>)
/// sweeps MR×NR tiles of C, re-reading one KC×NR sliver of B from L1 for every MR rows of A.
/// Transposed operands and alpha are absorbed by the packing, so the kernel sees one layout only.
/// <see cref="GemmReference"/> is the plain definition this must agree with.
/// </summary>
public static unsafe class Gemm
{
    // KC×NR floats of B (16 KB at NR = 32) stay in the 32 KB L1 next to the A sliver; MC×KC of A (128 KB)
    // sits in L2; KC×NC of B (1 MB) in L3, shared by the MC blocks.
    const int KC = 128, MC = 256, NC = 2048;
    // Below this many multiply-adds a second thread costs more than it saves.
    const long ParallelThreshold = 48L * 48 * 48;

    /// <summary>C = alpha·op(A)·op(B) + beta·C, row-major; same contract as <see cref="GemmReference.Sgemm"/>.</summary>
    /// <param name="a">A, read as (k×m, lda) when <paramref name="transA"/>, else (m×k, lda)</param>
    /// <param name="b">B, read as (n×k, ldb) when <paramref name="transB"/>, else (k×n, ldb)</param>
    /// <param name="c">C (m×n, ldc); with beta = 0 it is only written, never read</param>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
        => Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Threading.NumThreads);

    internal static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, int threads)
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0) return;
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (beta == 0) row.Clear();
            else if (beta != 1) TensorPrimitives.Multiply(row, beta, row);
        }
        if (k == 0 || alpha == 0) return;

        fixed (float* pa = a, pb = b, pc = c)
        {
            var problem = new Problem(transA, transB, k, alpha, pa, lda, pb, ldb, pc, ldc);
            long work = (long)m * n * k;
            int workers = work < ParallelThreshold ? 1 : Math.Min(threads, Math.Max(m / GemmKernels.MR, n / GemmKernels.NR));
            if (workers <= 1)
            {
                problem.Run(0, m, 0, n);
                return;
            }
            // Split C along its longer side into one slab per thread, aligned to whole tiles, so threads share
            // no output and each packs only what its slab needs.
            bool splitColumns = n > 4 * m;
            int extent = splitColumns ? n : m, align = splitColumns ? GemmKernels.NR : GemmKernels.MR;
            int slab = ((extent + workers - 1) / workers + align - 1) / align * align;
            Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
            {
                int start = w * slab, end = Math.Min(extent, start + slab);
                if (start >= end) return;
                if (splitColumns) problem.Run(0, m, start, end);
                else problem.Run(start, end, 0, n);
            });
        }
    }

    static void Validate(bool transA, bool transB, int m, int n, int k, int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"Sgemm: negative size m={m}, n={n}, k={k}.");
        static void Check(string name, int rows, int cols, int ld, int length)
        {
            if (ld < Math.Max(1, cols))
                throw new ArgumentException($"Sgemm: leading dimension of {name} is {ld}, less than its {cols} columns.");
            long needed = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
            if (length < needed)
                throw new ArgumentException($"Sgemm: {name} ({rows}×{cols}, leading dimension {ld}) needs {needed} values but has {length}.");
        }
        Check("A", transA ? k : m, transA ? m : k, lda, aLength);
        Check("B", transB ? n : k, transB ? k : n, ldb, bLength);
        Check("C", m, n, ldc, cLength);
    }

    /// <summary>One multiplication's operands, pinned; <see cref="Run"/> computes a rectangle of C.</summary>
    // Fully optimised from the first call: tiered compilation would otherwise run the first products' packing
    // loops unoptimised.
    readonly struct Problem(bool transA, bool transB, int k, float alpha, float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int rowStart, int rowEnd, int columnStart, int columnEnd)
        {
            int mr = GemmKernels.MR, nr = GemmKernels.NR;
            int packedA = MC * KC, packedB = KC * (NC + nr);
            float[] bufferA = ArrayPool<float>.Shared.Rent(packedA + 16), bufferB = ArrayPool<float>.Shared.Rent(packedB + 16);
            try
            {
                fixed (float* rawA = bufferA, rawB = bufferB)
                {
                    // 64-byte aligned panels: every vector load of B is one cache line.
                    float* pa = Align(rawA), pb = Align(rawB);
                    for (int jc = columnStart; jc < columnEnd; jc += NC)
                    {
                        int nc = Math.Min(NC, columnEnd - jc);
                        for (int pc = 0; pc < k; pc += KC)
                        {
                            int kc = Math.Min(KC, k - pc);
                            PackB(pc, kc, jc, nc, pb);
                            for (int ic = rowStart; ic < rowEnd; ic += MC)
                            {
                                int mc = Math.Min(MC, rowEnd - ic);
                                PackA(ic, mc, pc, kc, pa);
                                for (int jr = 0; jr < nc; jr += nr)
                                    for (int ir = 0; ir < mc; ir += mr)
                                        GemmKernels.Tile(kc, pa + ir * kc, pb + jr * kc, c + (long)(ic + ir) * ldc + jc + jr, ldc,
                                            Math.Min(mr, mc - ir), Math.Min(nr, nc - jr));
                            }
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(bufferA);
                ArrayPool<float>.Shared.Return(bufferB);
            }
        }

        static float* Align(float* p) => (float*)(((nint)p + 63) & ~(nint)63);

        /// <summary>alpha·A[rows, depth] into MR-row panels: panel r holds, for each step p, rows r·MR.. of column p.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void PackA(int row0, int rows, int depth0, int depth, float* packed)
        {
            int mr = GemmKernels.MR;
            for (int panel = 0; panel < rows; panel += mr, packed += mr * depth)
            {
                int height = Math.Min(mr, rows - panel);
                for (int r = 0; r < mr; r++)
                {
                    float* destination = packed + r;
                    if (r >= height)
                    {
                        for (int p = 0; p < depth; p++) destination[p * mr] = 0;
                        continue;
                    }
                    int i = row0 + panel + r;
                    if (transA)
                        for (int p = 0; p < depth; p++) destination[p * mr] = alpha * a[(long)(depth0 + p) * lda + i];
                    else
                    {
                        float* source = a + (long)i * lda + depth0;
                        for (int p = 0; p < depth; p++) destination[p * mr] = alpha * source[p];
                    }
                }
            }
        }

        /// <summary>B[depth, columns] into NR-column panels: panel j holds, for each step p, columns j·NR.. of row p.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void PackB(int depth0, int depth, int column0, int columns, float* packed)
        {
            int nr = GemmKernels.NR;
            for (int panel = 0; panel < columns; panel += nr, packed += nr * depth)
            {
                int width = Math.Min(nr, columns - panel);
                int j0 = column0 + panel;
                for (int p = 0; p < depth; p++)
                {
                    float* destination = packed + p * nr;
                    if (transB)
                        for (int j = 0; j < width; j++) destination[j] = b[(long)(j0 + j) * ldb + depth0 + p];
                    else
                        new ReadOnlySpan<float>(b + (long)(depth0 + p) * ldb + j0, width).CopyTo(new Span<float>(destination, width));
                    for (int j = width; j < nr; j++) destination[j] = 0;
                }
            }
        }
    }
}
