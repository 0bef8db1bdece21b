using ConvKit.Backends;
using ConvKit.Backends.Reference;

namespace ConvKit.Tests.Backends;

/// <summary>
/// Every fast backend's softmax and negative-log-likelihood kernels against <see cref="ReferenceBackend"/>'s, on the
/// CPU's layouts: contiguous rows, strided blocks, several blocks per row, parallel runs.
/// </summary>
public class SoftmaxAndLossKernelTests
{
    const double Rtol = 1e-5, Atol = 1e-6;
    static readonly ReferenceBackend Reference = ReferenceBackend.Instance;

    // (outer, extent, inner): one element, contiguous rows, strided, strided over two blocks of AxisBlocks.Width,
    // and sizes large enough to run in parallel in both layouts.
    public static TheoryData<int, int, int> Layouts() => new()
    {
        { 1, 1, 1 }, { 3, 7, 1 }, { 2, 5, 3 }, { 1, 4, 1500 }, { 40, 33, 31 }, { 64, 600, 1 },
    };

    public static IEnumerable<object[]> LayoutCases() => TestBackends.EachFast(Layouts());

    static void AssertClose(float[] expected, float[] actual, string what) =>
        Close.All(expected.Select(v => (double)v).ToArray(), actual, Rtol, Atol, what);

    [Theory]
    [MemberData(nameof(LayoutCases))]
    public void SoftmaxMatchesReference(string backend, int outer, int extent, int inner)
    {
        var fast = TestBackends.Named(backend);
        var random = new Random(outer * 1000 + extent * 10 + inner);
        float[] x = Values(random, outer * extent * inner, 8), dy = Values(random, x.Length, 1);
        foreach (bool log in new[] { false, true })
        {
            string what = $"{backend} {(log ? "log-" : "")}softmax";
            float[] Forward(IBackend on) => TestBackends.Read(Softmax(on, x, outer, extent, inner, log));
            var expectedY = Forward(Reference);
            AssertClose(expectedY, Forward(fast), what);

            // Both backward passes start from the reference's output, so they are compared on the same operands.
            float[] Backward(IBackend on)
            {
                var dx = on.FromArray(Garbage(x.Length));
                if (log) on.LogSoftmaxBackward(on.FromArray(expectedY), on.FromArray(dy), outer, extent, inner, dx);
                else on.SoftmaxBackward(on.FromArray(expectedY), on.FromArray(dy), outer, extent, inner, dx);
                return TestBackends.Read(dx);
            }
            AssertClose(Backward(Reference), Backward(fast), what + " backward");
        }
    }

    public static TheoryData<int, int, int, bool, float> NllLayouts() => new()
    {
        { 7, 5, 1, false, 0f }, { 7, 5, 1, true, 0.2f }, { 3, 4, 6, false, 0.1f }, { 3, 4, 6, true, 0f },
        { 2, 3, 1100, true, 0.3f }, { 400, 90, 1, true, 0.1f }, { 4, 9, 1000, false, 0f },
    };

    public static IEnumerable<object[]> NllCases() => TestBackends.EachFast(NllLayouts());

    [Theory]
    [MemberData(nameof(NllCases))]
    public void NllLossMatchesReference(string backend, int outer, int classes, int inner, bool weighted, float smoothing)
    {
        const int ignore = -100;
        var fast = TestBackends.Named(backend);
        var random = new Random(outer + classes + inner);
        int positions = outer * inner;
        var logits = Values(random, outer * classes * inner, 4);
        var logProbs = TestBackends.Read(Softmax(Reference, logits, outer, classes, inner, log: true));
        var targets = Enumerable.Range(0, positions).Select(_ => random.Next(8) == 0 ? ignore : (float)random.Next(classes)).ToArray();
        float[]? weights = weighted ? Values(random, classes, 1).Select(v => v + 1.5f).ToArray() : null;
        var grads = Values(random, positions, 1);
        ClassTargets Spec(IBackend on) => new(on.FromArray(targets), weights == null ? null : on.FromArray(weights),
            outer, classes, inner, ignore, smoothing);

        (float[] Losses, float[] TargetWeights) Forward(IBackend on)
        {
            Storage losses = on.FromArray(Garbage(positions)), targetWeights = on.FromArray(Garbage(positions));
            Assert.Equal(-1, on.NllLoss(on.FromArray(logProbs), Spec(on), losses, targetWeights));
            return (TestBackends.Read(losses), TestBackends.Read(targetWeights));
        }
        var (expected, actual) = (Forward(Reference), Forward(fast));
        AssertClose(expected.Losses, actual.Losses, $"{backend} losses");
        AssertClose(expected.TargetWeights, actual.TargetWeights, $"{backend} target weights");

        foreach (bool fromLogits in new[] { false, true })
        {
            float[] Backward(IBackend on)
            {
                var dx = on.FromArray(Garbage(logProbs.Length));
                on.NllLossBackward(on.FromArray(logProbs), Spec(on), on.FromArray(grads), fromLogits, dx);
                return TestBackends.Read(dx);
            }
            AssertClose(Backward(Reference), Backward(fast), $"{backend} gradient of {(fromLogits ? "logits" : "log-probabilities")}");
        }
    }

    public static IEnumerable<object[]> InvalidTargets() => TestBackends.Each(new TheoryData<float, int>
    {
        { 5f, 2 }, { -1f, 2 }, { 1.5f, 2 }, { float.NaN, 2 },
        { -100f, 3 }, // the ignored index is skipped; 7 is out of range
    });

    [Theory]
    [MemberData(nameof(InvalidTargets))]
    public void NllLossReportsTheFirstInvalidTarget(string backend, float bad, int expected)
    {
        var on = TestBackends.Named(backend);
        var spec = new ClassTargets(on.FromArray([0f, 4f, bad, 7f]), null, 4, 5, 1, -100, 0);
        Assert.Equal(expected, on.NllLoss(on.FromArray(new float[20]), spec, on.Allocate(4), on.Allocate(4)));
    }

    static float[] Values(Random random, int count, float scale) =>
        Enumerable.Range(0, count).Select(_ => (random.NextSingle() * 2 - 1) * scale).ToArray();

    /// <summary>Outputs start as NaN, so every element a kernel forgets to write fails.</summary>
    static float[] Garbage(int length) => Enumerable.Repeat(float.NaN, length).ToArray();

    static Storage Softmax(IBackend on, float[] x, int outer, int extent, int inner, bool log)
    {
        var y = on.FromArray(Garbage(x.Length));
        if (log) on.LogSoftmax(on.FromArray(x), outer, extent, inner, y);
        else on.Softmax(on.FromArray(x), outer, extent, inner, y);
        return y;
    }
}
