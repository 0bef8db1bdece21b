using ConvKit.Backends;

namespace ConvKit.Autograd;

/// <summary>
/// How a tensor was made: the op's name, its inputs, and its backward rule, which maps the gradient of
/// the output to the gradient of each input (null for an input that needs none). The rule reads the values the
/// op saw, so the node keeps the storage versions of its inputs and output and Backward refuses to run it once
/// any of them was overwritten in place. Backward frees the node (rule and inputs) unless asked to retain the graph.
/// </summary>
public sealed class Node
{
    readonly int[] inputVersions;
    readonly Storage output;
    readonly int[] outputDims;
    readonly int outputVersion;
    Func<Tensor, Tensor?[]>? backward;

    Node(string op, Tensor[] inputs, Func<Tensor, Tensor?[]> backward, Tensor output)
    {
        Op = op;
        Inputs = inputs;
        this.backward = backward;
        inputVersions = new int[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) inputVersions[i] = inputs[i].Storage.Version;
        this.output = output.Storage;
        outputDims = output.Dims;
        outputVersion = output.Storage.Version;
    }

    public string Op { get; }

    /// <summary>The op's operands; empty once a Backward without retainGraph has freed the node.</summary>
    public Tensor[] Inputs { get; private set; }

    /// <summary>Whether a Backward without retainGraph has dropped the backward rule and what it kept.</summary>
    public bool IsFreed => backward == null;

    internal Tensor?[] Backward(Tensor gradient) => backward!(gradient);

    /// <summary>Throws unless the backward rule can still run on the values the op saw.</summary>
    internal void CheckUsable()
    {
        if (backward == null)
            throw new InvalidOperationException(
                $"Backward: trying to backward through the graph a second time ({Op} was freed by an earlier Backward); " +
                "specify retainGraph: true on the first Backward to walk a graph more than once.");
        for (int i = 0; i < Inputs.Length; i++)
            if (Inputs[i].Storage.Version != inputVersions[i])
                throw Modified($"input {i}", Inputs[i].Dims, Inputs[i].Storage.Version, inputVersions[i]);
        if (output.Version != outputVersion) throw Modified("the output", outputDims, output.Version, outputVersion);
    }

    InvalidOperationException Modified(string operand, int[] shape, int version, int expected) => new(
        "Backward: one of the tensors needed for gradient computation has been modified by an in-place operation: " +
        $"{operand} of {Op}, of shape {Shapes.Format(shape)}, is at version {version}; expected version {expected}. " +
        "Make the in-place change (an optimiser step, AddInPlace, CopyFrom, ...) after Backward, or give the op a Clone().");

    /// <summary>Drops the backward rule and the inputs, and with them every tensor they kept alive.</summary>
    internal void Free()
    {
        backward = null;
        Inputs = [];
    }

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
                output.AttachNode(new Node(op, inputs, backward, output));
                break;
            }
        return output;
    }

    public static Tensor Record(Tensor output, string op, Tensor input, Func<Tensor, Tensor?> backward)
        => Record(output, op, [input], g => [backward(g)]);
}
