using ConvKit.Backends;
using ConvKit.Onnx.Proto;

namespace ConvKit.Onnx.Import;

/// <summary>
/// Finds the activation a Conv's output goes through and nothing else, which the Conv then applies in its epilogue
/// (<see cref="ConvKit.Ops.F.Conv2d(Tensor, Tensor, Tensor?, ActivationOp, Size2?, Padding?, Size2?, int, float)"/>),
/// as ONNX Runtime's graph optimiser fuses them: Relu; Clip to [0, 6] or [0, ∞) (bounds as attributes before opset 11,
/// constant inputs from 11); HardSigmoid with PyTorch's alpha 1/6 and beta ½; HardSwish; Sigmoid; Tanh; LeakyRelu; and
/// the gated forms PyTorch exports, SiLU as x·Sigmoid(x) and (before opset 14) HardSwish as x·HardSigmoid(x): a gate and
/// a Mul both reading the Conv's output, the Mul also the gate's. The Conv's output (and the gate's) must have no other
/// reader and must not be a value the caller keeps.
/// </summary>
static class ActivationFusion
{
    /// <summary>The activation, the nodes it absorbs, and the outputs the fused Conv then produces.</summary>
    public sealed record Match(ActivationOp Op, float Parameter, NodeProto[] Absorbed, string[] Outputs);

    public static Match? Find(NodeProto conv, IReadOnlyList<NodeProto> nodes, IReadOnlyDictionary<string, int> readers,
        IReadOnlySet<string> keep, IReadOnlyDictionary<string, OnnxValue> constants, long opset)
    {
        if (conv.OpType != "Conv" || !Standard(conv) || conv.Output.Count != 1 || keep.Contains(conv.Output[0])) return null;
        string x = conv.Output[0];
        int uses = readers.GetValueOrDefault(x);
        if (uses == 1) return ReadBy(x, nodes, readers, constants, opset);
        var consumers = nodes.Where(n => Subgraph.Reads(n).Contains(x)).ToList();
        // x·gate(x), the gate read only by the Mul: SiLU with a Sigmoid, HardSwish with PyTorch's HardSigmoid (as
        // opsets before 14 spell it; the same float operations as the HardSwish kernel's).
        if (uses == 2 && consumers.Count == 2
            && consumers.FirstOrDefault(n => n.OpType != "Mul") is { } gate && Standard(gate) && gate.Output.Count == 1 && gate.Input[0] == x
            && Unary(gate, nodes, constants, opset) is { Op: ActivationOp.Sigmoid or ActivationOp.HardSigmoid } gated
            && consumers.FirstOrDefault(n => n.OpType == "Mul") is { } mul && Standard(mul) && mul.Input.Count == 2
            && readers.GetValueOrDefault(gate.Output[0]) == 1 && !keep.Contains(gate.Output[0])
            && mul.Input.Contains(x) && mul.Input.Contains(gate.Output[0]))
            return new(gated.Op == ActivationOp.Sigmoid ? ActivationOp.Silu : ActivationOp.HardSwish, 0f, [gate, mul], [.. mul.Output]);
        return null;
    }

    /// <summary>
    /// The single-input activation that is <paramref name="x"/>'s one reader, reading it as its first input, if the
    /// epilogue has it (the caller has made sure no one keeps <paramref name="x"/>).
    /// </summary>
    internal static Match? ReadBy(string x, IReadOnlyList<NodeProto> nodes, IReadOnlyDictionary<string, int> readers,
        IReadOnlyDictionary<string, OnnxValue> constants, long opset) =>
        readers.GetValueOrDefault(x) == 1 && nodes.FirstOrDefault(n => Subgraph.Reads(n).Contains(x)) is { } only && Standard(only)
        && only.Input.Count >= 1 && only.Input[0] == x && only.Output.Count >= 1 && Unary(only, nodes, constants, opset) is { } unary
            ? new(unary.Op, unary.Parameter, [only], [.. only.Output])
            : null;

    internal static bool Standard(NodeProto node) => node.Domain is "" or "ai.onnx";

    /// <summary>The single-input activation <paramref name="node"/> computes, if the epilogue has it.</summary>
    static (ActivationOp Op, float Parameter)? Unary(NodeProto node, IReadOnlyList<NodeProto> nodes, IReadOnlyDictionary<string, OnnxValue> constants, long opset)
    {
        var context = new NodeContext(node, opset);
        switch (node.OpType)
        {
            case "Relu": return (ActivationOp.Relu, 0f);
            case "Sigmoid": return (ActivationOp.Sigmoid, 0f);
            case "Tanh": return (ActivationOp.Tanh, 0f);
            case "LeakyRelu": return (ActivationOp.LeakyRelu, context.Float("alpha", 0.01f));
            // HardSwish exists from opset 14; before, the node's own compiler refuses it.
            case "HardSwish": return opset >= 14 ? (ActivationOp.HardSwish, 0f) : null;
            case "HardSigmoid":
                return context.Float("alpha", 0.2f) == 1f / 6 && context.Float("beta", 0.5f) == 0.5f ? (ActivationOp.HardSigmoid, 0f) : null;
            case "Clip":
                float? min, max;
                // Before opset 11 an absent bound is ±float.MaxValue (as the Clip kernel has it), from 11 it is ±∞.
                if (opset < 11) (min, max) = (context.Float("min", float.MinValue), context.Float("max", float.MaxValue));
                else
                {
                    min = context.HasInput(1) ? Scalar(node.Input[1], nodes, constants) : null;
                    max = context.HasInput(2) ? Scalar(node.Input[2], nodes, constants) : null;
                    // A bound that is given but not a constant scalar is only known at run time.
                    if ((context.HasInput(1) && min == null) || (context.HasInput(2) && max == null)) return null;
                }
                return min == 0f && max == 6f ? (ActivationOp.Relu6, 0f) : min == 0f && max == null ? (ActivationOp.Relu, 0f) : null;
            default: return null;
        }
    }

    /// <summary>
    /// A one-element float value known at load time: an initialiser, or a Constant node's <c>value</c> tensor,
    /// <c>value_float</c> or one-element <c>value_floats</c>; null otherwise.
    /// </summary>
    static float? Scalar(string name, IReadOnlyList<NodeProto> nodes, IReadOnlyDictionary<string, OnnxValue> constants) =>
        Known(name, nodes, constants)?.Float is { Numel: 1 } scalar ? scalar.ToArray()[0] : null;

    /// <summary>
    /// A value known at load time: an initialiser, or a Constant node's <c>value</c> tensor, <c>value_float(s)</c> or
    /// <c>value_int(s)</c>; null otherwise.
    /// </summary>
    internal static OnnxValue? Known(string name, IReadOnlyList<NodeProto> nodes, IReadOnlyDictionary<string, OnnxValue> constants)
    {
        if (constants.GetValueOrDefault(name) is { } known) return known;
        if (nodes.FirstOrDefault(n => n.OpType == "Constant" && n.Output.Contains(name)) is not { } constant) return null;
        foreach (var attribute in constant.Attribute)
            switch (attribute.Name)
            {
                case "value" when attribute.T != null: return TensorProtos.Decode(attribute.T, problem => new InvalidDataException(problem));
                case "value_float": return OnnxValue.Of(Tensor.FromArray([attribute.F], 1));
                case "value_floats": return OnnxValue.Of(Tensor.FromArray([.. attribute.Floats], attribute.Floats.Count));
                case "value_int": return OnnxValue.OfInts([attribute.I], [1]);
                case "value_ints": return OnnxValue.OfInts([.. attribute.Ints], [attribute.Ints.Count]);
            }
        return null;
    }
}
