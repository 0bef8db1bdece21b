using ConvKit.Backends;
using ConvKit.Backends.Cpu;

namespace ConvKit.Tests.Backends;

/// <summary>
/// The CPU backend's fused SGD and Adam steps (in blocks, SIMD, multi-threaded for large parameters) against plain
/// per-element loops of the same formulas.
/// </summary>
public class OptimizerKernelTests
{
    const double Rtol = 1e-6, Atol = 1e-7;
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

    [Theory]
    [MemberData(nameof(SgdConfigurations))]
    public void SgdStepMatchesReferenceLoop(bool firstStep, bool nesterov, bool maximize, double momentum, double weightDecay, bool dampen)
    {
        var update = new SgdUpdate(0.05, momentum, dampen ? 0.3 : 0, nesterov, weightDecay, maximize, firstStep);
        foreach (int n in Lengths)
        {
            var random = new Random(n);
            float[] p = Values(random, n), g = Values(random, n), buffer = Values(random, n);
            float[] pExpected = (float[])p.Clone(), bufferExpected = (float[])buffer.Clone();
            ReferenceSgd(pExpected, g, bufferExpected, update);

            var (ps, gs, bs) = (Storage(p), Storage(g), Storage(buffer));
            CpuBackend.Instance.SgdStep(ps, gs, momentum != 0 ? bs : null, update);
            Close.All(pExpected.Select(v => (double)v).ToArray(), ps.Data, Rtol, Atol, $"SGD parameter, n = {n}");
            Close.All(bufferExpected.Select(v => (double)v).ToArray(), bs.Data, Rtol, Atol, $"SGD momentum buffer, n = {n}");
            Assert.Equal(g, gs.Data);
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

    [Theory]
    [MemberData(nameof(AdamConfigurations))]
    public void AdamStepMatchesReferenceLoop(bool decoupled, bool amsgrad, bool maximize, double weightDecay, long step)
    {
        var update = new AdamUpdate(0.01, 0.9, 0.999, 1e-8, weightDecay, decoupled, amsgrad, maximize, step);
        foreach (int n in Lengths)
        {
            var random = new Random(n + 1);
            float[] p = Values(random, n), g = Values(random, n), m = Values(random, n);
            float[] v = Values(random, n).Select(x => x * x).ToArray(), vMax = Values(random, n).Select(x => x * x).ToArray();
            float[] pExpected = (float[])p.Clone(), mExpected = (float[])m.Clone(), vExpected = (float[])v.Clone(), vMaxExpected = (float[])vMax.Clone();
            ReferenceAdam(pExpected, g, mExpected, vExpected, vMaxExpected, update);

            var (ps, ms, vs, vMaxs) = (Storage(p), Storage(m), Storage(v), Storage(vMax));
            CpuBackend.Instance.AdamStep(ps, Storage(g), ms, vs, amsgrad ? vMaxs : null, update);
            Close.All(pExpected.Select(x => (double)x).ToArray(), ps.Data, Rtol, Atol, $"Adam parameter, n = {n}");
            Close.All(mExpected.Select(x => (double)x).ToArray(), ms.Data, Rtol, Atol, $"Adam first moment, n = {n}");
            Close.All(vExpected.Select(x => (double)x).ToArray(), vs.Data, Rtol, Atol, $"Adam second moment, n = {n}");
            Close.All(vMaxExpected.Select(x => (double)x).ToArray(), vMaxs.Data, Rtol, Atol, $"Adam running maximum, n = {n}");
        }
    }

    static float[] Values(Random random, int n) => Enumerable.Range(0, n).Select(_ => random.NextSingle() * 4 - 2).ToArray();
    static CpuStorage Storage(float[] values) => new((float[])values.Clone());

    /// <summary>PyTorch 1.13's single-tensor SGD, one element at a time.</summary>
    static void ReferenceSgd(float[] p, float[] g, float[] buffer, SgdUpdate u)
    {
        for (int i = 0; i < p.Length; i++)
        {
            float d = u.Maximize ? -g[i] : g[i];
            if (u.WeightDecay != 0) d += (float)u.WeightDecay * p[i];
            if (u.Momentum != 0)
            {
                buffer[i] = u.FirstStep ? d : (float)u.Momentum * buffer[i] + (float)(1 - u.Dampening) * d;
                d = u.Nesterov ? d + (float)u.Momentum * buffer[i] : buffer[i];
            }
            p[i] -= (float)u.LearningRate * d;
        }
    }

    /// <summary>PyTorch 1.13's single-tensor Adam / AdamW, one element at a time.</summary>
    static void ReferenceAdam(float[] p, float[] g, float[] m, float[] v, float[] vMax, AdamUpdate u)
    {
        double correction1 = 1 - Math.Pow(u.Beta1, u.Step), correction2 = 1 - Math.Pow(u.Beta2, u.Step);
        for (int i = 0; i < p.Length; i++)
        {
            if (u.DecoupledWeightDecay) p[i] *= (float)(1 - u.LearningRate * u.WeightDecay);
            float grad = u.Maximize ? -g[i] : g[i];
            if (!u.DecoupledWeightDecay) grad += (float)u.WeightDecay * p[i];
            m[i] = (float)u.Beta1 * m[i] + (float)(1 - u.Beta1) * grad;
            v[i] = (float)u.Beta2 * v[i] + (float)(1 - u.Beta2) * grad * grad;
            float second = v[i];
            if (u.Amsgrad) second = vMax[i] = Math.Max(vMax[i], v[i]);
            float denominator = MathF.Sqrt(second) / (float)Math.Sqrt(correction2) + (float)u.Eps;
            p[i] -= (float)(u.LearningRate / correction1) * m[i] / denominator;
        }
    }
}
