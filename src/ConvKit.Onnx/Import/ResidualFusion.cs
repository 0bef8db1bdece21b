using ConvKit.Backends;
using ConvKit.Onnx.Proto;

namespace ConvKit.Onnx.Import;

/// <summary>
/// A Conv whose output's one reader is an Add — a residual block's last convolution and its shortcut — runs as one
/// Conv node with the Add's other operand as a fourth input, and with the activation after the Add when the sum's one
/// reader is one <see cref="ActivationFusion"/> fuses (ResNet's ReLU), as ONNX Runtime's graph optimiser fuses them: the
/// convolution adds the shortcut as it stores its output, and the Add and ReLU make no passes of their own (16 of each
/// in ResNet-50, 5–6% of its time on Zen 3). The node stands at the Add's place, where the shortcut has been computed.
/// The Conv's output and the sum must have no other reader and must not be values the caller keeps.
/// </summary>
static class ResidualFusion
{
    /// <summary>The fused node, the Add it stands in for, the nodes it absorbs, and the activation after the Add.</summary>
    public sealed record Match(NodeProto Fused, NodeProto Add, NodeProto[] Absorbed, ActivationFusion.Match? Activation);

    public static Match? Find(NodeProto conv, IReadOnlyList<NodeProto> nodes, IReadOnlyDictionary<string, int> readers,
        IReadOnlySet<string> keep, IReadOnlyDictionary<string, OnnxValue> constants, long opset)
    {
        if (conv.OpType != "Conv" || !ActivationFusion.Standard(conv) || conv.Output.Count != 1 || conv.Input.Count > 3) return null;
        if (OnlyReader(conv.Output[0]) is not { OpType: "Add", Input.Count: 2, Output.Count: 1 } add || !ActivationFusion.Standard(add)
            || add.Input[0] == add.Input[1])
            return null;
        string shortcut = add.Input[0] == conv.Output[0] ? add.Input[1] : add.Input[0];
        var activation = keep.Contains(add.Output[0]) ? null : ActivationFusion.ReadBy(add.Output[0], nodes, readers, constants, opset);

        var fused = conv.Clone();
        while (fused.Input.Count < 3) fused.Input.Add("");
        fused.Input.Add(shortcut);
        fused.Output.Clear();
        fused.Output.AddRange(activation?.Outputs ?? [add.Output[0]]);
        return new(fused, add, activation == null ? [add] : [add, .. activation.Absorbed], activation);

        // The one reader of a value no caller keeps.
        NodeProto? OnlyReader(string value) =>
            keep.Contains(value) || readers.GetValueOrDefault(value) != 1 ? null : nodes.FirstOrDefault(n => Subgraph.Reads(n).Contains(value));
    }
}
