using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// Copies blocks of op(A) and op(B) into the contiguous panel layout the micro-kernels stream through.
/// Transposition is absorbed here (no separate transposed copy of an operand is ever made); partial panels are
/// zero-padded so the kernels never branch on edges (the padding only produces results that are never written back).
/// </summary>
static unsafe class GemmPacking
{
    /// <summary>
    /// Packs op(A)[i0..i0+mc, p0..p0+kc] as panels of mr rows: panel q holds, for each p, the mr values
    /// op(A)[i0 + q·mr + r, p0 + p] contiguously (rows past mc are zeros).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(bool transA, float* a, nint lda, int i0, int p0, int mc, int kc, int mr, float* dst)
    {
        for (int ir = 0; ir < mc; ir += mr, dst += (nint)mr * kc)
        {
            int rows = Math.Min(mr, mc - ir);
            if (transA)
            {
                // op(A)[i, p] = a[p·lda + i]: each p is a contiguous run of rows.
                float* src = a + (nint)p0 * lda + i0 + ir;
                for (int p = 0; p < kc; p++, src += lda)
                {
                    float* d = dst + (nint)p * mr;
                    for (int r = 0; r < rows; r++) d[r] = src[r];
                    for (int r = rows; r < mr; r++) d[r] = 0;
                }
            }
            else
            {
                // op(A)[i, p] = a[i·lda + p]: interleave the rows, one row at a time so each read streams. (Full
                // panels of an untransposed A are read in place; only ragged last panels come here.)
                for (int r = 0; r < rows; r++)
                {
                    float* src = a + (nint)(i0 + ir + r) * lda + p0;
                    float* d = dst + r;
                    for (int p = 0; p < kc; p++, d += mr) *d = src[p];
                }
                for (int r = rows; r < mr; r++)
                {
                    float* d = dst + r;
                    for (int p = 0; p < kc; p++, d += mr) *d = 0;
                }
            }
        }
    }

    /// <summary>
    /// Packs op(B)[p0..p0+kc, j0..j0+nc] as panels of nr columns: panel q holds, for each p, the nr values
    /// op(B)[p0 + p, j0 + q·nr + j] contiguously (columns past nc are zeros).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(bool transB, float* b, nint ldb, int p0, int j0, int kc, int nc, int nr, float* dst)
    {
        if (!transB)
        {
            PackRows(b, ldb, p0, j0, kc, nc, nr, dst);
            return;
        }
        // op(B)[p, j] = b[j·ldb + p]: a transpose, panel by panel; 8×8 blocks in registers, the ragged rest one by one.
        for (int jr = 0; jr < nc; jr += nr, dst += (nint)nr * kc)
        {
            int cols = Math.Min(nr, nc - jr);
            int j = 0;
            if (Avx.IsSupported)
                for (; j + 8 <= cols; j += 8)
                {
                    float* src = b + (nint)(j0 + jr + j) * ldb + p0;
                    int p = 0;
                    for (; p + 8 <= kc; p += 8) BlockTranspose.Block8x8(ref src[p], (int)ldb, ref dst[(nint)p * nr + j], nr);
                    for (; p < kc; p++)
                        for (int q = 0; q < 8; q++) dst[(nint)p * nr + j + q] = src[q * ldb + p];
                }
            for (; j < cols; j++)
            {
                float* src = b + (nint)(j0 + jr + j) * ldb + p0;
                float* d = dst + j;
                for (int p = 0; p < kc; p++, d += nr) *d = src[p];
            }
            for (; j < nr; j++)
            {
                float* d = dst + j;
                for (int p = 0; p < kc; p++, d += nr) *d = 0;
            }
        }
    }

    /// <summary>
    /// <see cref="PackB"/> for an untransposed B, where op(B)[p, j] = b[p·ldb + j]: row by row, each row's run of nc
    /// columns dealt out nr at a time to the panels. Filling one panel at a time instead read 64 bytes from each of kc
    /// rows per panel, a pattern the hardware prefetcher does not follow: packing a 576 × 3136 im2col matrix took 3.2 ms
    /// that way on Zen 3, and the product 64 × 3136 × 576 ran 0.79× the time (0.76–0.97× over a dozen convolution-sized
    /// products, the same bits).
    /// </summary>
    static void PackRows(float* b, nint ldb, int p0, int j0, int kc, int nc, int nr, float* dst)
    {
        int fullCols = nc / nr * nr;
        nint panel = (nint)nr * kc;
        bool vectors = nr % 8 == 0 && Vector256.IsHardwareAccelerated;
        for (int p = 0; p < kc; p++)
        {
            float* src = b + (p0 + p) * ldb + j0, d = dst + (nint)p * nr;
            int j = 0;
            // Runs of a few floats value by value, not through Span: a copy and a clear a row that way cost more than
            // the ragged last panel's product on a 7×7 map (192 × 49 × 1152 took 0.79× the time this way, 192 × 17 0.67×).
            for (; j < fullCols; j += nr, d += panel)
                if (vectors)
                    for (int q = 0; q < nr; q += 8) Vector256.Store(Vector256.Load(src + j + q), d + q);
                else
                    for (int q = 0; q < nr; q++) d[q] = src[j + q];
            if (j < nc)
            {
                int q = 0;
                for (; q < nc - j; q++) d[q] = src[j + q];
                for (; q < nr; q++) d[q] = 0;
            }
        }
    }
}
