using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using ConvKit.Backends;
using ConvKit.Backends.Cpu;
using ConvKit.Backends.Reference;

namespace ConvKit.Tests.Backends;

/// <summary>
/// The blocked, packed <see cref="Gemm"/> against the reference backend's plain triple loop: shapes that leave
/// partial micro-tiles and straddle the cache blocks, every transpose combination, alpha/beta, strided views,
/// several thread counts, on each kernel family this machine runs. Thread counts go through the internal
/// overload, so no test changes the global <see cref="Threading.NumThreads"/>.
/// </summary>
public class GemmTests
{
    /// <summary>The kernel families this machine runs natively.</summary>
    static IEnumerable<GemmIsa> Isas() => Enum.GetValues<GemmIsa>().Where(isa => isa <= Gemm.BestIsa);

    static float[] RandomValues(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < values.Length; i++) values[i] = random.NextSingle() * 2 - 1;
        return values;
    }

    /// <summary>C = alpha·op(A)·op(B) + beta·C by <see cref="ReferenceBackend.Gemm"/>, on the arrays themselves.</summary>
    static void ReferenceGemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc) =>
        ReferenceBackend.Instance.Gemm(transA, transB, m, n, k, alpha, new ReferenceStorage(a), 0, lda,
            new ReferenceStorage(b), 0, ldb, beta, new ReferenceStorage(c), 0, ldc);

    /// <summary>
    /// Runs one product through the reference and then through each kernel family on each thread count, on
    /// operands whose leading dimensions exceed their widths by <paramref name="pad"/> (a submatrix view), and
    /// checks each element of C to within the float rounding of its terms; C's padding must come back untouched.
    /// </summary>
    static void Check(bool transA, bool transB, int m, int n, int k, float alpha, float beta, int pad, int[] threadCounts)
    {
        int lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad;
        float[] a = RandomValues((transA ? k : m) * lda, 1), b = RandomValues((transB ? n : k) * ldb, 2);
        float[] c = RandomValues(m * ldc, 3);
        if (beta == 0) Array.Fill(c, float.NaN); // must be overwritten without being read
        float[] expected = (float[])c.Clone();
        ReferenceGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);

        // The same product on |A|, |B|, |C| bounds the magnitude of the terms each element sums.
        float[] magnitude = beta == 0 ? new float[c.Length] : Array.ConvertAll(c, Math.Abs);
        ReferenceGemm(transA, transB, m, n, k, Math.Abs(alpha), Array.ConvertAll(a, Math.Abs), lda,
            Array.ConvertAll(b, Math.Abs), ldb, Math.Abs(beta), magnitude, ldc);
        double tolerance = (k + 4) * 1.2e-7; // float rounding of a k-term dot product, the scaling and the update

        foreach (var isa in Isas())
            foreach (int threads in threadCounts)
            {
                float[] actual = (float[])c.Clone();
                Gemm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, actual, ldc, threads, isa);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < ldc; j++)
                    {
                        int at = i * ldc + j;
                        bool ok = j >= n
                            ? c[at].Equals(actual[at])
                            : Math.Abs(expected[at] - actual[at]) <= tolerance * magnitude[at];
                        if (!ok) // (messages built only on failure: formatting one per element would dominate)
                            Assert.Fail($"{isa}, {threads} threads, transA={transA}, transB={transB}, {m}×{n}×{k}: " +
                                $"C[{i},{j}] = {actual[at]}, expected {(j >= n ? c[at] : expected[at])}");
                    }
            }
    }

    public static IEnumerable<object[]> WithTransposes(int[][] shapes) =>
        from s in shapes
        from transA in new[] { false, true }
        from transB in new[] { false, true }
        select new object[] { s[0], s[1], s[2], transA, transB };

    // Partial tiles on both axes (1×1×1, 7×13×5, ...), exact tiles, k just past KC = 384 and past 2·KC, n past
    // NC = 512, m past the 512 rows above which B is packed, n past the 256 columns above which a transposed A is
    // packed, last panels of 1 to 5 rows with whole 64- or 16-column tiles (both vector families' short-row kernels), and last
    // panels of 1 to 3 whole 16-column vectors, or fewer columns, of 1 to 6 rows (its narrow kernel: 80 = 64 + 16,
    // 112 = 64 + 48, 196 = 3·64 + 4 as on a 14×14 map), the 16-wide tile's one vector of 8 (24 = 16 + 8, 8 alone), and one
    // row or one column deep enough for dot products.
    public static IEnumerable<object[]> Shapes() => WithTransposes(
        [[1, 1, 1], [7, 13, 5], [33, 65, 17], [129, 31, 257], [12, 64, 3], [13, 129, 385], [5, 70, 800], [40, 515, 9], [514, 70, 9],
            [30, 260, 21], [49, 128, 400], [1, 64, 7], [8, 64, 20], [9, 192, 33], [16, 64, 5], [11, 128, 6],
            [7, 80, 9], [13, 112, 20], [9, 196, 30], [6, 96, 400], [1, 37, 400], [37, 1, 40], [1, 1, 33], [10, 24, 50], [7, 8, 30]]);

    [Theory, MemberData(nameof(Shapes))]
    public void MatchesReferenceOnOneThread(int m, int n, int k, bool transA, bool transB)
    {
        Check(transA, transB, m, n, k, alpha: 1, beta: 0, pad: 0, [1]);
        Check(transA, transB, m, n, k, alpha: -0.5f, beta: 2, pad: 3, [1]);
    }

    // Enough work for four threads, split along rows and columns, columns only, rows only (past MC = 3072), and one
    // row or one column read as dot products (a fully connected layer on one sample, a 1×1 convolution of a 1×1 map).
    public static IEnumerable<object[]> ParallelShapes() => WithTransposes([[160, 160, 160], [48, 1400, 64], [3100, 24, 56], [1, 2000, 2100], [2000, 1, 2100]]);

    [Theory, MemberData(nameof(ParallelShapes))]
    public void MatchesReferenceOnSeveralThreads(int m, int n, int k, bool transA, bool transB) =>
        Check(transA, transB, m, n, k, alpha: 0.25f, beta: -1, pad: 1, [2, 3, 4]);

    /// <summary>
    /// A product with one row (one sample through a fully connected layer) or one column runs as dot products; each sum
    /// must be the one the micro-kernel takes for that row or column of a larger product, to the bit, so a sample's
    /// result does not depend on the batch it came in. Depths of one slice and of three (past 2·KC = 768); 45 = 16 + 16
    /// + 8 + 5 sums, so the sixteen-, eight- and one-at-a-time loops all run; at depth 1024 (rows 4 KB apart) the AVX2
    /// path runs eight at a time only.
    /// </summary>
    [Theory]
    [InlineData(300, 1f, 0f)]
    [InlineData(1000, 0.5f, 2f)]
    [InlineData(1024, 1f, 1f)]
    public void OneRowOrColumnIsThatPartOfALargerProductToTheBit(int k, float alpha, float beta)
    {
        const int Others = 45;
        var a = Tensor.Randn([5, k], seed: 3).ToArray();
        var b = Tensor.Randn([Others, k], seed: 4).ToArray(); // Bᵀ: one row per column of C
        var start = Tensor.Randn([5, Others], seed: 5).ToArray();
        var five = (float[])start.Clone();
        Gemm.Sgemm(false, true, 5, Others, k, alpha, a, k, b, k, beta, five, Others);
        var one = start[..Others];
        Gemm.Sgemm(false, true, 1, Others, k, alpha, a, k, b, k, beta, one, Others);
        Assert.Equal(five[..Others], one);

        // One column: C (Others × 1) = B · a[0]ᵀ, against the first column of C (Others × 5) = B · aᵀ.
        var columns = new float[Others * 5];
        for (int i = 0; i < Others; i++) for (int j = 0; j < 5; j++) columns[i * 5 + j] = start[j * Others + i];
        Gemm.Sgemm(false, true, Others, 5, k, alpha, b, k, a, k, beta, columns, 5);
        var column = Enumerable.Range(0, Others).Select(i => start[i]).ToArray();
        Gemm.Sgemm(false, false, Others, 1, k, alpha, b, k, a, 1, beta, column, 1);
        Assert.Equal(Enumerable.Range(0, Others).Select(i => columns[i * 5]), column);
    }

    /// <summary>
    /// The epilogue pass (vectors, then a scalar tail) gives each value what the scalar formula gives, to the bit, on the
    /// values where max and min instructions differ: NaN (kept), ±0, ±∞, and the clamps' corners. A −0 bias counts as +0
    /// (the kernels' arithmetic, <see cref="GemmEpilogue.Clamp(int)"/>).
    /// </summary>
    [Theory]
    [InlineData(null)]
    [InlineData(ActivationOp.Relu)]
    [InlineData(ActivationOp.Relu6)]
    [InlineData(ActivationOp.HardSigmoid)]
    [InlineData(ActivationOp.HardSwish)]
    public void EpiloguePassKeepsNaNAndSignedZerosAsTheScalarFormula(ActivationOp? activation)
    {
        float[] special = [float.NaN, -0f, 0f, -3f, 3f, -3.0000002f, 2.9999998f, 6f, 6.0000005f, float.PositiveInfinity, float.NegativeInfinity, 1e-30f, -1e-30f, 5f];
        var row = special.Concat(special).Concat(special).ToArray(); // 42 values: five vectors of eight, then a tail of two
        var bias = new float[] { 0f, -0f, 1e-30f }; // one row of C each
        var actual = Enumerable.Repeat(row, bias.Length).SelectMany(r => r).ToArray();
        CpuBackend.Epilogue(actual, row.Length, bias.Length, row.Length, bias, activation, 0f);
        var (low, high) = GemmEpilogue.Bounds(activation);
        for (int r = 0; r < bias.Length; r++)
            for (int i = 0; i < row.Length; i++)
            {
                float v = row[i] + (bias[r] + 0f), gate = MathF.Min(MathF.Max(v + 3f, 0f), 6f) / 6f;
                float expected = activation switch
                {
                    ActivationOp.HardSigmoid => gate,
                    ActivationOp.HardSwish => v * gate,
                    _ => MathF.Min(MathF.Max(v, low), high),
                };
                float got = actual[r * row.Length + i];
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(got) || float.IsNaN(expected) && float.IsNaN(got),
                    $"{activation?.ToString() ?? "no activation"} of {row[i]} + {bias[r]}: {got}, expected {expected}");
            }
    }

    /// <summary>
    /// A convolution's epilogue done by the GEMM (a bias per row of C, then an activation; the vector kernels apply the
    /// clamping ones in registers as they store, the others are a pass over each block) gives, to the bit,
    /// the product followed by the epilogue as a pass: on each kernel family, on one and two threads, with ragged
    /// tiles (a last panel of 5 rows, 100 = 64 + 36 columns, 104 = 6·16 + 8 for the 16-wide tile's narrow form) and a depth of three slices (the epilogue only after the
    /// last), with beta 0 and 1, NaN and −0 sums included.
    /// </summary>
    [Theory]
    [InlineData(0f, 100)]
    [InlineData(1f, 100)]
    [InlineData(0f, 104)]
    public void EpilogueIsThePassAfterTheProductToTheBit(float beta, int N)
    {
        const int M = 41, K = 900;
        var a = RandomValues(M * K, 1);
        var b = RandomValues(K * N, 2);
        var bias = RandomValues(M, 3);
        a[7] = float.NaN; // row 0 of C is NaN throughout
        Array.Clear(a, 5 * K, K); // row 5 of C is −0 before the bias (alpha is −1), and its bias −0
        bias[5] = -0f;
        var start = RandomValues(M * N, 4);
        foreach (var isa in Isas())
            foreach (int threads in new[] { 1, 2 })
                foreach (ActivationOp? activation in new ActivationOp?[] { null, ActivationOp.Relu, ActivationOp.Relu6, ActivationOp.HardSwish, ActivationOp.HardSigmoid, ActivationOp.Silu, ActivationOp.LeakyRelu })
                    foreach (bool withBias in new[] { true, false })
                    {
                        if (!withBias && activation == null) continue;
                        var expected = (float[])start.Clone();
                        Gemm.Sgemm(false, false, M, N, K, -1f, a, K, b, N, beta, expected, N, threads, isa);
                        CpuBackend.Epilogue(expected, N, M, N, withBias ? bias : default, activation, 0.1f);
                        var actual = (float[])start.Clone();
                        Gemm.Sgemm(false, false, M, N, K, -1f, a, K, b, N, beta, actual, N, threads, isa, withBias ? bias : default, activation, 0.1f);
                        // Bits, not values: float equality would take −0 for +0.
                        Assert.True(MemoryMarshal.Cast<float, int>(expected).SequenceEqual(MemoryMarshal.Cast<float, int>(actual)), $"{isa}, {threads} threads, {activation?.ToString() ?? "no activation"}, bias {withBias}, beta {beta}");
                    }
    }

    /// <summary>
    /// With a residual (a residual block's shortcut, laid out as C), the GEMM's epilogue gives, to the bit, the product
    /// with its own epilogue (the bias), then the residual added, then the activation as a pass: on each kernel family,
    /// one and two threads, ragged tiles, three depth slices, C and the residual with padded rows; NaN, −0 sums (row 5,
    /// alpha −1) meeting −0 residuals, and sums the residual cancels included.
    /// </summary>
    [Theory]
    [InlineData(100)]
    [InlineData(104)]
    public void EpilogueWithAResidualIsTheProductThenTheAddThenTheActivationToTheBit(int N)
    {
        const int M = 41, K = 900;
        int Ld = N + 3;
        var a = RandomValues(M * K, 1);
        var b = RandomValues(K * N, 2);
        var bias = RandomValues(M, 3);
        a[7] = float.NaN;
        Array.Clear(a, 5 * K, K);
        bias[5] = -0f;
        var residual = RandomValues(M * Ld, 4);
        for (int j = 0; j < N; j += 2) residual[5 * Ld + j] = -0f;
        foreach (var isa in Isas())
            foreach (int threads in new[] { 1, 2 })
                foreach (ActivationOp? activation in new ActivationOp?[] { null, ActivationOp.Relu, ActivationOp.Relu6, ActivationOp.HardSwish, ActivationOp.Silu })
                    foreach (bool withBias in new[] { true, false })
                    {
                        var expected = new float[M * Ld];
                        Gemm.Sgemm(false, false, M, N, K, -1f, a, K, b, N, 0f, expected, Ld, threads, isa);
                        if (withBias) CpuBackend.Epilogue(expected, Ld, M, N, bias, null, 0f);
                        if (threads == 1 && isa == Isas().First() && activation == null && withBias)
                            for (int j = 1; j < N; j += 7) residual[9 * Ld + j] = -expected[9 * Ld + j]; // sums of exactly zero
                        for (int i = 0; i < M; i++)
                        {
                            var row = expected.AsSpan(i * Ld, N);
                            TensorPrimitives.Add(row, residual.AsSpan(i * Ld, N), row);
                            if (activation is { } op) CpuBackend.Activate(op, 0f, row, row);
                        }
                        var actual = new float[M * Ld];
                        Gemm.Sgemm(false, false, M, N, K, -1f, a, K, b, N, 0f, actual, Ld, threads, isa, withBias ? bias : default, activation, 0f, residual);
                        Assert.True(MemoryMarshal.Cast<float, int>(expected).SequenceEqual(MemoryMarshal.Cast<float, int>(actual)),
                            $"{isa}, {threads} threads, {activation?.ToString() ?? "no activation"}, bias {withBias}");
                    }
    }

    [Fact]
    public void EmptyDepthScalesC()
    {
        float[] c = [1, 2, 3, 4, 5, 6], nan = [float.NaN, float.NaN, float.NaN, float.NaN, float.NaN, float.NaN];
        Gemm.Sgemm(false, false, 2, 2, 0, 1, [], 1, [], 2, 0.5f, c, 3);
        Assert.Equal([0.5f, 1, 3, 2, 2.5f, 6], c);
        Gemm.Sgemm(true, true, 2, 3, 0, 1, [], 2, [], 1, 0, nan, 3);
        Assert.Equal(new float[6], nan);
    }

    [Fact]
    public void ZeroAlphaScalesCWithoutReadingAB()
    {
        float[] c = [1, 2, 3, 4], nan = [float.NaN, float.NaN, float.NaN, float.NaN];
        Gemm.Sgemm(false, false, 2, 2, 2, 0, nan, 2, nan, 2, 3, c, 2);
        Assert.Equal([3f, 6, 9, 12], c);
    }

    [Fact]
    public void EmptyOutputIsANoOp()
    {
        float[] c = [7];
        Gemm.Sgemm(false, false, 0, 1, 3, 1, [], 3, [1, 2, 3], 1, 0, c, 1);
        Gemm.Sgemm(false, false, 1, 0, 3, 1, [1, 2, 3], 3, [], 0, 0, c, 1);
        Assert.Equal([7f], c);
    }

    [Fact]
    public void PublicEntryUsesTheDefaultThreads()
    {
        float[] a = RandomValues(100 * 120, 1), b = RandomValues(120 * 110, 2), expected = new float[100 * 110], actual = new float[100 * 110];
        ReferenceGemm(false, true, 100, 110, 120, 1, a, 120, b, 120, 0, expected, 110);
        Gemm.Sgemm(false, true, 100, 110, 120, 1, a, 120, b, 120, 0, actual, 110);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-4f);
    }

    public static IEnumerable<object[]> BackendCases() => TestBackends.EachFast(WithTransposes([[7, 13, 5], [33, 65, 17]]));

    /// <summary>IBackend.Gemm of every fast backend, with operands at offsets inside larger buffers, against the reference backend's.</summary>
    [Theory, MemberData(nameof(BackendCases))]
    public void BackendGemmAtOffsetsMatchesReference(string backend, int m, int n, int k, bool transA, bool transB)
    {
        const int offset = 5, pad = 2;
        int lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad;
        float[] a = RandomValues(offset + (transA ? k : m) * lda, 1), b = RandomValues(offset + (transB ? n : k) * ldb, 2);
        float[] c = RandomValues(offset + m * ldc, 3);
        float[] Product(IBackend on)
        {
            var result = on.FromArray(c);
            on.Gemm(transA, transB, m, n, k, 0.5f, on.FromArray(a), offset, lda, on.FromArray(b), offset, ldb, -1.5f, result, offset, ldc);
            return TestBackends.Read(result);
        }
        // Sums of at most 17 products of values in [−1, 1]; C's padding and the values before the offset must come back unchanged.
        Close.All(Product(ReferenceBackend.Instance).Select(v => (double)v).ToArray(), Product(TestBackends.Named(backend)), 1e-5, 1e-5, backend);
    }

    [Theory]
    [InlineData(false, false, 11, 20, 15, "A is 3×4")] // each case one element short of what m = 3, n = 5, k = 4 needs
    [InlineData(true, false, 11, 20, 15, "A is 4×3")]
    [InlineData(false, true, 12, 19, 15, "B is 5×4")]
    [InlineData(true, true, 12, 20, 14, "C is 3×5")]
    public void ShortSpansThrow(bool transA, bool transB, int aLength, int bLength, int cLength, string operand)
    {
        int lda = transA ? 3 : 4, ldb = transB ? 4 : 5;
        var error = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(transA, transB, 3, 5, 4, 1,
            new float[aLength], lda, new float[bLength], ldb, 0, new float[cLength], 5));
        Assert.StartsWith($"Sgemm: {operand} with leading dimension", error.Message);
    }

    [Fact]
    public void BadSizesThrow()
    {
        float[] big = new float[100];
        var narrowLda = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 2, 2, 3, 1, big, 2, big, 2, 0, big, 2));
        Assert.StartsWith("Sgemm: A is 2×3 but its leading dimension is 2", narrowLda.Message);
        var negative = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 2, -1, 3, 1, big, 3, big, 2, 0, big, 2));
        Assert.StartsWith("Sgemm:", negative.Message);
    }
}
