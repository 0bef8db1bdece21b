using ConvKit.Backends;
using ConvKit.Backends.Reference;

namespace ConvKit.Tests.Backends;

/// <summary>
/// Every fast backend's element-wise, broadcasting, reduction, layout and index kernels against
/// <see cref="ReferenceBackend"/>'s, called directly, on the shapes that pick the CPU's paths (equal lengths, a scalar
/// on either side, broadcasting that merges axes or cannot, strided reductions) and on values that include NaN, ±∞,
/// −0, ties and exact integers. Outputs start as NaN, so an element a kernel forgets to write fails.
/// </summary>
public class ElementwiseKernelTests
{
    static readonly ReferenceBackend Reference = ReferenceBackend.Instance;

    /// <summary>Random values in [−3, 3) with the special ones sprinkled in.</summary>
    static float[] Values(int length, int seed, bool positive = false)
    {
        var random = new Random(seed);
        var values = Enumerable.Range(0, length).Select(_ => random.NextSingle() * 6 - 3).ToArray();
        float[] special = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 0f, 1f, -2f, 2.5f];
        for (int i = 0; i < length; i += 5) values[i] = special[(i / 5 + seed) % special.Length];
        if (positive) for (int i = 0; i < length; i++) values[i] = Math.Abs(values[i]);
        return values;
    }

    static float[] Garbage(int length) => Enumerable.Repeat(float.NaN, length).ToArray();

    /// <summary>Equal (infinities and zeros included), both NaN, or within rtol of each other.</summary>
    static void AssertSame(float[] expected, float[] actual, double rtol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            bool ok = e == a || (float.IsNaN(e) && float.IsNaN(a)) || Math.Abs(a - e) <= rtol * Math.Abs(e) + 1e-7;
            if (!ok) Assert.Fail($"{what}: element {i} is {a}, expected {e}");
        }
    }

    /// <summary>Runs <paramref name="kernel"/> on the fast backend and on the reference with the same inputs; compares what it wrote.</summary>
    static void Compare(string backend, float[][] inputs, int outputLength, Action<IBackend, Storage[], Storage> kernel, double rtol, string what)
    {
        float[] On(IBackend on)
        {
            var y = on.FromArray(Garbage(outputLength));
            kernel(on, inputs.Select(x => on.FromArray(x)).ToArray(), y);
            return TestBackends.Read(y);
        }
        AssertSame(On(Reference), On(TestBackends.Named(backend)), rtol, $"{backend} {what}");
    }

    public static TheoryData<int[], int[]> BroadcastShapes() => new()
    {
        { [37], [37] },                     // equal lengths: one row
        { [2, 3, 7], [] },                  // a scalar on the right
        { [1], [4, 9] },                    // a scalar on the left
        { [2, 3, 4], [4] },                 // a row against a batch: axes merge
        { [2, 1, 4], [3, 1] },              // both sides broadcast
        { [3, 1, 1, 5], [1, 4, 6, 1] },     // alternating, nothing merges; the last axis of b is broadcast
        { [5, 1], [5, 70] },                // the left operand is a scalar along each row
    };

    public static IEnumerable<object[]> BinaryCases() =>
        from row in TestBackends.EachFast(BroadcastShapes())
        from op in Enum.GetValues<BinaryOp>()
        select (object[])[row[0], op, row[1], row[2]];

    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void BinaryMatchesReference(string backend, BinaryOp op, int[] aShape, int[] bShape)
    {
        int[] yShape = Shapes.Broadcast(aShape, bShape, "test");
        float[] a = Values(Shapes.Numel(aShape), 1), b = Values(Shapes.Numel(bShape), 2);
        // Pow goes through exp and log on the CPU: a few ulps apart from MathF.Pow.
        Compare(backend, [a, b], Shapes.Numel(yShape), (on, x, y) => on.Binary(op, x[0], aShape, x[1], bShape, y, yShape),
            op == BinaryOp.Pow ? 1e-6 : 0, $"{op} {Shapes.Format(aShape)} with {Shapes.Format(bShape)}");
    }

    public static IEnumerable<object[]> UnaryCases() =>
        from backend in TestBackends.Fast from op in Enum.GetValues<UnaryOp>() select (object[])[backend.Name, op];

    [Theory]
    [MemberData(nameof(UnaryCases))]
    public void UnaryMatchesReference(string backend, UnaryOp op)
    {
        var x = Values(1000, 3);
        // Exp, Log and Erf are float32 approximations on the CPU, within a few ulps of the float64 reference.
        double rtol = op is UnaryOp.Exp or UnaryOp.Log or UnaryOp.Erf or UnaryOp.Sqrt ? 1e-6 : 0;
        Compare(backend, [x], x.Length, (on, s, y) => on.Unary(op, s[0], y), rtol, op.ToString());
        // A few steps from zero, where erf is nearly linear and its relative error shows.
        var small = Enumerable.Range(-50, 101).Select(i => i * 1e-3f).ToArray();
        Compare(backend, [small], small.Length, (on, s, y) => on.Unary(op, s[0], y), rtol, op + " near zero");
    }

    public static IEnumerable<object[]> ActivationCases() =>
        from backend in TestBackends.Fast from op in Enum.GetValues<ActivationOp>() select (object[])[backend.Name, op];

    [Theory]
    [MemberData(nameof(ActivationCases))]
    public void ActivationsAndTheirGradientsMatchReference(string backend, ActivationOp op)
    {
        // Finite values in [−7.5, 7.5), past every kink, with the kinks themselves; LeakyRelu's slope 0.1.
        var x = Values(1000, 7).Select(v => float.IsFinite(v) ? v * 2.5f : 3f).ToArray();
        x[1] = -3f; x[2] = 6f; x[3] = 0f;
        var g = Values(1000, 8).Select(v => float.IsFinite(v) ? v : 1f).ToArray();
        var fast = TestBackends.Named(backend);
        float[] Forward(IBackend on)
        {
            var y = on.FromArray(Garbage(x.Length));
            on.Activation(op, 0.1f, on.FromArray(x), y);
            return TestBackends.Read(y);
        }
        float[] Backward(IBackend on, float[] y)
        {
            var dx = on.FromArray(Garbage(x.Length));
            on.ActivationBackward(op, 0.1f, on.FromArray(x), on.FromArray(y), on.FromArray(g), dx);
            return TestBackends.Read(dx);
        }
        // Tanh, Sigmoid and SiLU are float32 approximations on the CPU, within a few ulps of the float64 reference.
        var expected = Forward(Reference);
        var actual = Forward(fast);
        AssertNear(expected, actual, $"{backend} {op}");
        AssertNear(Backward(Reference, expected), Backward(fast, actual), $"{backend} {op} backward");
    }

    static void AssertNear(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(actual[i] - expected[i]) <= 1e-5 * (1 + Math.Abs(expected[i]))))
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]}");
    }

    [Theory]
    [MemberData(nameof(TestBackends.FastNames), MemberType = typeof(TestBackends))]
    public void ErfAndGeluOfEveryShortLengthMatchReference(string backend)
    {
        // The CPU computes eight lanes at a time: fewer than eight go through a padded copy, a ragged end through an
        // overlapping last vector; both with NaN, ±∞ and −0 among the values.
        for (int n = 1; n <= 17; n++)
        {
            var x = Values(n, 20 + n).Select(v => v * 2f).ToArray();
            var g = Values(n, 40 + n);
            Compare(backend, [x], n, (on, s, y) => on.Unary(UnaryOp.Erf, s[0], y), 1e-6, $"Erf of {n}");
            Compare(backend, [x], n, (on, s, y) => on.Activation(ActivationOp.Gelu, 0f, s[0], y), 1e-6, $"Gelu of {n}");
            Compare(backend, [x, g], n, (on, s, y) => on.ActivationBackward(ActivationOp.Gelu, 0f, s[0], s[0], s[1], y), 1e-6, $"Gelu backward of {n}");
        }
    }

    [Theory]
    [MemberData(nameof(TestBackends.FastNames), MemberType = typeof(TestBackends))]
    public void ScalarOpsMatchReference(string backend)
    {
        var x = Values(300, 4);
        foreach (float exponent in new[] { 2f, 0.5f, 3f, -1.5f, 0f })
            Compare(backend, [x], x.Length, (on, s, y) => on.PowScalar(s[0], exponent, y), 1e-6, $"PowScalar {exponent}");
        Compare(backend, [x], x.Length, (on, s, y) => on.Clamp(s[0], -1.25f, 0.5f, y), 0, "Clamp");
        var mask = Values(300, 5).Select((v, i) => i % 3 == 0 ? 0f : v).ToArray();
        Compare(backend, [mask, x, Values(300, 6)], x.Length, (on, s, y) => on.Where(s[0], s[1], s[2], y), 0, "Where");
        Compare(backend, [x], 7 * 300, (on, s, y) => on.Expand(s[0], [300, 1], y, [300, 7]), 0, "Expand (300, 1) to (300, 7)");
        Compare(backend, [x], 4 * 300, (on, s, y) => on.Expand(s[0], [1, 300], y, [4, 300]), 0, "Expand (1, 300) to (4, 300)");
    }

    // (outer, extent, inner): whole rows, strided columns, one element.
    public static IEnumerable<object[]> Layouts() => TestBackends.EachFast(new TheoryData<int, int, int>
    {
        { 3, 40, 1 }, { 2, 7, 33 }, { 1, 1, 1 }, { 4, 1, 9 },
    });

    [Theory]
    [MemberData(nameof(Layouts))]
    public void ReductionsMatchReference(string backend, int outer, int extent, int inner)
    {
        // Finite values for the sums (with ties for ArgMax), then the same with NaN and infinities for max, min and ArgMax.
        var finite = Values(outer * extent * inner, 7).Select(v => float.IsFinite(v) ? MathF.Round(v, 1) : 1.5f).ToArray();
        var special = Values(outer * extent * inner, 8);
        foreach (var (values, kind) in new[] { (finite, "finite"), (special, "special") })
        {
            foreach (var op in Enum.GetValues<ReduceOp>())
                Compare(backend, [values], outer * inner, (on, s, y) => on.Reduce(op, s[0], outer, extent, inner, y),
                    op == ReduceOp.Sum ? 1e-5 : 0, $"{op} of {kind} values");
            int[] ArgMaxOn(IBackend on)
            {
                var y = on.AllocateIndices(outer * inner);
                on.ArgMax(on.FromArray(values), outer, extent, inner, y);
                var indices = new int[outer * inner];
                on.CopyIndicesTo(y, indices);
                return indices;
            }
            Assert.Equal(ArgMaxOn(Reference), ArgMaxOn(TestBackends.Named(backend)));
        }
    }

    public static IEnumerable<object[]> Permutations() => TestBackends.EachFast(new TheoryData<int[], int[]>
    {
        { [3, 4], [1, 0] }, { [2, 3, 5], [0, 2, 1] }, { [2, 3, 5], [2, 0, 1] }, { [2, 3, 4, 5], [0, 2, 3, 1] },
        { [2, 1, 4, 3, 2], [4, 2, 0, 3, 1] }, { [6], [0] },
        // Transposes of merged axes with whole 8×8 blocks and ragged edges: NCHW → NHWC and back, a batch of matrices.
        { [2, 19, 5, 7], [0, 2, 3, 1] }, { [2, 5, 7, 19], [0, 3, 1, 2] }, { [3, 17, 9], [0, 2, 1] },
    });

    [Theory]
    [MemberData(nameof(Permutations))]
    public void PermuteMatchesReference(string backend, int[] shape, int[] dims)
    {
        var x = Values(Shapes.Numel(shape), 9);
        Compare(backend, [x], x.Length, (on, s, y) => on.Permute(s[0], shape, dims, y), 0, $"Permute {Shapes.Format(shape)} by {Shapes.Format(dims)}");
    }

    [Theory]
    [MemberData(nameof(TestBackends.FastNames), MemberType = typeof(TestBackends))]
    public void CopiesAndIndexKernelsMatchReference(string backend)
    {
        // Every third block of 4 from a (5, 30) buffer into the middle of a (5, 12) one.
        var source = Values(150, 10);
        var destination = Values(60, 11);
        Compare(backend, [source, destination], 60, (on, s, y) =>
        {
            on.Copy(s[1], y);
            on.CopyBlocks(s[0], y, new BlockCopy(5, 2, 4, 1, 30, 12, 2, 12, 5));
        }, 0, "CopyBlocks");

        var x = Values(3 * 6 * 4, 12);
        var index = Enumerable.Range(0, 3 * 2 * 4).Select(i => (float)(i * 7 % 6)).ToArray();
        Compare(backend, [x, index], index.Length, (on, s, y) => Assert.Equal(-1, on.Gather(s[0], 3, 6, 4, s[1], 2, y)), 0, "Gather");
        Compare(backend, [Values(index.Length, 13), index], x.Length, (on, s, y) =>
        {
            on.Fill(y, 0);
            on.GatherBackward(s[0], s[1], 3, 6, 4, 2, y);
        }, 1e-6, "GatherBackward");
        int[] rows = [5, 0, 5, 2];
        Compare(backend, [x], 3 * 4 * 4, (on, s, y) => on.IndexSelect(s[0], 3, 6, 4, rows, y), 0, "IndexSelect");
        Compare(backend, [Values(3 * 4 * 4, 14)], x.Length, (on, s, y) =>
        {
            on.Fill(y, 0);
            on.IndexSelectBackward(s[0], 3, 6, 4, rows, y);
        }, 1e-6, "IndexSelectBackward (repeated rows accumulate)");
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void SortMatchesReference(string backend, int outer, int extent, int inner)
    {
        // Rounded values give ties, which a stable sort must keep in order; NaN sorts above everything.
        var x = Values(outer * extent * inner, 15).Select(v => float.IsFinite(v) ? MathF.Round(v) : v).ToArray();
        foreach (bool descending in new[] { false, true })
        {
            Compare(backend, [x], x.Length, (on, s, y) => on.Sort(s[0], outer, extent, inner, descending, y, on.AllocateIndices(x.Length)), 0,
                $"sorted values{(descending ? ", descending" : "")}");
            int[] OrderOn(IBackend on)
            {
                var order = on.AllocateIndices(x.Length);
                on.Sort(on.FromArray(x), outer, extent, inner, descending, on.Allocate(x.Length), order);
                var positions = new int[x.Length];
                on.CopyIndicesTo(order, positions);
                return positions;
            }
            Assert.Equal(OrderOn(Reference), OrderOn(TestBackends.Named(backend)));
        }
    }
}
