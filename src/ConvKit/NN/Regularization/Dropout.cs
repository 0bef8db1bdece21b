using System.Globalization;
using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>
/// Inverted dropout (see <see cref="F.Dropout"/>): in training mode zeroes each element with probability
/// <see cref="P"/> and scales the rest by 1/(1 − p); in evaluation mode passes the input through.
/// Give the constructor a seeded <see cref="System.Random"/> for reproducible masks. No parameters.
/// </summary>
public sealed class Dropout : Module
{
    readonly Random? random;

    /// <summary>Probability of zeroing an element.</summary>
    public float P { get; }

    /// <summary>Dropout with probability <paramref name="p"/>.</summary>
    /// <param name="random">source of the masks (seed it for reproducible masks); Generator.Current when null</param>
    public Dropout(float p = 0.5f, Random? random = null)
    {
        if (!(p >= 0f && p <= 1f))
            throw new ArgumentOutOfRangeException(nameof(p), $"Dropout: probability p must be in [0, 1], got {p}.");
        P = p;
        this.random = random;
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => F.Dropout(input, P, Training, random);

    /// <summary>The same shape as the input.</summary>
    protected override int[] OutputShapeCore(int[] inputShape) => [.. inputShape];

    /// <inheritdoc/>
    protected override string Describe() => string.Create(CultureInfo.InvariantCulture, $"Dropout(p={P})");
}
