using ConvKit.Ops;

namespace ConvKit.Tests.Autograd;

/// <summary>
/// Finite-difference checks of RoIAlign's and RoI max pooling's backward rules (see <see cref="GradCheck"/>), with
/// boxes partly outside the map, so that clamped border samples and clipped bins are probed too.
/// </summary>
public class RoiGradientCheckTests
{
    // Made inside each checked function, so they live on the backend the check runs on.
    static Tensor Boxes() => Tensor.FromArray([
        0, 0.7f, 1.3f, 5.2f, 4.1f,
        1, -1.6f, -0.8f, 2.9f, 2.3f,
        0, 3.6f, 2.4f, 8.3f, 6.7f,
        1, 2.2f, 1.1f, 2.5f, 1.4f,
    ], 4, 5);

    static Tensor Uniform(int seed, params int[] shape) => Tensor.Rand(shape, seed) * 2f - 1f;

    [Theory]
    [InlineData(-1, false)]
    [InlineData(-1, true)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    public void RoiAlign(int samplingRatio, bool aligned) =>
        GradCheck.Check(x => F.RoiAlign(x[0], Boxes(), (3, 2), spatialScale: 1f, samplingRatio, aligned), Uniform(1, 2, 2, 5, 7));

    [Fact]
    public void RoiAlignScaled() =>
        GradCheck.Check(x => F.RoiAlign(x[0], Boxes() * Tensor.FromArray([1f, 2, 2, 2, 2], 1, 5), 2, spatialScale: 0.5f, aligned: true), Uniform(2, 2, 1, 5, 7));

    [Fact]
    public void RoiPool()
    {
        // Distinct values 0.1 apart: no ties within a finite-difference step.
        var values = Enumerable.Range(0, 2 * 2 * 5 * 7).Select(i => i * 0.1f - 7f).ToArray();
        new Random(3).Shuffle(values);
        GradCheck.Check(x => F.RoiPool(x[0], Boxes(), (3, 2)), Tensor.FromArray(values, 2, 2, 5, 7));
    }
}
