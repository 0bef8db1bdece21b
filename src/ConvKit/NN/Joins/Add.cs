namespace ConvKit.NN;

/// <summary>
/// Runs every branch on the same input and sums their outputs (which must have one shape). With an
/// <see cref="Identity"/> branch this is the residual connection of ResNet: <c>new Add(new Identity(), block)</c>.
/// Branches are registered as "0", "1", ...
/// </summary>
public class Add : Module
{
    readonly Module[] branches;

    /// <summary>A join of <paramref name="branches"/> (at least one) whose outputs are summed.</summary>
    public Add(params Module[] branches)
    {
        if (branches.Length == 0) throw new ArgumentException("Add: at least one branch is needed.", nameof(branches));
        this.branches = branches;
        for (int i = 0; i < branches.Length; i++) RegisterModule(i.ToString(), branches[i]);
    }

    /// <summary>The branches, in the order they were given.</summary>
    public IReadOnlyList<Module> Branches => branches;

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        var sum = branches[0].Forward(input);
        for (int i = 1; i < branches.Length; i++)
        {
            var output = branches[i].Forward(input);
            if (!output.Shape.SequenceEqual(sum.Shape))
                throw new ArgumentException($"Add: branch {i} gives shape {Shapes.Format(output.Shape)} but branch 0 gives {Shapes.Format(sum.Shape)}.");
            sum += output;
        }
        return sum;
    }

    /// <summary>The branches' common output shape; branches that disagree throw as the forward pass does.</summary>
    protected override int[] OutputShapeCore(int[] inputShape)
    {
        var sum = branches[0].OutputShape(inputShape);
        for (int i = 1; i < branches.Length; i++)
        {
            var output = branches[i].OutputShape(inputShape);
            if (!output.SequenceEqual(sum))
                throw new ArgumentException($"Add: branch {i} gives shape {Shapes.Format(output)} but branch 0 gives {Shapes.Format(sum)}.");
        }
        return sum;
    }
}
