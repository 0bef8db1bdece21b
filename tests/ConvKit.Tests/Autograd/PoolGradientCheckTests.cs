using ConvKit.Ops;

namespace ConvKit.Tests.Autograd;

/// <summary>
/// Finite-difference checks of the backward rules of pooling, normalisation, activations and up-sampling
/// (see <see cref="GradCheck"/>), on small odd-sized inputs.
/// </summary>
public class PoolGradientCheckTests
{
    static Tensor Uniform(int seed, float low, float high, params int[] shape) => Tensor.Rand(shape, seed) * (high - low) + low;

    /// <summary>Distinct values 0.1 apart, shuffled: no ties (and no kinks) within a finite-difference step.</summary>
    static Tensor Spaced(int seed, params int[] shape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        var values = Enumerable.Range(0, n).Select(i => i * 0.1f - n * 0.05f + 0.025f).ToArray();
        new Random(seed).Shuffle(values);
        return Tensor.FromArray(values, shape);
    }

    [Fact] public void MaxPool2d() => GradCheck.Check(x => F.MaxPool2d(x[0], 2), Spaced(1, 2, 2, 4, 6));
    [Fact] public void MaxPool2dPaddedDilatedCeil() =>
        GradCheck.Check(x => F.MaxPool2d(x[0], (3, 2), stride: (2, 1), padding: 1, dilation: (1, 2), ceilMode: true), Spaced(2, 1, 2, 5, 7));
    [Fact] public void MaxPool2dOverlapping() => GradCheck.Check(x => F.MaxPool2d(x[0], 3, stride: 1), Spaced(3, 2, 5, 6));

    [Fact] public void AvgPool2d() => GradCheck.Check(x => F.AvgPool2d(x[0], 2), Uniform(1, -1, 1, 2, 2, 4, 6));
    [Fact] public void AvgPool2dPaddedCeilExcludingPad() =>
        GradCheck.Check(x => F.AvgPool2d(x[0], 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false), Uniform(2, -1, 1, 1, 2, 6, 5));
    [Fact] public void AvgPool2dDivisorOverride() =>
        GradCheck.Check(x => F.AvgPool2d(x[0], (2, 3), stride: 1, padding: (1, 1), divisorOverride: 4), Uniform(3, -1, 1, 2, 4, 5));

    [Fact] public void AdaptiveAvgPool2d() => GradCheck.Check(x => F.AdaptiveAvgPool2d(x[0], (3, 4)), Uniform(1, -1, 1, 2, 2, 7, 5));
    [Fact] public void GlobalAvgPool2d() => GradCheck.Check(x => F.GlobalAvgPool2d(x[0]), Uniform(1, -1, 1, 2, 3, 3, 5));

    [Fact]
    public void BatchNormTraining2d() => GradCheck.Check(
        x => F.BatchNorm(x[0], null, null, x[1], x[2], training: true),
        Uniform(1, -1, 3, 3, 2, 3, 2), Uniform(2, 0.5f, 1.5f, 2), Uniform(3, -1, 1, 2));

    [Fact]
    public void BatchNormTraining1d() => GradCheck.Check(
        x => F.BatchNorm(x[0], Tensor.Zeros(3), Tensor.Ones(3), x[1], x[2], training: true),
        Uniform(1, -2, 2, 5, 3), Uniform(2, 0.5f, 1.5f, 3), Uniform(3, -1, 1, 3));

    [Fact]
    public void BatchNormTrainingWithoutAffine() =>
        GradCheck.Check(x => F.BatchNorm(x[0], null, null, null, null, training: true), Uniform(1, -1, 1, 4, 3, 2));

    [Fact]
    public void BatchNormEvaluation() => GradCheck.Check(
        x => F.BatchNorm(x[0], Uniform(4, -0.5f, 0.5f, 2), Uniform(5, 0.5f, 2, 2), x[1], x[2], training: false),
        Uniform(1, -1, 1, 3, 2, 2, 3), Uniform(2, 0.5f, 1.5f, 2), Uniform(3, -1, 1, 2));

    [Fact] public void LocalResponseNormOddSize() => GradCheck.Check(x => F.LocalResponseNorm(x[0], 3, alpha: 0.5f, beta: 0.75f, k: 1f), Uniform(1, -1, 1, 2, 5, 2, 3));
    [Fact] public void LocalResponseNormEvenSize() => GradCheck.Check(x => F.LocalResponseNorm(x[0], 4, alpha: 0.8f, beta: 0.6f, k: 2f), Uniform(1, -1, 1, 1, 6, 3));

    [Fact] public void Relu() => GradCheck.Check(x => F.Relu(x[0]), Spaced(1, 3, 7));
    [Fact] public void LeakyRelu() => GradCheck.Check(x => F.LeakyRelu(x[0], 0.2f), Spaced(1, 3, 7));
    [Fact] public void Relu6() => GradCheck.Check(x => F.Relu6(x[0] * 8f), Spaced(1, 3, 7));
    [Fact] public void Tanh() => GradCheck.Check(x => F.Tanh(x[0]), Uniform(1, -2, 2, 3, 5));
    [Fact] public void Sigmoid() => GradCheck.Check(x => F.Sigmoid(x[0]), Uniform(1, -3, 3, 3, 5));

    [Fact]
    public void Dropout()
    {
        // The same seed gives the same mask in every evaluation, so the function is fixed and differentiable.
        GradCheck.Check(x => F.Dropout(x[0], 0.4f, training: true, new Random(7)), Uniform(1, -1, 1, 4, 6));
    }

    [Fact] public void UpsampleNearest() => GradCheck.Check(x => F.Upsample(x[0], size: (5, 7)), Uniform(1, -1, 1, 1, 2, 3, 4));
    [Fact] public void UpsampleNearestScale() => GradCheck.Check(x => F.Upsample(x[0], scaleFactor: 1.5f), Uniform(1, -1, 1, 1, 2, 3, 4));
    [Fact] public void UpsampleBilinear() =>
        GradCheck.Check(x => F.Upsample(x[0], size: (5, 7), mode: UpsampleMode.Bilinear), Uniform(1, -1, 1, 1, 2, 3, 4));
    [Fact] public void UpsampleBilinearAlignCorners() =>
        GradCheck.Check(x => F.Upsample(x[0], scaleFactor: 2.5f, mode: UpsampleMode.Bilinear, alignCorners: true), Uniform(1, -1, 1, 1, 2, 3, 2));
}
