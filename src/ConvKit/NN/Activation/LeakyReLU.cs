using System.Globalization;
using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>x where x &gt; 0, else negativeSlope·x, element-wise, any shape (see <see cref="F.LeakyRelu"/>). No parameters.</summary>
public sealed class LeakyReLU(float negativeSlope = 0.01f) : Module
{
    /// <summary>Slope for negative inputs.</summary>
    public float NegativeSlope { get; } = float.IsFinite(negativeSlope) ? negativeSlope
        : throw new ArgumentOutOfRangeException(nameof(negativeSlope), $"LeakyReLU: negativeSlope must be finite, got {negativeSlope}.");

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => F.LeakyRelu(input, NegativeSlope);

    /// <summary>The same shape as the input (element-wise).</summary>
    protected override int[] OutputShapeCore(int[] inputShape) => [.. inputShape];

    /// <inheritdoc/>
    protected override string Describe() => string.Create(CultureInfo.InvariantCulture, $"LeakyReLU(negativeSlope={NegativeSlope})");
}
