using System.Globalization;
using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>
/// Local response normalisation across channels, as in AlexNet (see <see cref="F.LocalResponseNorm"/>):
/// <c>new LocalResponseNorm(5, alpha: 1e-4f, beta: 0.75f, k: 2f)</c>. No parameters.
/// </summary>
public sealed class LocalResponseNorm : Module
{
    /// <summary>Number of neighbouring channels summed over.</summary>
    public int Size { get; }
    /// <summary>Scale of the sum of squares: α in y = x / (k + α/size · Σ x²)^β.</summary>
    public float Alpha { get; }
    /// <summary>Exponent β of the denominator.</summary>
    public float Beta { get; }
    /// <summary>Additive constant k of the denominator.</summary>
    public float K { get; }

    /// <summary>A normalisation over <paramref name="size"/> neighbouring channels (AlexNet used 5, α 1e-4, β 0.75, k 2).</summary>
    public LocalResponseNorm(int size, float alpha = 1e-4f, float beta = 0.75f, float k = 1f)
    {
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), $"LocalResponseNorm: size must be positive, got {size}.");
        (Size, Alpha, Beta, K) = (size, alpha, beta, k);
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => F.LocalResponseNorm(input, Size, Alpha, Beta, K);

    /// <summary>The same shape as the input (normalised across channels).</summary>
    protected override int[] OutputShapeCore(int[] inputShape) => [.. inputShape];

    /// <inheritdoc/>
    protected override string Describe() =>
        string.Create(CultureInfo.InvariantCulture, $"LocalResponseNorm({Size}, alpha={Alpha}, beta={Beta}, k={K})");
}
