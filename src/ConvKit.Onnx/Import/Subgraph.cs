using ConvKit.Onnx.Ops;
using ConvKit.Onnx.Proto;

namespace ConvKit.Onnx.Import;

/// <summary>
/// A graph attribute (If's branches) compiled to run inside its node. Its nodes read its own initialisers and values
/// and, by name, values of the enclosing graphs; the planner passes those to the node as extra inputs after its
/// declared ones, in the order of <see cref="CapturedNames"/>, so that they stay alive until the node has run.
/// </summary>
sealed class Subgraph
{
    readonly (NodeContext Context, OpKernel Kernel, string[] Reads)[] nodes;
    readonly Dictionary<string, OnnxValue> constants = [];
    readonly string[] outputs;

    public Subgraph(GraphProto graph, long opset, Func<string, OnnxNotSupportedException> unsupported)
    {
        foreach (var tensor in graph.Initializer) constants[tensor.Name] = TensorProtos.Decode(tensor, unsupported);
        nodes = graph.Node.Select(n =>
        {
            var context = new NodeContext(n, opset);
            return (context, Operators.Compile(context), Reads(n).ToArray());
        }).ToArray();
        outputs = graph.Output.Select(o => o.Name).ToArray();
    }

    /// <summary>Runs the graph on the enclosing graphs' <paramref name="outer"/> values; returns its outputs in order.</summary>
    public OnnxValue?[] Run(IReadOnlyDictionary<string, OnnxValue> outer, RunState state)
    {
        var values = new Dictionary<string, OnnxValue>(outer);
        foreach (var (name, value) in constants) values[name] = value;
        foreach (var (context, kernel, reads) in nodes)
        {
            var arguments = reads.Select(name => name.Length == 0 ? null
                : values.TryGetValue(name, out var value) ? value : throw context.Invalid($"reads '{name}', which nothing before it defines.")).ToArray();
            var results = kernel(arguments, state);
            for (int i = 0; i < context.OutputCount && i < results.Length; i++)
                if (context.HasOutput(i) && results[i] is { } result) values[context.Node.Output[i]] = result;
        }
        return outputs.Select(name => values.GetValueOrDefault(name)).ToArray();
    }

    /// <summary>The names a node reads: its declared inputs, then the values of enclosing graphs its subgraphs read.</summary>
    public static IEnumerable<string> Reads(NodeProto node) => node.Input.Concat(CapturedNames(node));

    /// <summary>The names a node's subgraphs read that they do not define themselves (each once, in order of first use).</summary>
    public static IEnumerable<string> CapturedNames(NodeProto node)
    {
        var graphs = node.Attribute.SelectMany(a => a.G != null ? [a.G, .. a.Graphs] : a.Graphs.ToArray());
        var captured = new List<string>();
        foreach (var graph in graphs)
        {
            var defined = graph.Initializer.Select(t => t.Name).Concat(graph.Input.Select(i => i.Name)).ToHashSet();
            foreach (var inner in graph.Node)
            {
                captured.AddRange(Reads(inner).Where(n => n.Length > 0 && !defined.Contains(n)));
                defined.UnionWith(inner.Output);
            }
            captured.AddRange(graph.Output.Select(o => o.Name).Where(n => !defined.Contains(n)));
        }
        return captured.Distinct();
    }
}
