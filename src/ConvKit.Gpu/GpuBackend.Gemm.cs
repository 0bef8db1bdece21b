using ILGPU;
using ILGPU.Runtime;

namespace ConvKit.Backends.Gpu;

// Matrix products: C = alpha·op(A)·op(B) + beta·C on row-major matrices, one output element per thread step.
public sealed partial class GpuBackend
{
    Action<AcceleratorStream, Index1D, Work, GemmShape, ArrayView<float>, ArrayView<float>, ArrayView<float>>? gemm;

    /// <summary>A GEMM's shape, transposes, leading dimensions, offsets and scalars, as one kernel argument.</summary>
    internal readonly record struct GemmShape(int TransA, int TransB, int M, int N, int K, float Alpha, float Beta,
        int AOffset, int Lda, int BOffset, int Ldb, int COffset, int Ldc);

    /// <inheritdoc/>
    public override void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        Storage a, int aOffset, int lda, Storage b, int bOffset, int ldb, float beta, Storage c, int cOffset, int ldc)
    {
        if (m == 0 || n == 0) return;
        var shape = new GemmShape(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, beta, aOffset, lda, bOffset, ldb, cOffset, ldc);
        var (threads, work) = For((long)m * n);
        Load(ref gemm, acc => acc.LoadAutoGroupedKernel<Index1D, Work, GemmShape, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GemmKernel))(
            Stream, threads, work, shape, Data(a), Data(b), Data(c));
    }

    static void GemmKernel(Index1D t, Work w, GemmShape s, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
    {
        for (int e = t; e < w.Count; e += w.Stride)
        {
            int i = e / s.N, j = e - i * s.N;
            int aAt = s.AOffset + (s.TransA != 0 ? i : i * s.Lda), aStep = s.TransA != 0 ? s.Lda : 1;
            int bAt = s.BOffset + (s.TransB != 0 ? j * s.Ldb : j), bStep = s.TransB != 0 ? 1 : s.Ldb;
            float sum = 0;
            for (int p = 0; p < s.K; p++, aAt += aStep, bAt += bStep) sum += a[aAt] * b[bAt];
            int at = s.COffset + i * s.Ldc + j;
            // beta = 0 ignores C's old values, NaN included, as BLAS does.
            c[at] = s.Alpha * sum + (s.Beta == 0 ? 0 : s.Beta * c[at]);
        }
    }
}
