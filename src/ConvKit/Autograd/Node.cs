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
        for (int i = 0; i < inputs.Length; i++) inputVersions[i] = inputs[i].OwnStorage.Version;
        this.output = output.OwnStorage;
        outputDims = output.Dims;
        outputVersion = output.Storage.Version;
    }

    /// <summary>The name of the op that made the output (<c>Conv2d</c>, <c>Add</c>, ...), as error messages and traces show it.</summary>
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
            if (Inputs[i].OwnStorage.Version != inputVersions[i])
                throw Modified($"input {i}", Inputs[i].Dims, Inputs[i].OwnStorage.Version, inputVersions[i]);
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
