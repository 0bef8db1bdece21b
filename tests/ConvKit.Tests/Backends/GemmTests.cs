using ConvKit.Backends.Cpu;

namespace ConvKit.Tests.Backends;

/// <summary>The packed SIMD SGEMM against the plain triple loop it must equal.</summary>
public class GemmTests
{
    static float[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.NextSingle() * 2 - 1).ToArray();
    }

    public static TheoryData<int, int, int> Shapes() => new()
    {
        { 1, 1, 1 }, { 7, 13, 5 }, { 8, 32, 128 }, { 33, 65, 17 }, { 129, 31, 257 }, { 9, 300, 129 },
        { 300, 9, 70 }, { 257, 263, 300 }, { 64, 100, 576 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesReferenceForEveryTransposeCombination(int m, int n, int k)
    {
        foreach (bool transA in new[] { false, true })
            foreach (bool transB in new[] { false, true })
                foreach (int threads in new[] { 1, 2 })
                    CheckAgainstReference(transA, transB, m, n, k, alpha: 1, beta: 0, pad: 0, threads);
    }

    [Theory]
    [InlineData(1.5f, 0.5f)]
    [InlineData(-1f, 1f)]
    [InlineData(0.25f, -2f)]
    public void AlphaBetaAndLeadingDimensionsWiderThanTheMatrix(float alpha, float beta)
    {
        CheckAgainstReference(false, true, 37, 45, 29, alpha, beta, pad: 3, threads: 2);
        CheckAgainstReference(true, false, 70, 20, 140, alpha, beta, pad: 5, threads: 1);
    }

    static void CheckAgainstReference(bool transA, bool transB, int m, int n, int k, float alpha, float beta, int pad, int threads)
    {
        int lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad;
        var a = Random((transA ? k : m) * lda, 1);
        var b = Random((transB ? n : k) * ldb, 2);
        var c = Random(m * ldc, 3);
        var expected = (float[])c.Clone();
        GemmReference.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);
        if (beta == 0) Array.Fill(c, float.NaN); // beta = 0 must not read C
        Gemm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                // Float32 accumulation over k terms of magnitude ≤ 1: error grows like k·ε.
                double tolerance = 1e-6 * k * Math.Abs(alpha) + 1e-5;
                Assert.True(Math.Abs(c[i * ldc + j] - expected[i * ldc + j]) <= tolerance,
                    $"transA={transA} transB={transB} {m}×{n}×{k}: C[{i},{j}] = {c[i * ldc + j]}, expected {expected[i * ldc + j]}");
            }
        // Padding columns of C are untouched.
        if (pad > 0 && beta != 0)
            for (int i = 0; i < m; i++) Assert.Equal(Random(m * ldc, 3)[i * ldc + n], c[i * ldc + n]);
    }

    [Fact]
    public void ZeroDepthScalesC()
    {
        var c = new float[] { 1, 2, 3, 4 };
        Gemm.Sgemm(false, false, 2, 2, 0, 1f, [], 1, [], 2, 0.5f, c, 2);
        Assert.Equal([0.5f, 1f, 1.5f, 2f], c);
    }

    [Fact]
    public void TooShortSpanThrowsWithSizes()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Gemm.Sgemm(false, false, 4, 4, 4, 1f, new float[15], 4, new float[16], 4, 0f, new float[16], 4));
        Assert.Contains("Sgemm", error.Message);
        Assert.Contains("A", error.Message);
    }

    [Fact]
    public void ReportsTheInstructionSetInUse() => Assert.False(string.IsNullOrEmpty(GemmKernels.Isa));
}
