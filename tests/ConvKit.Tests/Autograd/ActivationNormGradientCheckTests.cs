using ConvKit.Ops;

namespace ConvKit.Tests.Autograd;

/// <summary>HardSigmoid, HardSwish, Erf, GELU and LayerNorm backward rules against finite differences (see <see cref="GradCheck"/>).</summary>
public class ActivationNormGradientCheckTests
{
    static Tensor Uniform(int seed, float low, float high, params int[] shape) => Tensor.Rand(shape, seed) * (high - low) + low;

    /// <summary>Values spread over [−5, 5] kept at least 0.1 from the kinks ±3.</summary>
    static Tensor AwayFromKinks(int seed, params int[] shape)
    {
        var values = Uniform(seed, -5f, 5f, shape).ToArray().Select(v => Math.Abs(Math.Abs(v) - 3f) < 0.1f ? v * 0.9f : v).ToArray();
        return Tensor.FromArray(values, shape);
    }

    [Fact] public void HardSigmoid() => GradCheck.Check(x => F.HardSigmoid(x[0]), AwayFromKinks(1, 3, 7));
    [Fact] public void HardSwish() => GradCheck.Check(x => F.HardSwish(x[0]), AwayFromKinks(2, 3, 7));
    [Fact] public void Erf() => GradCheck.Check(x => F.Erf(x[0]), Uniform(3, -3f, 3f, 4, 5));
    [Fact] public void Gelu() => GradCheck.Check(x => F.Gelu(x[0]), Uniform(8, -6f, 6f, 3, 9));
    [Fact] public void GeluTanhApproximation() => GradCheck.Check(x => F.Gelu(x[0], tanhApproximation: true), Uniform(9, -6f, 6f, 3, 9));

    [Fact]
    public void LayerNormWithWeightAndBias() =>
        GradCheck.Check(x => F.LayerNorm(x[0], [5], x[1], x[2]), Uniform(4, -1f, 2f, 3, 5), Uniform(5, 0.5f, 1.5f, 5), Uniform(6, -0.5f, 0.5f, 5));

    [Fact]
    public void LayerNormOverTwoAxesWithoutAffine() => GradCheck.Check(x => F.LayerNorm(x[0], [2, 3]), Uniform(7, -1f, 1f, 2, 2, 3));
}
