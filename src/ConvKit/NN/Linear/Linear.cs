using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>
/// Fully connected layer y = x·Wᵀ + b on input (*, inFeatures) → (*, outFeatures). Parameters "weight"
/// (outFeatures, inFeatures) and "bias" (outFeatures), initialised as PyTorch does: U(−1/√in, 1/√in).
/// </summary>
public class Linear : Module
{
    /// <summary>Size of the input's last dimension.</summary>
    public int InFeatures { get; }
    /// <summary>Size of the output's last dimension.</summary>
    public int OutFeatures { get; }
    /// <summary>(outFeatures, inFeatures)</summary>
    public Tensor Weight { get; }
    /// <summary>(outFeatures), or null when built with bias: false.</summary>
    public Tensor? Bias { get; }

    /// <summary>A layer from <paramref name="inFeatures"/> to <paramref name="outFeatures"/> values, with a bias unless <paramref name="bias"/> is false.</summary>
    /// <param name="random">source of the initial values (seed it for reproducible weights); Generator.Current when null</param>
    public Linear(int inFeatures, int outFeatures, bool bias = true, Random? random = null)
    {
        if (inFeatures <= 0) throw new ArgumentException($"Linear: inFeatures must be positive, got {inFeatures}.", nameof(inFeatures));
        if (outFeatures <= 0) throw new ArgumentException($"Linear: outFeatures must be positive, got {outFeatures}.", nameof(outFeatures));
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = RegisterParameter("weight", Tensor.Zeros(outFeatures, inFeatures));
        if (bias) Bias = RegisterParameter("bias", Tensor.Zeros(outFeatures));
        Init.LayerDefault(Weight, Bias, random);
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => F.Linear(input, Weight, Bias);

    /// <summary>(*, outFeatures) for an input (*, inFeatures); another last axis throws as <see cref="F.Linear"/> does.</summary>
    protected override int[] OutputShapeCore(int[] inputShape)
    {
        if (inputShape.Length == 0 || inputShape[^1] != InFeatures)
            throw new ArgumentException(
                $"Linear: input shape {Shapes.Format(inputShape)} does not match weight shape {Shapes.Format(Weight.Shape)} (expected the last axis to be {InFeatures}).");
        return [.. inputShape[..^1], OutFeatures];
    }

    /// <inheritdoc/>
    protected override string Describe() => $"Linear({InFeatures}, {OutFeatures}, bias={(Bias != null).ToString().ToLowerInvariant()})";
}
