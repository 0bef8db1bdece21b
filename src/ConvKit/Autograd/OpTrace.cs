namespace ConvKit.Autograd;

/// <summary>One op call seen by an <see cref="OpTrace"/>: what ran, on which tensors, with which settings.</summary>
/// <param name="Op">the op's name, as in <c>F</c> (e.g. "Conv2d", "Add", "Reshape")</param>
/// <param name="Inputs">the operands in the op's parameter order; null for an optional operand not given (e.g. a bias)</param>
/// <param name="Attributes">the op's non-tensor settings by name (e.g. "dim", "kernelSize"); see each op for its names</param>
public sealed record TracedOp(string Op, IReadOnlyList<Tensor?> Inputs, Tensor Output, IReadOnlyDictionary<string, object> Attributes);

/// <summary>
/// Records the ops that run inside the trace's scope (after its awaits and in tasks started inside it too) — the
/// op-level view of a forward pass that an exporter (ONNX) turns into a graph, whatever mix of layers and plain tensor
/// code computed it.
/// Ops report after computing their output, so an op built from other reporting ops (a composite) reports
/// last and <see cref="ProducerOf"/> gives it, not its parts. When no trace is open an op's only cost is the
/// <see cref="IsActive"/> check. Traces nest; the innermost one records.
/// </summary>
public sealed class OpTrace : IDisposable
{
    // Flows with the execution context, as GradMode does. Traces are rare, so a count of open ones lets every op skip
    // even the AsyncLocal read when none is.
    static readonly AsyncLocal<OpTrace?> current = new();
    static int open;

    readonly OpTrace? outer;
    readonly Dictionary<Tensor, TracedOp> producers = new(ReferenceEqualityComparer.Instance);
    bool disposed;

    OpTrace(OpTrace? outer) => this.outer = outer;

    /// <summary>Starts recording here until the returned trace is disposed.</summary>
    public static OpTrace Start()
    {
        var trace = new OpTrace(current.Value);
        Interlocked.Increment(ref open);
        current.Value = trace;
        return trace;
    }

    /// <summary>Whether a trace is recording here; ops test it before building their report.</summary>
    public static bool IsActive => Volatile.Read(ref open) != 0 && current.Value != null;

    /// <summary>
    /// Reports that <paramref name="op"/> made <paramref name="output"/> from <paramref name="inputs"/>. Ops do not call
    /// this themselves: <see cref="Node.Record(Tensor, string, Tensor?[], Tensor[], Func{Tensor, Tensor?[]}?, ReadOnlySpan{ValueTuple{string, object}})"/>
    /// calls it when <see cref="IsActive"/>, so the trace and autograd see the same ops. An op that returns one of its
    /// inputs unchanged does not report.
    /// </summary>
    internal static void Record(string op, Tensor output, Tensor?[] inputs, ReadOnlySpan<(string Name, object Value)> attributes)
    {
        if (current.Value is not { } trace) return;
        var named = new Dictionary<string, object>(attributes.Length);
        foreach (var (name, value) in attributes) named[name] = value;
        // Tasks started inside the scope share the trace, so its table is locked.
        lock (trace.producers) trace.producers[output] = new TracedOp(op, inputs, output, named);
    }

    /// <summary>The outermost op that made <paramref name="tensor"/> while this trace was open, or null.</summary>
    public TracedOp? ProducerOf(Tensor tensor)
    {
        lock (producers) return producers.GetValueOrDefault(tensor);
    }

    /// <summary>Every op call recorded so far (the outermost per output tensor), in no particular order.</summary>
    public IReadOnlyList<TracedOp> Ops
    {
        get { lock (producers) return [.. producers.Values]; }
    }

    /// <summary>Stops recording.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        Interlocked.Decrement(ref open);
        if (current.Value == this) current.Value = outer;
    }
}
