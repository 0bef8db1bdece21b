using ConvKit.Vision.Models;
using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Vision.Faces;

/// <summary>
/// Scales each row to unit Euclidean length, x / max(‖x‖₂, ε) along the last axis, as torch.nn.functional.normalize:
/// the last step of an encoder, so that embeddings lie on the unit sphere and distances between them in [0, 2].
/// Composed of differentiable ops, so it needs no backward of its own.
/// </summary>
public sealed class L2Normalize : Module
{
    /// <summary>The smallest norm divided by (keeps a zero row finite).</summary>
    public float Eps { get; }

    /// <summary>A normalisation with torch's default ε of 1e-12.</summary>
    public L2Normalize(float eps = 1e-12f) => Eps = eps;

    /// <summary>x / max(‖x‖₂, ε) along the last axis of <paramref name="x"/>.</summary>
    /// <param name="x">(N, D) or any (…, D)</param>
    public static Tensor Apply(Tensor x, float eps = 1e-12f)
    {
        if (x.Rank < 1) throw new ArgumentException($"L2Normalize: the input must have at least one axis, got {ModelChecks.Format(x.Shape)}.");
        return x / x.Square().Sum(x.Rank - 1, keepDim: true).Sqrt().Clamp(min: eps);
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => Apply(input, Eps);

    /// <inheritdoc/>
    protected override string Describe() => $"L2Normalize(eps={Eps})";
}
