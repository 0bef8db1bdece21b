using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>
/// Runs every branch on the same input and joins their outputs along <see cref="Dim"/> (the channels, for the
/// Inception block: <c>new Concat(1, conv1x1, conv3x3, conv5x5, pool)</c>). Branches are registered as "0", "1", ...
/// </summary>
public class Concat : Module
{
    readonly Module[] branches;

    /// <summary>A join of <paramref name="branches"/> (at least one) whose outputs are concatenated along <paramref name="dim"/>.</summary>
    public Concat(int dim, params Module[] branches)
    {
        if (branches.Length == 0) throw new ArgumentException("Concat: at least one branch is needed.", nameof(branches));
        Dim = dim;
        this.branches = branches;
        for (int i = 0; i < branches.Length; i++) RegisterModule(i.ToString(), branches[i]);
    }

    /// <summary>The dimension the outputs are joined along (1: channels).</summary>
    public int Dim { get; }
    /// <summary>The branches, in the order they were given.</summary>
    public IReadOnlyList<Module> Branches => branches;

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => F.Concat(branches.Select(b => b.Forward(input)).ToArray(), Dim);

    /// <summary>The branches' output shapes joined along <see cref="Dim"/>.</summary>
    protected override int[] OutputShapeCore(int[] inputShape) => ShapeInference.Concat(branches.Select(b => b.OutputShape(inputShape)).ToArray(), Dim);

    /// <inheritdoc/>
    protected override string Describe() => $"Concat(dim={Dim})";
}
