using ConvKit.Onnx.Proto;

namespace ConvKit.Onnx.Import;

/// <summary>
/// GELU as PyTorch exports it before opset 20 — Div(x, √2), Erf, Add 1, Mul by x, Mul by ½ — becomes one Gelu node,
/// as ONNX Runtime's graph optimiser fuses it: one pass over the values instead of five, and none of the four
/// intermediate tensors (ConvNeXt-T runs the chain 18 times, on up to 1.2 million values). The Mul and Add operands may
/// come in either order; each constant is a one-value initialiser or Constant (√2 within 1e-6, 1 and ½ exactly); every
/// intermediate value has the next node as its only reader and is not a value the caller keeps.
/// </summary>
static class GeluFusion
{
    /// <summary>The nodes the chain starting at <paramref name="div"/> absorbs, and the Gelu node standing for it; null when it does not fuse.</summary>
    public static (NodeProto[] Absorbed, NodeProto Gelu)? Find(NodeProto div, IReadOnlyList<NodeProto> nodes, IReadOnlyDictionary<string, int> readers,
        IReadOnlySet<string> keep, IReadOnlyDictionary<string, OnnxValue> constants)
    {
        if (div.OpType != "Div" || !Standard(div) || div.Input.Count != 2 || !Is(div.Input[1], MathF.Sqrt(2f), 1e-6f)) return null;
        string x = div.Input[0];
        if (Next(div, "Erf") is not { } erf || Next(erf, "Add") is not { } add || Other(add, erf.Output[0]) is not { } one || !Is(one, 1f, 0f)
            || Next(add, "Mul") is not { } times || Other(times, add.Output[0]) != x
            || Next(times, "Mul") is not { } half || Other(half, times.Output[0]) is not { } factor || !Is(factor, 0.5f, 0f))
            return null;
        var gelu = new NodeProto { OpType = "Gelu", Name = div.Name };
        gelu.Input.Add(x);
        gelu.Output.Add(half.Output[0]);
        return ([erf, add, times, half], gelu);

        // The one reader of node's single output, when it is a standard op of the given type with one output.
        NodeProto? Next(NodeProto node, string opType)
        {
            if (node.Output.Count != 1 || keep.Contains(node.Output[0]) || readers.GetValueOrDefault(node.Output[0]) != 1) return null;
            var reader = nodes.FirstOrDefault(n => n.Input.Contains(node.Output[0]));
            return reader is { Output.Count: 1 } && reader.OpType == opType && Standard(reader) && reader.Input.Count == (opType == "Erf" ? 1 : 2) ? reader : null;
        }

        bool Is(string name, float value, float tolerance) =>
            ActivationFusion.Known(name, nodes, constants)?.Float is { Numel: 1 } known && MathF.Abs(known.ToArray()[0] - value) <= tolerance;
    }

    /// <summary>The binary node's operand other than <paramref name="value"/>.</summary>
    static string? Other(NodeProto node, string value) =>
        node.Input[0] == value ? node.Input[1] : node.Input[1] == value ? node.Input[0] : null;

    static bool Standard(NodeProto node) => node.Domain is "" or "ai.onnx";
}
