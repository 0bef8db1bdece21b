namespace ConvKit.NN;

/// <summary>Returns its input unchanged: a placeholder layer, and the shortcut branch of a residual <see cref="Add"/>.</summary>
public class Identity : Module
{
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => input;

    /// <summary>The same shape as the input (element-wise).</summary>
    protected override int[] OutputShapeCore(int[] inputShape) => [.. inputShape];
}
