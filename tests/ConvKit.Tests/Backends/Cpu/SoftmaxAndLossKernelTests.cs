using ConvKit.Backends;
using ConvKit.Backends.Cpu;

namespace ConvKit.Tests.Backends.Cpu;

/// <summary>
/// The CPU softmax and negative-log-likelihood kernels (contiguous rows, strided blocks, several blocks per row,
/// parallel runs) against the plain double-precision loops below, which define what they compute.
/// </summary>
public class SoftmaxAndLossKernelTests
{
    const double Rtol = 1e-5, Atol = 1e-6;
    static readonly CpuBackend Cpu = CpuBackend.Instance;

    // (outer, extent, inner): one element, contiguous rows, strided, strided over two blocks of AxisBlocks.Width,
    // and sizes large enough to run in parallel in both layouts.
    public static TheoryData<int, int, int> Layouts() => new()
    {
        { 1, 1, 1 }, { 3, 7, 1 }, { 2, 5, 3 }, { 1, 4, 1500 }, { 40, 33, 31 }, { 64, 600, 1 },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void SoftmaxMatchesReference(int outer, int extent, int inner)
    {
        var random = new Random(outer * 1000 + extent * 10 + inner);
        float[] x = Values(random, outer * extent * inner, 8), dy = Values(random, x.Length, 1);
        foreach (bool log in new[] { false, true })
        {
            var y = Cpu.Allocate(x.Length);
            if (log) Cpu.LogSoftmax(Cpu.FromArray(x), outer, extent, inner, y);
            else Cpu.Softmax(Cpu.FromArray(x), outer, extent, inner, y);
            var expectedY = ReferenceSoftmax(x, outer, extent, inner, log);
            Close.All(expectedY, Read(y), Rtol, Atol, $"{(log ? "log-" : "")}softmax");

            var dx = Cpu.Allocate(x.Length);
            if (log) Cpu.LogSoftmaxBackward(y, Cpu.FromArray(dy), outer, extent, inner, dx);
            else Cpu.SoftmaxBackward(y, Cpu.FromArray(dy), outer, extent, inner, dx);
            Close.All(ReferenceSoftmaxBackward(expectedY, dy, outer, extent, inner, log), Read(dx), Rtol, Atol,
                $"{(log ? "log-" : "")}softmax backward");
        }
    }

    public static TheoryData<int, int, int, bool, float> NllLayouts() => new()
    {
        { 7, 5, 1, false, 0f }, { 7, 5, 1, true, 0.2f }, { 3, 4, 6, false, 0.1f }, { 3, 4, 6, true, 0f },
        { 2, 3, 1100, true, 0.3f }, { 400, 90, 1, true, 0.1f }, { 4, 9, 1000, false, 0f },
    };

    [Theory]
    [MemberData(nameof(NllLayouts))]
    public void NllLossMatchesReference(int outer, int classes, int inner, bool weighted, float smoothing)
    {
        const int ignore = -100;
        var random = new Random(outer + classes + inner);
        int positions = outer * inner;
        var logits = Values(random, outer * classes * inner, 4);
        var logProbs = Read(Softmax(logits, outer, classes, inner, log: true));
        var targets = Enumerable.Range(0, positions).Select(_ => random.Next(8) == 0 ? ignore : (float)random.Next(classes)).ToArray();
        float[]? weights = weighted ? Values(random, classes, 1).Select(v => v + 1.5f).ToArray() : null;
        var grads = Values(random, positions, 1);
        var spec = new ClassTargets(Cpu.FromArray(targets), weights == null ? null : Cpu.FromArray(weights),
            outer, classes, inner, ignore, smoothing);

        Storage losses = Cpu.Allocate(positions), targetWeights = Cpu.Allocate(positions);
        Assert.Equal(-1, Cpu.NllLoss(Cpu.FromArray(logProbs), spec, losses, targetWeights));
        var (expectedLosses, expectedWeights, dLogProbs, dLogits) =
            ReferenceNll(logProbs, targets, weights, grads, outer, classes, inner, ignore, smoothing);
        Close.All(expectedLosses, Read(losses), Rtol, Atol, "losses");
        Close.All(expectedWeights, Read(targetWeights), Rtol, Atol, "target weights");

        foreach (bool fromLogits in new[] { false, true })
        {
            var dx = Cpu.Allocate(logProbs.Length);
            Cpu.NllLossBackward(Cpu.FromArray(logProbs), spec, Cpu.FromArray(grads), fromLogits, dx);
            Close.All(fromLogits ? dLogits : dLogProbs, Read(dx), Rtol, Atol, fromLogits ? "gradient of logits" : "gradient of log-probabilities");
        }
    }

    [Theory]
    [InlineData(5f, 2)]
    [InlineData(-1f, 2)]
    [InlineData(1.5f, 2)]
    [InlineData(float.NaN, 2)]
    [InlineData(-100f, 3)] // the ignored index is skipped; 7 is out of range
    public void NllLossReportsTheFirstInvalidTarget(float bad, int expected)
    {
        var targets = new[] { 0f, 4f, bad, 7f };
        var spec = new ClassTargets(Cpu.FromArray(targets), null, 4, 5, 1, -100, 0);
        int result = Cpu.NllLoss(Cpu.FromArray(new float[20]), spec, Cpu.Allocate(4), Cpu.Allocate(4));
        Assert.Equal(expected, result);
    }

    static float[] Values(Random random, int count, float scale) =>
        Enumerable.Range(0, count).Select(_ => (random.NextSingle() * 2 - 1) * scale).ToArray();

    static float[] Read(Storage storage)
    {
        var values = new float[storage.Length];
        Cpu.CopyTo(storage, values);
        return values;
    }

    static Storage Softmax(float[] x, int outer, int extent, int inner, bool log)
    {
        var y = Cpu.Allocate(x.Length);
        if (log) Cpu.LogSoftmax(Cpu.FromArray(x), outer, extent, inner, y);
        else Cpu.Softmax(Cpu.FromArray(x), outer, extent, inner, y);
        return y;
    }

    static int At(int o, int r, int i, int extent, int inner) => (o * extent + r) * inner + i;

    static double[] ReferenceSoftmax(float[] x, int outer, int extent, int inner, bool log)
    {
        var y = new double[x.Length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (int r = 0; r < extent; r++) max = Math.Max(max, x[At(o, r, i, extent, inner)]);
                for (int r = 0; r < extent; r++) sum += Math.Exp(x[At(o, r, i, extent, inner)] - max);
                for (int r = 0; r < extent; r++)
                {
                    double shifted = x[At(o, r, i, extent, inner)] - max;
                    y[At(o, r, i, extent, inner)] = log ? shifted - Math.Log(sum) : Math.Exp(shifted) / sum;
                }
            }
        return y;
    }

    static double[] ReferenceSoftmaxBackward(double[] y, float[] dy, int outer, int extent, int inner, bool log)
    {
        var dx = new double[y.Length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double sum = 0;
                for (int r = 0; r < extent; r++)
                {
                    int at = At(o, r, i, extent, inner);
                    sum += log ? dy[at] : dy[at] * y[at];
                }
                for (int r = 0; r < extent; r++)
                {
                    int at = At(o, r, i, extent, inner);
                    dx[at] = log ? dy[at] - Math.Exp(y[at]) * sum : y[at] * (dy[at] - sum);
                }
            }
        return dx;
    }

    /// <summary>loss = Σ_c a_c·(−logp_c) with a_c = (1 − ε)·w_t·[c = t] + (ε/C)·w_c, and its two gradients.</summary>
    static (double[] Losses, double[] TargetWeights, double[] DLogProbs, double[] DLogits) ReferenceNll(
        float[] logProbs, float[] targets, float[]? weights, float[] grads, int outer, int classes, int inner, int ignore, float smoothing)
    {
        var losses = new double[outer * inner];
        var targetWeights = new double[outer * inner];
        var dLogProbs = new double[logProbs.Length];
        var dLogits = new double[logProbs.Length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int p = o * inner + i;
                if (targets[p] == ignore) continue;
                int t = (int)targets[p];
                var a = new double[classes];
                for (int c = 0; c < classes; c++)
                    a[c] = (c == t ? (1 - smoothing) * (weights?[t] ?? 1) : 0) + smoothing / classes * (weights?[c] ?? 1);
                double aSum = a.Sum();
                targetWeights[p] = weights?[t] ?? 1;
                for (int c = 0; c < classes; c++)
                {
                    int at = At(o, c, i, classes, inner);
                    losses[p] -= a[c] * logProbs[at];
                    dLogProbs[at] = -grads[p] * a[c];
                    dLogits[at] = grads[p] * (Math.Exp(logProbs[at]) * aSum - a[c]);
                }
            }
        return (losses, targetWeights, dLogProbs, dLogits);
    }
}
