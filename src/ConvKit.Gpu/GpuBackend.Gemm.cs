using ILGPU;
using ILGPU.Runtime;

namespace ConvKit.Backends.Gpu;

// Matrix products: C = alpha·op(A)·op(B) + beta·C on row-major matrices. On an NVIDIA GPU, cuBLAS where the library
// is installed; else, and on other GPUs, a tiled kernel: each group of
// 16 × 16 threads computes a 64 × 64 block of C, staging 16-deep slices of A and B in shared memory, each thread a 4 × 4
// block in registers (16 multiply-adds per 8 shared-memory reads). On the CPU accelerator, whose simulated groups
// cost an OS thread each, one output element per loop step.
public sealed partial class GpuBackend
{
    Action<AcceleratorStream, Index1D, Work, GemmShape, ArrayView<float>, ArrayView<float>, ArrayView<float>>? gemm;
    Action<AcceleratorStream, KernelConfig, GemmShape, ArrayView<float>, ArrayView<float>, ArrayView<float>>? tiledGemm;

    const int TileSize = 64, TileDepth = 16, MicroSize = 4, TileThreads = TileSize / MicroSize;

    CuBlas? cuBlas;

    /// <summary>
    /// Whether matrix products through cuBLAS may multiply in TF32 on the tensor cores (10-bit mantissas, several times
    /// faster), as PyTorch's <c>torch.backends.cuda.matmul.allow_tf32</c>. Off by default: float32 throughout.
    /// </summary>
    public bool AllowTf32 { get; set; }

    /// <summary>What computes matrix products here: the cuBLAS library file, or which of this backend's kernels.</summary>
    public string GemmEngine => cuBlas?.Name ?? (useTiledGemm ? "tiled ILGPU kernel" : "ILGPU kernel, one element per step");

    /// <summary>The device address of element <paramref name="offset"/> of a storage (its view starts at its buffer's start).</summary>
    IntPtr Address(Storage storage, int offset)
    {
        Data(storage);
        return ((GpuStorage)storage).Buffer.NativePtr + (nint)offset * sizeof(float);
    }

    /// <summary>A GEMM's shape, transposes, leading dimensions, offsets and scalars, as one kernel argument.</summary>
    internal readonly record struct GemmShape(int TransA, int TransB, int M, int N, int K, float Alpha, float Beta,
        int AOffset, int Lda, int BOffset, int Ldb, int COffset, int Ldc);

    /// <inheritdoc/>
    public override void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        Storage a, int aOffset, int lda, Storage b, int bOffset, int ldb, float beta, Storage c, int cOffset, int ldc)
    {
        if (m == 0 || n == 0) return;
        if (cuBlas != null)
        {
            // Stream binds the accelerator to this thread: cuBLAS works in the calling thread's current context.
            cuBlas.Sgemm(((ILGPU.Runtime.Cuda.CudaStream)Stream).StreamPtr, AllowTf32, transA, transB, m, n, k, alpha,
                Address(a, aOffset), lda, Address(b, bOffset), ldb, beta, Address(c, cOffset), ldc);
            return;
        }
        var shape = new GemmShape(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, beta, aOffset, lda, bOffset, ldb, cOffset, ldc);
        if (useTiledGemm)
        {
            var grid = new Index2D((n + TileSize - 1) / TileSize, (m + TileSize - 1) / TileSize);
            Load(ref tiledGemm, acc => acc.LoadKernel<GemmShape, ArrayView<float>, ArrayView<float>, ArrayView<float>>(TiledGemmKernel))(
                Stream, new KernelConfig(grid, new Index2D(TileThreads, TileThreads)), shape, Data(a), Data(b), Data(c));
            return;
        }
        var (threads, work) = For((long)m * n);
        Load(ref gemm, acc => acc.LoadAutoGroupedKernel<Index1D, Work, GemmShape, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GemmKernel))(
            Stream, threads, work, shape, Data(a), Data(b), Data(c));
    }

    static float ElementOfA(in GemmShape s, ArrayView<float> a, int i, int p) => a[s.AOffset + (s.TransA != 0 ? p * s.Lda + i : i * s.Lda + p)];
    static float ElementOfB(in GemmShape s, ArrayView<float> b, int p, int j) => b[s.BOffset + (s.TransB != 0 ? j * s.Ldb + p : p * s.Ldb + j)];

    /// <summary>Writes one element of C: alpha·sum + beta·C, where beta = 0 ignores C's old value, NaN included, as BLAS does.</summary>
    static void StoreC(in GemmShape s, ArrayView<float> c, int i, int j, float sum)
    {
        if (i >= s.M || j >= s.N) return;
        int at = s.COffset + i * s.Ldc + j;
        c[at] = s.Alpha * sum + (s.Beta == 0 ? 0 : s.Beta * c[at]);
    }

    static void GemmKernel(Index1D t, Work w, GemmShape s, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
    {
        for (int e = t; e < w.Count; e += w.Stride)
        {
            int i = e / s.N, j = e - i * s.N;
            float sum = 0;
            for (int p = 0; p < s.K; p++) sum += ElementOfA(s, a, i, p) * ElementOfB(s, b, p, j);
            StoreC(s, c, i, j, sum);
        }
    }

    static void TiledGemmKernel(GemmShape s, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
    {
        // Slices stored depth-major: aTile[p, i] and bTile[p, j], so a thread's four rows (columns) are adjacent.
        var aTile = SharedMemory.Allocate1D<float>(TileDepth * TileSize);
        var bTile = SharedMemory.Allocate1D<float>(TileDepth * TileSize);
        int tx = Group.IdxX, ty = Group.IdxY, thread = ty * TileThreads + tx;
        int row0 = Grid.IdxY * TileSize, col0 = Grid.IdxX * TileSize, i0 = ty * MicroSize, j0 = tx * MicroSize;
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (int p0 = 0; p0 < s.K; p0 += TileDepth)
        {
            for (int l = thread; l < TileDepth * TileSize; l += TileThreads * TileThreads)
            {
                // Outside the matrices the slices hold zeros, which add nothing.
                int p = l / TileSize, x = l - p * TileSize, gp = p0 + p;
                aTile[l] = row0 + x < s.M && gp < s.K ? ElementOfA(s, a, row0 + x, gp) : 0;
                bTile[l] = col0 + x < s.N && gp < s.K ? ElementOfB(s, b, gp, col0 + x) : 0;
            }
            Group.Barrier();
            for (int p = 0; p < TileDepth; p++)
            {
                int at = p * TileSize;
                float a0 = aTile[at + i0], a1 = aTile[at + i0 + 1], a2 = aTile[at + i0 + 2], a3 = aTile[at + i0 + 3];
                float b0 = bTile[at + j0], b1 = bTile[at + j0 + 1], b2 = bTile[at + j0 + 2], b3 = bTile[at + j0 + 3];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            Group.Barrier();
        }
        int i = row0 + i0, j = col0 + j0;
        StoreC(s, c, i, j, c00); StoreC(s, c, i, j + 1, c01); StoreC(s, c, i, j + 2, c02); StoreC(s, c, i, j + 3, c03);
        StoreC(s, c, i + 1, j, c10); StoreC(s, c, i + 1, j + 1, c11); StoreC(s, c, i + 1, j + 2, c12); StoreC(s, c, i + 1, j + 3, c13);
        StoreC(s, c, i + 2, j, c20); StoreC(s, c, i + 2, j + 1, c21); StoreC(s, c, i + 2, j + 2, c22); StoreC(s, c, i + 2, j + 3, c23);
        StoreC(s, c, i + 3, j, c30); StoreC(s, c, i + 3, j + 1, c31); StoreC(s, c, i + 3, j + 2, c32); StoreC(s, c, i + 3, j + 3, c33);
    }
}
