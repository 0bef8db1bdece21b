using ConvKit.Backends;

namespace ConvKit.Autograd;

/// <summary>
/// How a tensor was made: the op's name, its operands, and its backward rule, which maps the gradient of
/// the output to the gradient of each operand (null for an operand that needs none). The rule reads the values the
/// op saw, so the node keeps the storage versions of its operands and output and Backward refuses to run it once
/// any of them was overwritten in place. Backward frees the node (rule and operands) unless asked to retain the graph.
/// </summary>
/// <remarks>
/// The node holds only what the walk needs of each operand: the node that made it, or the leaf itself when it is one
/// that needs a gradient (a parameter), its shape and its version counter; not its values. An activation is therefore
/// kept only by the backward rules that read it (ReLU's rule reads its output, so the convolution or sum before it
/// can go once it has run), as PyTorch keeps only the tensors its rules save.
/// </remarks>
public sealed class Node
{
    /// <summary>What the graph keeps of one operand.</summary>
    internal readonly record struct Edge(Node? Producer, Tensor? Leaf, int[] Dims, Storage.VersionCounter Versions, int Version)
    {
        /// <summary>Where the operand's gradient goes: its node, its leaf (if that still needs one), or nowhere.</summary>
        public object? Target => (object?)Producer ?? (Leaf is { RequiresGrad: true } ? Leaf : null);

        public static Edge To(Tensor operand) => new(operand.GradFn, operand.GradFn == null && operand.RequiresGrad ? operand : null,
            operand.Dims, operand.OwnStorage.Versions, operand.OwnStorage.Version);
    }

    readonly Storage.VersionCounter outputVersions;
    readonly int[] outputDims;
    readonly int outputVersion;
    Func<Tensor, Tensor?[]>? backward;

    Node(string op, Tensor[] inputs, Func<Tensor, Tensor?[]> backward, Tensor output)
    {
        Op = op;
        Edges = new Edge[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) Edges[i] = Edge.To(inputs[i]);
        this.backward = backward;
        outputVersions = output.OwnStorage.Versions;
        outputDims = output.Dims;
        outputVersion = output.OwnStorage.Version;
    }

    /// <summary>The name of the op that made the output (<c>Conv2d</c>, <c>Add</c>, ...), as error messages and traces show it.</summary>
    public string Op { get; }

    /// <summary>The op's operands as the walk sees them; empty once a Backward without retainGraph has freed the node.</summary>
    internal Edge[] Edges { get; private set; }

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
        for (int i = 0; i < Edges.Length; i++)
            if (Edges[i].Versions.Value != Edges[i].Version)
                throw Modified($"input {i}", Edges[i].Dims, Edges[i].Versions.Value, Edges[i].Version);
        if (outputVersions.Value != outputVersion) throw Modified("the output", outputDims, outputVersions.Value, outputVersion);
    }

    InvalidOperationException Modified(string operand, int[] shape, int version, int expected) => new(
        "Backward: one of the tensors needed for gradient computation has been modified by an in-place operation: " +
        $"{operand} of {Op}, of shape {Shapes.Format(shape)}, is at version {version}; expected version {expected}. " +
        "Make the in-place change (an optimiser step, AddInPlace, CopyFrom, ...) after Backward, or give the op a Clone().");

    /// <summary>Drops the backward rule and the operands, and with them every tensor they kept alive.</summary>
    internal void Free()
    {
        backward = null;
        Edges = [];
    }

    /// <summary>
    /// The one record of an op call, made by every op after computing its output: it reports the call to the open
    /// <see cref="OpTrace"/> (name, operands, attributes; what the exporter reads) and, when recording is on and any
    /// input needs a gradient, attaches a node to <paramref name="output"/> (what Backward reads). Both views come from
    /// this call, so no op can reach one and not the other. The backward rule runs with recording off; a null rule
    /// marks a non-differentiable op (comparisons, indices), which is still traced.
    /// </summary>
    /// <param name="operands">the op's tensor operands as traced, in parameter order (null for an optional one not given)</param>
    /// <param name="inputs">the operands the backward rule returns gradients for, in its order</param>
    /// <param name="attributes">the op's non-tensor settings by name, as the exporter reads them</param>
    public static Tensor Record(Tensor output, string op, Tensor?[] operands, Tensor[] inputs, Func<Tensor, Tensor?[]>? backward,
        params ReadOnlySpan<(string Name, object Value)> attributes)
    {
        if (OpTrace.IsActive) OpTrace.Record(op, output, operands, attributes);
        if (backward == null || !GradMode.IsEnabled) return output;
        foreach (var input in inputs)
            if (input.RequiresGrad)
            {
                output.AttachNode(new Node(op, inputs, backward, output));
                break;
            }
        return output;
    }

    /// <summary><see cref="Record(Tensor, string, Tensor?[], Tensor[], Func{Tensor, Tensor?[]}?, ReadOnlySpan{ValueTuple{string, object}})"/> for an op whose traced operands are its differentiable inputs.</summary>
    public static Tensor Record(Tensor output, string op, Tensor[] inputs, Func<Tensor, Tensor?[]>? backward,
        params ReadOnlySpan<(string Name, object Value)> attributes)
        => Record(output, op, inputs, inputs, backward, attributes);

    /// <summary>The one-operand form of <see cref="Record(Tensor, string, Tensor[], Func{Tensor, Tensor?[]}?, ReadOnlySpan{ValueTuple{string, object}})"/>.</summary>
    public static Tensor Record(Tensor output, string op, Tensor input, Func<Tensor, Tensor?>? backward,
        params ReadOnlySpan<(string Name, object Value)> attributes)
        => Record(output, op, [input], backward == null ? null : g => [backward(g)], attributes);
}
