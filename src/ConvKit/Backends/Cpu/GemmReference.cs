namespace ConvKit.Backends.Cpu;

/// <summary>
/// The plain triple loop that defines what <see cref="Gemm"/> computes; tests hold the fast path to it.
/// </summary>
public static class GemmReference
{
    /// <summary>C = alpha·op(A)·op(B) + beta·C, all row-major. op(A) is m×k, op(B) is k×n, C is m×n.</summary>
    /// <param name="a">A, read as (k×m with lda) when <paramref name="transA"/>, else (m×k with lda)</param>
    /// <param name="b">B, read as (n×k with ldb) when <paramref name="transB"/>, else (k×n with ldb)</param>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[p * lda + i] : a[i * lda + p];
                    float bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += (double)av * bv;
                }
                float old = beta == 0 ? 0 : beta * c[i * ldc + j];
                c[i * ldc + j] = (float)(alpha * sum) + old;
            }
    }
}
