using System.Buffers;
using System.Runtime.CompilerServices;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// The cache-blocked loops around the micro-kernel for one block of C, in the BLIS order for wide-vector kernels:
/// for each KC-deep slice, a KC×NC block of op(B) is made ready in L2, and for each MR-row micro-panel of op(A)
/// (which stays in L1) the kernel sweeps the block's NR-wide micro-panels. Operands are packed only where the copy
/// pays for itself; elsewhere the kernel reads them in place through strides (see the constants below). The kernel
/// finishes each tile of C with the <paramref name="epilogue"/> (one it applies in registers, or none) as it stores the
/// tile's last depth slice; a ragged tile, computed aside, gets it after it is merged into C.
/// </summary>
internal readonly unsafe struct GemmBlocking(bool transA, bool transB, int k, float alpha,
    float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc, GemmMicroKernel kernel, GemmEpilogue epilogue = default)
{
    // KC: an A micro-panel (6×384 floats, 9 KB) stays in the 32 KB L1 while the kernel sweeps a row of tiles, and
    // a deep kc amortises each C tile's load and store over many FMAs.
    const int KC = 384;
    // NC: the packed KC×NC block of B (384×512 floats, 768 KB) stays in the 1 MB L2 while every A micro-panel
    // streams past it.
    const int NC = 512;
    // MC: rows of a packed (transposed) A block, 3072×384 floats = 4.5 MB, held in L3.
    const int MC = 3072;
    // B is read in place (no copy) when few row panels reuse it, else packed (and always when transposed, a gather):
    // contiguous panels also avoid the cache-set conflicts of a power-of-two ldb. How few depends on the panel's
    // width. A 64-wide panel reads 256 contiguous bytes of each row of B a step: with m ≤ 512 (a thread's share of a
    // 1024 product, or a convolution with few output channels) the copy cost as much as the arithmetic (Zen 5). A
    // 16-wide panel reads one cache line a step, each a stride ldb from the last, and on Zen 3 (512 KB L2) packing
    // paid from 64 rows (196×1536×384, ConvNeXt's MatMul, 0.68× the time; 256×196×2304 0.82×; 64×784×576 0.88×) and
    // lost below (48×12544×27 1.12×, 16×12544×144 1.3×, 6×1000×1000 2.1×) — except where the panel's rows lie far
    // apart and are many: from 24 rows, with at least 256 steps and rows of B at least 768 floats apart (ConvNeXt's
    // 49×3072×768 0.70×, 32×2048×512 0.69×, 24×1024×1024 0.83×; 49×768×3072 and 32×784×2304 even).
    bool PacksB(int m, int nr) => transB || m >= (nr > 16 ? 513 : 64) || (nr <= 16 && m >= 24 && k >= 256 && ldb >= 768);
    // A not transposed is always read in place: each micro-panel row is a contiguous run that stays in L1, and
    // skipping the copy measured faster at every size (it halved the time of 3136×64×576, where each element of A
    // is used only 64 times). A transposed A is read in place only when few column panels reuse it (n ≤ 256),
    // since each of its steps touches a new cache line; otherwise it is packed.
    const int PackTransposedAMinCols = 257;

    /// <summary>Computes the m×n block of C at row i0, column j0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(int i0, int m, int j0, int n)
    {
        int mr = kernel.MR, nr = kernel.NR;
        int kc0 = DepthSlice(k), mc0 = Split(m, MC, mr), nc0 = Split(n, NC, nr);
        bool packA = transA && n >= PackTransposedAMinCols, packB = PacksB(m, nr);
        // Unpacked operands still pack their ragged last panel, zero-padded, so the kernel always runs full tiles
        // (but a family with a kernel for fewer rows runs the last rows of A in place with it).
        float[] bufferA = ArrayPool<float>.Shared.Rent((packA ? mc0 : mr) * kc0 + 16);
        float[] bufferB = ArrayPool<float>.Shared.Rent((packB ? nc0 : nr) * kc0 + 16);
        float* tile = stackalloc float[mr * nr];
        fixed (float* pinnedA = bufferA, pinnedB = bufferB)
        {
            float* packedA = Align64(pinnedA), packedB = Align64(pinnedB);
            for (int ic = 0; ic < m; ic += mc0)
            {
                int mc = Math.Min(mc0, m - ic);
                for (int pc = 0; pc < k; pc += kc0)
                {
                    int kc = Math.Min(kc0, k - pc);
                    float betaHere = pc == 0 ? beta : 1; // later slices accumulate onto the first
                    bool finishes = pc + kc == k && !epilogue.IsNone;
                    if (packA) GemmPacking.PackA(transA, a, lda, i0 + ic, pc, mc, kc, mr, packedA);
                    for (int jc = 0; jc < n; jc += nc0)
                    {
                        int nc = Math.Min(nc0, n - jc);
                        int fullCols = nc / nr * nr;
                        if (packB) GemmPacking.PackB(transB, b, ldb, pc, j0 + jc, kc, nc, nr, packedB);
                        else if (fullCols < nc) GemmPacking.PackB(transB, b, ldb, pc, j0 + jc + fullCols, kc, nc - fullCols, nr, packedB);
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int rows = Math.Min(mr, mc - ir), i = i0 + ic + ir;
                            float* ap;
                            nint aRow, aStep;
                            if (packA) { ap = packedA + (nint)ir * kc; aRow = 1; aStep = mr; }
                            else if (rows < mr && kernel.RunRows == null)
                            {
                                GemmPacking.PackA(transA, a, lda, i, pc, rows, kc, mr, packedA);
                                ap = packedA; aRow = 1; aStep = mr;
                            }
                            else if (transA) { ap = a + pc * lda + i; aRow = 1; aStep = lda; }
                            else { ap = a + i * lda + pc; aRow = lda; aStep = 1; }

                            for (int jr = 0; jr < nc; jr += nr)
                            {
                                int cols = Math.Min(nr, nc - jr), j = j0 + jc + jr;
                                float* bp;
                                nint bStep;
                                if (packB) { bp = packedB + (nint)jr * kc; bStep = nr; }
                                else if (cols < nr) { bp = packedB; bStep = nr; }
                                else { bp = b + pc * ldb + j; bStep = ldb; }

                                float* cij = c + i * ldc + j;
                                var finish = finishes ? epilogue.From(i) : default;
                                if (!Tile(rows, cols, kc, ap, aRow, aStep, bp, bStep, cij, betaHere, tile, finishes ? &finish : null))
                                    finish.Apply(cij, ldc, rows, cols);
                            }
                        }
                    }
                }
            }
        }
        ArrayPool<float>.Shared.Return(bufferA);
        ArrayPool<float>.Shared.Return(bufferB);
    }

    /// <summary>
    /// One rows × cols tile of C from kc steps of the micro-panels (<paramref name="tile"/> holds a ragged one aside);
    /// true when the kernel stored it through <paramref name="epilogue"/> (not null), false when that is left to do.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    bool Tile(int rows, int cols, int kc, float* ap, nint aRow, nint aStep, float* bp, nint bStep, float* cij, float betaHere, float* tile, GemmEpilogue* epilogue)
    {
        int mr = kernel.MR, nr = kernel.NR;
        if (rows == mr && cols == nr)
            kernel.Run(kc, ap, aRow, aStep, bp, bStep, cij, ldc, alpha, betaHere, epilogue);
        else if (cols == nr && kernel.RunRows != null)
            kernel.RunRows(rows, kc, ap, aRow, aStep, bp, bStep, cij, ldc, alpha, betaHere, epilogue);
        else
        {
            // A narrow tile runs only the column vectors it needs, straight into C when it fills them.
            int width = kernel.NarrowWidth, vectors = width == 0 ? 0 : (cols + width - 1) / width;
            bool narrow = kernel.RunNarrow != null && cols <= nr - width;
            if (narrow && cols == vectors * width)
            {
                kernel.RunNarrow(vectors, rows, kc, ap, aRow, aStep, bp, bStep, cij, ldc, alpha, betaHere, epilogue);
                return epilogue != null;
            }
            // Partial tile: compute the tile's full width aside, then merge only the valid part.
            if (narrow) kernel.RunNarrow(vectors, rows, kc, ap, aRow, aStep, bp, bStep, tile, nr, alpha, 0, null);
            else if (rows < mr && kernel.RunRows != null) kernel.RunRows(rows, kc, ap, aRow, aStep, bp, bStep, tile, nr, alpha, 0, null);
            else kernel.Run(kc, ap, aRow, aStep, bp, bStep, tile, nr, alpha, 0, null);
            for (int r = 0; r < rows; r++)
                for (int q = 0; q < cols; q++)
                {
                    float* target = cij + r * ldc + q;
                    *target = tile[r * nr + q] + (betaHere == 0 ? 0 : betaHere * *target);
                }
            return false;
        }
        return epilogue != null;
    }

    /// <summary>The depth of the slices a product of depth <paramref name="k"/> is summed in (the last may be shorter).</summary>
    public static int DepthSlice(int k) => Split(k, KC, 1);

    /// <summary>Cuts extent into equal blocks of at most about block, each a multiple of multiple.</summary>
    static int Split(int extent, int block, int multiple)
    {
        int blocks = (extent + block - 1) / block;
        return ((extent + blocks - 1) / blocks + multiple - 1) / multiple * multiple;
    }

    // Packed panels start on a cache line, so the kernel's vector loads never split one.
    static float* Align64(float* p) => (float*)(((nint)p + 63) & ~(nint)63);
}
