using ConvKit.Autograd;
using ConvKit.Backends;
using ConvKit.NN;
using ConvKit.Onnx.Proto;

namespace ConvKit.Onnx;

/// <summary>
/// Turns a traced forward pass into an ONNX graph by walking back from the output: a tensor made by a traced op
/// becomes that op's node(s) (after its inputs, so nodes come out in execution order), the traced input becomes
/// the graph input, parameters and buffers become initialisers under their state-dict names, and any other
/// tensor made outside the graph becomes a constant initialiser. Ops the walk never reaches (the inner ops of a
/// composite, dead code) are left out. The per-op translations are in TraceToOnnx.Ops.cs.
/// </summary>
sealed partial class TraceToOnnx
{
    readonly OpTrace trace;
    readonly Tensor input;
    readonly Module model;
    readonly Dictionary<Tensor, string> moduleOutputs;
    readonly Dictionary<Tensor, string> stateNames = new(ReferenceEqualityComparer.Instance);
    readonly Dictionary<Tensor, string> valueNames = new(ReferenceEqualityComparer.Instance);
    // INT32 values cast to FLOAT once, for the float ops that read them (as ConvKit's float ops read Int32 tensors).
    readonly Dictionary<string, string> floatCasts = new(StringComparer.Ordinal);
    readonly OnnxExportOptions options;
    readonly OnnxGraphBuilder graph = new();

    public TraceToOnnx(OpTrace trace, Tensor input, Module model, Dictionary<Tensor, string> moduleOutputs, OnnxExportOptions options)
    {
        (this.trace, this.input, this.model, this.moduleOutputs, this.options) = (trace, input, model, moduleOutputs, options);
        foreach (var (name, parameter) in model.NamedParameters()) stateNames.TryAdd(parameter, name);
        foreach (var (name, buffer) in model.NamedBuffers()) stateNames.TryAdd(buffer, name);
    }

    /// <summary>The graph from the input to <paramref name="outputs"/>: one output is named by the options, several by their own names.</summary>
    public GraphProto Build(TensorDict outputs)
    {
        string inputName = graph.Unique(options.InputName);
        valueNames[input] = inputName;
        string? batch = options.DynamicBatch ? options.BatchDimension : null;
        graph.Graph.Input.Add(OnnxGraphBuilder.ValueInfo(inputName, input.Shape, batch));

        foreach (var (key, output) in outputs)
        {
            string outputName = graph.Unique(outputs.Count == 1 ? options.OutputName : key);
            string produced = ValueOf(output, "", outputName);
            if (produced != outputName) graph.Node("Identity", "Identity", [produced], outputName);
            graph.Graph.Output.Add(OnnxGraphBuilder.ValueInfo(outputName, output.Shape, output.Rank > 0 ? batch : null, output.DType == DType.Int32));
        }
        return graph.Graph;
    }

    /// <summary>
    /// The ONNX value name of <paramref name="tensor"/>, adding whatever nodes and initialisers make it.
    /// <paramref name="layer"/> is the innermost layer known to be computing it (for messages);
    /// <paramref name="outputName"/>, when given, names the value (the graph output).
    /// </summary>
    string ValueOf(Tensor tensor, string layer, string? outputName = null)
    {
        if (valueNames.TryGetValue(tensor, out var known)) return known;
        if (moduleOutputs.TryGetValue(tensor, out var producingLayer)) layer = producingLayer;

        string name;
        if (trace.ProducerOf(tensor) is { } op)
        {
            var inputs = op.Inputs.Select(t => t == null ? "" : Operand(t, tensor, layer)).ToArray();
            name = Translate(op, inputs, NodeName(tensor, op), outputName, layer);
        }
        else if (stateNames.TryGetValue(tensor, out var stateName))
            name = graph.Initializer(stateName, tensor);
        else if (tensor.GradFn is { } untraced)
            throw Unsupported($"op '{untraced.Op}'", layer, "it has no ONNX translation");
        else if (moduleOutputs.ContainsKey(tensor))
            throw Unsupported("its output", layer, "the layer computes it outside ConvKit's ops (nothing connects it to the input)");
        else
            name = graph.Constant(tensor);
        valueNames[tensor] = name;
        return name;
    }

    /// <summary>
    /// The value an op making <paramref name="output"/> reads for <paramref name="operand"/>: an INT32 value cast to FLOAT
    /// when the op makes a float (as ConvKit's float ops read Int32 tensors), else as it is (a reshape or slice of indices).
    /// </summary>
    string Operand(Tensor operand, Tensor output, string layer)
    {
        string name = ValueOf(operand, layer);
        if (operand.DType != DType.Int32 || output.DType == DType.Int32) return name;
        if (!floatCasts.TryGetValue(name, out var cast))
            floatCasts[name] = cast = graph.Node("Cast", "Cast", [name], null, OnnxGraphBuilder.Int("to", (long)TensorProto.Types.DataType.Float));
        return cast;
    }

    /// <summary>A node is named after the layer whose output it makes (e.g. <c>layer1.0.conv1</c>), else after its op.</summary>
    string NodeName(Tensor output, TracedOp op) => moduleOutputs.TryGetValue(output, out var layer) && layer.Length > 0 ? layer : op.Op;

    NotSupportedException Unsupported(string what, string layer, string why)
    {
        string where = layer.Length == 0 ? $"the model ({model.GetType().Name})"
            : $"layer '{layer}' ({model.NamedModules().First(m => m.Name == layer).Module.GetType().Name})";
        return new NotSupportedException($"ONNX export: cannot export {what} in {where}: {why}.");
    }
}
