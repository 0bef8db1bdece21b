using ConvKit.Onnx.Proto;

namespace ConvKit.Onnx.Import;

/// <summary>
/// A Pad of zeros on the spatial axes whose only reader is an unpadded AveragePool becomes the pool's own padding,
/// counted in every window's divisor (<c>count_include_pad</c>), as ONNX Runtime's graph optimiser fuses them: PyTorch
/// exports <c>avg_pool2d(…, padding=p)</c>, which counts padding by default, as Pad then AveragePool (Inception-v3 has
/// nine), and the padded copy of the input is then never made. The same windows over the same values: without
/// ceil mode every window of the unpadded pool lies inside the padded input, so its divisor was the kernel's size.
/// </summary>
static class PadFusion
{
    /// <summary>The AveragePool that absorbs <paramref name="pad"/>, and that pool rewritten to read the Pad's input; null when the pair does not fuse.</summary>
    public static (NodeProto Pool, NodeProto Fused)? Find(NodeProto pad, IReadOnlyList<NodeProto> nodes, IReadOnlyDictionary<string, int> readers,
        IReadOnlySet<string> keep, IReadOnlyDictionary<string, OnnxValue> constants, long opset)
    {
        if (pad.OpType != "Pad" || pad.Domain is not ("" or "ai.onnx") || pad.Output.Count != 1 || keep.Contains(pad.Output[0])
            || readers.GetValueOrDefault(pad.Output[0]) != 1 || Attribute(pad, "mode") is { } mode && mode.S.ToStringUtf8() != "constant")
            return null;
        if (nodes.FirstOrDefault(n => n.Input.Contains(pad.Output[0])) is not { OpType: "AveragePool" } pool || pool.Domain is not ("" or "ai.onnx")
            || pool.Input[0] != pad.Output[0] || Ints(pool, "pads")?.Any(p => p != 0) == true
            || Attribute(pool, "auto_pad") is { } autoPad && autoPad.S.ToStringUtf8() is not ("" or "NOTSET")
            || Attribute(pool, "ceil_mode") is { I: not 0 })
            return null;

        long[]? pads;
        if (opset < 11)
        {
            pads = Ints(pad, "pads");
            if (Attribute(pad, "value") is { F: not 0f }) return null;
        }
        else
        {
            pads = pad.Input.Count > 1 && pad.Input[1].Length > 0 ? ActivationFusion.Known(pad.Input[1], nodes, constants)?.Ints : null;
            bool zeroFill = pad.Input.Count < 3 || pad.Input[2].Length == 0
                || ActivationFusion.Known(pad.Input[2], nodes, constants)?.Float is { Numel: 1 } fill && fill.ToArray()[0] == 0f;
            if (!zeroFill || pad.Input.Count > 3 && pad.Input[3].Length > 0) return null; // no axes input (opset 18)
        }
        // (N, C, H, W) padded on H and W only, by non-negative amounts: [0, 0, top, left, 0, 0, bottom, right].
        if (pads is not { Length: 8 } || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 || pads.Any(p => p < 0)) return null;

        var fused = pool.Clone();
        fused.Input[0] = pad.Input[0];
        foreach (var replaced in fused.Attribute.Where(a => a.Name is "pads" or "count_include_pad").ToList()) fused.Attribute.Remove(replaced);
        var padsAttribute = new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints };
        padsAttribute.Ints.AddRange([pads[2], pads[3], pads[6], pads[7]]);
        fused.Attribute.Add(padsAttribute);
        fused.Attribute.Add(new AttributeProto { Name = "count_include_pad", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        return (pool, fused);
    }

    static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    static long[]? Ints(NodeProto node, string name) => Attribute(node, name) is { } attribute ? [.. attribute.Ints] : null;
}
