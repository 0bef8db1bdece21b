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
            || readers.GetValueOrDefault(pad.Output[0]) != 1)
            return null;
        var padding = new NodeContext(pad, opset);
        if (padding.String("mode", "constant") != "constant") return null;
        if (nodes.FirstOrDefault(n => n.Input.Contains(pad.Output[0])) is not { OpType: "AveragePool" } pool || pool.Domain is not ("" or "ai.onnx")
            || pool.Input[0] != pad.Output[0])
            return null;
        var pooling = new NodeContext(pool, opset);
        if (pooling.Ints("pads")?.Any(p => p != 0) == true || pooling.String("auto_pad", "NOTSET") is not ("" or "NOTSET")
            || pooling.Int("ceil_mode", 0) != 0)
            return null;

        long[]? pads;
        if (opset < 11)
        {
            pads = padding.Ints("pads");
            if (padding.Float("value", 0f) != 0f) return null;
        }
        else
        {
            pads = padding.HasInput(1) ? ActivationFusion.Known(pad.Input[1], nodes, constants)?.Ints : null;
            bool zeroFill = !padding.HasInput(2) || ActivationFusion.Known(pad.Input[2], nodes, constants)?.Float is { Numel: 1 } fill && fill.ToArray()[0] == 0f;
            if (!zeroFill || padding.HasInput(3)) return null; // no axes input (opset 18)
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
}
