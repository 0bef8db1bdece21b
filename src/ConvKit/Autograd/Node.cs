namespace ConvKit.Autograd;

/// <summary>
/// How a tensor was made: the op's name, its inputs, and its backward rule, which maps the gradient of
/// the output to the gradient of each input (null for an input that needs none).
/// </summary>
public sealed class Node(string op, Tensor[] inputs, Func<Tensor, Tensor?[]> backward)
{
    public string Op { get; } = op;
    public Tensor[] Inputs { get; } = inputs;
    internal Func<Tensor, Tensor?[]> Backward { get; } = backward;

    /// <summary>
    /// Attaches a node to <paramref name="output"/> when recording is on and any input needs a gradient.
    /// The backward rule runs with recording off.
    /// </summary>
    public static Tensor Record(Tensor output, string op, Tensor[] inputs, Func<Tensor, Tensor?[]> backward)
    {
        if (!GradMode.IsEnabled) return output;
        foreach (var input in inputs)
            if (input.RequiresGrad)
            {
                output.AttachNode(new Node(op, inputs, backward));
                break;
            }
        return output;
    }

    public static Tensor Record(Tensor output, string op, Tensor input, Func<Tensor, Tensor?> backward)
        => Record(output, op, [input], g => [backward(g)]);
}
