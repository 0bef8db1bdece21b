using ConvKit.Backends;
using ConvKit.Backends.Cpu;
using ConvKit.Backends.Reference;

namespace ConvKit.Tests.Backends;

/// <summary>
/// Every fast backend's fused SGD and Adam steps (on the CPU: in blocks, SIMD, multi-threaded for large parameters)
/// against <see cref="ReferenceBackend"/>'s per-element loops of PyTorch 1.13's formulas.
/// </summary>
public class OptimizerKernelTests
{
    // The reference rounds once from float64; float32 steps round each term (values up to 2 in size: ulp 2.4e-7), and
    // momentum updates can cancel to near zero, so the floor is a few of those ulps.
    const double Rtol = 1e-6, Atol = 1e-6;
    // Shorter than a block, several blocks ending mid-block, and enough work (≥ 2¹⁵ values) for the parallel path.
    static readonly int[] Lengths = [1, 7, 3 * AxisBlocks.Width + 5, 40 * AxisBlocks.Width + 3];

    public static TheoryData<bool, bool, bool, double, double, bool> SgdConfigurations() => new()
    {
        // firstStep, nesterov, maximize, momentum, weightDecay, dampening > 0
        { false, false, false, 0, 0, false },
        { false, false, true, 0, 0.1, false },
        { true, false, false, 0.9, 0, false },
        { false, false, false, 0.9, 0.05, true },
        { false, true, false, 0.9, 0.05, false },
        { true, true, true, 0.8, 0.2, false },
    };

    public static IEnumerable<object[]> SgdCases() => TestBackends.EachFast(SgdConfigurations());

    [Theory]
    [MemberData(nameof(SgdCases))]
    public void SgdStepMatchesReference(string backend, bool firstStep, bool nesterov, bool maximize, double momentum, double weightDecay, bool dampen)
    {
        var fast = TestBackends.Named(backend);
        var update = new SgdUpdate(0.05, momentum, dampen ? 0.3 : 0, nesterov, weightDecay, maximize, firstStep);
        foreach (int n in Lengths)
        {
            var random = new Random(n);
            float[] p = Values(random, n), g = Values(random, n), buffer = Values(random, n);
            (float[] P, float[] Buffer, float[] G) Step(IBackend on)
            {
                var (ps, gs, bs) = (on.FromArray(p), on.FromArray(g), on.FromArray(buffer));
                on.SgdStep(ps, gs, momentum != 0 ? bs : null, update);
                return (TestBackends.Read(ps), TestBackends.Read(bs), TestBackends.Read(gs));
            }
            var (expected, actual) = (Step(ReferenceBackend.Instance), Step(fast));
            AssertClose(expected.P, actual.P, $"{backend} SGD parameter, n = {n}");
            AssertClose(expected.Buffer, actual.Buffer, $"{backend} SGD momentum buffer, n = {n}");
            Assert.Equal(g, actual.G);
        }
    }

    public static TheoryData<bool, bool, bool, double, long> AdamConfigurations() => new()
    {
        // decoupled, amsgrad, maximize, weightDecay, step
        { false, false, false, 0, 1 },
        { false, false, true, 0.1, 3 },
        { false, true, false, 0.05, 10 },
        { true, false, false, 0.01, 2 },
        { true, true, true, 0.3, 7 },
    };

    public static IEnumerable<object[]> AdamCases() => TestBackends.EachFast(AdamConfigurations());

    [Theory]
    [MemberData(nameof(AdamCases))]
    public void AdamStepMatchesReference(string backend, bool decoupled, bool amsgrad, bool maximize, double weightDecay, long step)
    {
        var fast = TestBackends.Named(backend);
        var update = new AdamUpdate(0.01, 0.9, 0.999, 1e-8, weightDecay, decoupled, amsgrad, maximize, step);
        foreach (int n in Lengths)
        {
            var random = new Random(n + 1);
            float[] p = Values(random, n), g = Values(random, n), m = Values(random, n);
            float[] v = Values(random, n).Select(x => x * x).ToArray(), vMax = Values(random, n).Select(x => x * x).ToArray();
            float[][] Step(IBackend on)
            {
                var (ps, ms, vs, vMaxs) = (on.FromArray(p), on.FromArray(m), on.FromArray(v), on.FromArray(vMax));
                on.AdamStep(ps, on.FromArray(g), ms, vs, amsgrad ? vMaxs : null, update);
                return [TestBackends.Read(ps), TestBackends.Read(ms), TestBackends.Read(vs), TestBackends.Read(vMaxs)];
            }
            var (expected, actual) = (Step(ReferenceBackend.Instance), Step(fast));
            string[] names = ["parameter", "first moment", "second moment", "running maximum"];
            for (int i = 0; i < names.Length; i++) AssertClose(expected[i], actual[i], $"{backend} Adam {names[i]}, n = {n}");
        }
    }

    static void AssertClose(float[] expected, float[] actual, string what) =>
        Close.All(expected.Select(v => (double)v).ToArray(), actual, Rtol, Atol, what);

    static float[] Values(Random random, int n) => Enumerable.Range(0, n).Select(_ => random.NextSingle() * 4 - 2).ToArray();
}
