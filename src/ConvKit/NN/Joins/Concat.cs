using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>
/// Runs every branch on the same input and joins their outputs along <see cref="Dim"/> (the channels, for the
/// Inception block: <c>new Concat(1, conv1x1, conv3x3, conv5x5, pool)</c>). Branches are registered as "0", "1", ...
/// </summary>
public class Concat : Module
{
    readonly Module[] branches;

    public Concat(int dim, params Module[] branches)
    {
        if (branches.Length == 0) throw new ArgumentException("Concat: at least one branch is needed.", nameof(branches));
        Dim = dim;
        this.branches = branches;
        for (int i = 0; i < branches.Length; i++) RegisterModule(i.ToString(), branches[i]);
    }

    public int Dim { get; }
    public IReadOnlyList<Module> Branches => branches;

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => F.Concat(branches.Select(b => b.Forward(input)).ToArray(), Dim);

    /// <inheritdoc/>
    protected override string Describe() => $"Concat(dim={Dim})";
}
