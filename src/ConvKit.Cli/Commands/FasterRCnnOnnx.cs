using System.Runtime.InteropServices;
using ConvKit.Onnx;
using ConvKit.Onnx.Proto;
using ConvKit.Vision.Detection;
using Google.Protobuf;

namespace ConvKit.Cli.Commands;

/// <summary>
/// Faster R-CNN's whole inference graph as ONNX, picture in, detections out: the traced backbone and RPN head
/// (<see cref="OnnxExporter"/>), then, as ONNX nodes, what <see cref="FasterRCnn.Detect"/> does in C#: the anchors'
/// deltas decoded (<see cref="BoxCoder.RegionProposals"/>) and clipped to the picture, the pre-NMS top N by objectness
/// (TopK), boxes under 1e-3 pixel dropped, NonMaxSuppression at the RPN's IoU keeping the post-NMS top N, RoiAlign
/// (7×7, sampling ratio 2, <c>output_half_pixel</c> = torchvision's aligned=False), the box head (Gemm, Relu), softmax,
/// per-class decoding (<see cref="BoxCoder.RegionHead"/>) and clipping, boxes under 0.01 pixel dropped, per-class
/// NonMaxSuppression with the options' score and IoU thresholds, and the best <see cref="DetectionOptions.MaxDetections"/>
/// by score. Outputs: <c>boxes</c> (D, 4) xyxy pixels of the input (letterboxed and normalised as the model card says),
/// <c>scores</c> (D) and <c>labels</c> (D, int64 class indices).
/// <para>One picture a run: the input is (1, C, H, W), fixed. A box is dropped by giving it a score below
/// NonMaxSuppression's score threshold, so no data-dependent filter op is needed. Where the graph can differ from
/// <see cref="FasterRCnn.Detect"/>: the order of exactly equal scores (by index in both, but the indices are class-major
/// here and region-major in C#), and last-bit float differences (ONNX Runtime's Gemm, Exp, Softmax) that move a score
/// or an IoU across a threshold.</para>
/// </summary>
static class FasterRCnnOnnx
{
    /// <summary>Output names of the detection graph.</summary>
    public const string Boxes = "boxes", Scores = "scores", Labels = "labels";

    /// <summary>The model (run in evaluation mode) as an ONNX model detecting in one picture of <paramref name="channels"/>×<paramref name="height"/>×<paramref name="width"/>.</summary>
    public static ModelProto ToModelProto(FasterRCnn model, int channels, int height, int width, DetectionOptions? detection = null, OnnxExportOptions? options = null)
    {
        detection ??= new DetectionOptions();
        detection.Validate();
        if (height < RegionBackbone.Stride || width < RegionBackbone.Stride || height % RegionBackbone.Stride != 0 || width % RegionBackbone.Stride != 0)
            throw new ArgumentException($"FasterRCnnOnnx: the picture's sides must be positive multiples of the backbone's stride {RegionBackbone.Stride}, got {height}×{width}.");
        var proto = OnnxExporter.ToModelProto(model, [1, channels, height, width], (options ?? new OnnxExportOptions()) with { DynamicBatch = false });
        var g = new Appender(proto.Graph);
        var traced = proto.Graph.Output.Select(o => o.Name).ToHashSet();
        foreach (var name in new[] { "features", "objectness", "rpn_deltas" })
            if (!traced.Contains(name)) throw new InvalidOperationException($"FasterRCnnOnnx: the traced graph has no '{name}' output.");
        proto.Graph.Output.Clear();
        int cellsY = height / RegionBackbone.Stride, cellsX = width / RegionBackbone.Stride, perCell = model.Rpn.Anchors.PerCell;
        int anchorCount = cellsY * cellsX * perCell, classes = model.Classes;

        // Proposals (RegionProposalNetwork.Propose): the RPN's outputs in the anchors' order (cell-major, then the anchor
        // within the cell, as RegionProposalNetwork.Flatten), the best N by objectness, decoded, clipped, NMS.
        string objectness = g.Op("Reshape", [g.Op("Transpose", ["objectness"], Ints("perm", 0, 2, 3, 1)), g.Int64s(-1)]);
        string rpnDeltas = g.Op("Reshape", [g.Op("Transpose", [g.Op("Reshape", ["rpn_deltas", g.Int64s(perCell, 4, cellsY, cellsX)])], Ints("perm", 2, 3, 0, 1)), g.Int64s(-1, 4)]);
        var (preNms, postNms) = model.DetectionProposals;
        var (topScores, topIndices) = g.TopK(objectness, g.Int64s(Math.Min(preNms, anchorCount)));
        var anchors = model.Rpn.AnchorsFor(cellsY, cellsX, new Size2(height, width));
        string anchorBoxes = g.Op("Gather", [g.Floats("anchors", anchors, anchorCount, 4), topIndices], Int("axis", 0));
        string topDeltas = g.Op("Gather", [rpnDeltas, topIndices], Int("axis", 0));
        string proposalBoxes = Clip(g, Decode(g, topDeltas, anchorBoxes, BoxCoder.RegionProposals), height, width);
        // Logits are unbounded: a dropped box gets the lowest float, and the NMS keeps whatever is above half of it.
        string proposalScores = DropSmall(g, proposalBoxes, topScores, 1e-3f, float.MinValue);
        string selected = g.Op("NonMaxSuppression", [g.Op("Unsqueeze", [proposalBoxes, g.Int64s(0)]), g.Op("Reshape", [proposalScores, g.Int64s(1, 1, -1)]),
            g.Int64s(postNms), g.Floats(null, [model.Rpn.NmsIou], 1), g.Floats(null, [float.MinValue / 2], 1)]);
        string kept = g.Op("Gather", [selected, g.Int64Scalar(2)], Int("axis", 1));
        string proposals = g.Op("Gather", [proposalBoxes, kept], Int("axis", 0));
        string pictureIndices = g.Op("Gather", [selected, g.Int64Scalar(0)], Int("axis", 1));

        // The box head on the proposals (FasterRCnn.Classify).
        string pooled = g.Op("RoiAlign", ["features", proposals, pictureIndices], String("coordinate_transformation_mode", "output_half_pixel"), String("mode", "avg"),
            Int("output_height", FasterRCnn.PooledSize), Int("output_width", FasterRCnn.PooledSize), Int("sampling_ratio", 2), Float("spatial_scale", 1f / RegionBackbone.Stride));
        var state = model.StateDict();
        string Linear(string input, string layer) =>
            g.Op("Gemm", [input, g.Floats($"roi_heads.{layer}.weight", state[$"roi_heads.{layer}.weight"]), g.Floats($"roi_heads.{layer}.bias", state[$"roi_heads.{layer}.bias"])], Int("transB", 1));
        string hidden = g.Op("Relu", [Linear(g.Op("Relu", [Linear(g.Op("Flatten", [pooled], Int("axis", 1)), "fc6")]), "fc7")]);
        string logits = Linear(hidden, "cls_score"), boxDeltas = Linear(hidden, "bbox_pred");

        // Detections (RegionHeadDecoder.Decode): each region × object class, its probability and its class's box.
        string probabilities = g.Op("Slice", [g.Op("Softmax", [logits], Int("axis", 1)), g.Int64s(1), g.Int64s(classes + 1), g.Int64s(1)]);
        string classDeltas = g.Op("Slice", [g.Op("Reshape", [boxDeltas, g.Int64s(-1, classes + 1, 4)]), g.Int64s(1), g.Int64s(classes + 1), g.Int64s(1)]);
        string boxes = Clip(g, Decode(g, classDeltas, g.Op("Unsqueeze", [proposals, g.Int64s(1)]), BoxCoder.RegionHead), height, width);
        string scores = g.Op("Reshape", [DropSmall(g, boxes, probabilities, 0.01f, -1f), g.Int64s(-1)]);
        string labels = g.Op("Reshape", [g.Op("Expand", [g.Int64s([.. Enumerable.Range(0, classes).Select(c => (long)c)], 1, classes), g.Op("Shape", [probabilities])]), g.Int64s(-1)]);
        string flatBoxes = g.Op("Reshape", [boxes, g.Int64s(-1, 4)]);
        // Per-class NMS: class c's row scores only its own boxes (the others −1, below any threshold).
        string own = g.Op("Equal", [g.Op("Unsqueeze", [labels, g.Int64s(0)]), g.Int64s([.. Enumerable.Range(0, classes).Select(c => (long)c)], classes, 1)]);
        string classScores = g.Op("Unsqueeze", [g.Op("Where", [own, g.Op("Unsqueeze", [scores, g.Int64s(0)]), g.Floats(null, [-1f])]), g.Int64s(0)]);
        // ConvKit keeps score ≥ threshold and > 0; ONNX Runtime keeps score > its threshold: the float just below ours, or 0.
        float threshold = detection.ScoreThreshold > 0 ? MathF.BitDecrement(detection.ScoreThreshold) : 0;
        string chosen = g.Op("Gather", [g.Op("NonMaxSuppression", [g.Op("Unsqueeze", [flatBoxes, g.Int64s(0)]), classScores, g.Int64s(detection.MaxDetections),
            g.Floats(null, [detection.IouThreshold], 1), g.Floats(null, [threshold], 1)]), g.Int64Scalar(2)], Int("axis", 1));
        string chosenScores = g.Op("Gather", [scores, chosen], Int("axis", 0));
        string count = g.Op("Min", [g.Op("Shape", [chosenScores]), g.Int64s(detection.MaxDetections)]);
        var (bestScores, order) = g.TopK(chosenScores, count);
        string best = g.Op("Gather", [chosen, order], Int("axis", 0));
        g.Output(g.Op("Gather", [flatBoxes, best], Int("axis", 0), Boxes), TensorProto.Types.DataType.Float, 4);
        g.Output(g.Op("Identity", [bestScores], [], Scores), TensorProto.Types.DataType.Float);
        g.Output(g.Op("Gather", [labels, best], Int("axis", 0), Labels), TensorProto.Types.DataType.Int64);
        proto.Graph.Name = "FasterRCnnDetector";
        return proto;
    }

    /// <summary><see cref="BoxCoder.Decode"/> as ONNX nodes on the last axis (four values), broadcasting boxes against deltas.</summary>
    static string Decode(Appender g, string deltas, string boxes, BoxCoder coder)
    {
        string Part(string of, int index) => g.Op("Slice", [of, g.Int64s(index), g.Int64s(index + 1), g.Int64s(-1)]);
        string half = g.Floats(null, [0.5f]), clamp = g.Floats(null, [BoxCoder.SizeDeltaClamp]);
        string width = g.Op("Sub", [Part(boxes, 2), Part(boxes, 0)]), height = g.Op("Sub", [Part(boxes, 3), Part(boxes, 1)]);
        string centreX = g.Op("Add", [Part(boxes, 0), g.Op("Mul", [half, width])]), centreY = g.Op("Add", [Part(boxes, 1), g.Op("Mul", [half, height])]);
        string Delta(int index, float weight) => g.Op("Div", [Part(deltas, index), g.Floats(null, [weight])]);
        string x = g.Op("Add", [g.Op("Mul", [Delta(0, coder.WeightX), width]), centreX]);
        string y = g.Op("Add", [g.Op("Mul", [Delta(1, coder.WeightY), height]), centreY]);
        string HalfSide(int index, float weight, string side) => g.Op("Mul", [g.Op("Mul", [half, g.Op("Exp", [g.Op("Min", [Delta(index, weight), clamp])])]), side]);
        string halfWidth = HalfSide(2, coder.WeightWidth, width), halfHeight = HalfSide(3, coder.WeightHeight, height);
        return g.Op("Concat", [g.Op("Sub", [x, halfWidth]), g.Op("Sub", [y, halfHeight]), g.Op("Add", [x, halfWidth]), g.Op("Add", [y, halfHeight])], Int("axis", -1));
    }

    /// <summary><see cref="BoxCoder.Clip"/>: x into [0, width], y into [0, height].</summary>
    static string Clip(Appender g, string boxes, int height, int width) =>
        g.Op("Min", [g.Op("Max", [boxes, g.Floats(null, [0f])]), g.Floats(null, [width, height, width, height], 4)]);

    /// <summary>The scores, with <paramref name="replacement"/> for each box narrower or lower than <paramref name="minimumSide"/>.</summary>
    static string DropSmall(Appender g, string boxes, string scores, float minimumSide, float replacement)
    {
        string sides = g.Op("Sub", [g.Op("Slice", [boxes, g.Int64s(2), g.Int64s(4), g.Int64s(-1)]), g.Op("Slice", [boxes, g.Int64s(0), g.Int64s(2), g.Int64s(-1)])]);
        string small = g.Op("Less", [g.Op("ReduceMin", [sides], Ints("axes", -1), Int("keepdims", 0)), g.Floats(null, [minimumSide])]);
        return g.Op("Where", [small, g.Floats(null, [replacement]), scores]);
    }

    static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    static AttributeProto String(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    /// <summary>Adds nodes and constants to a graph under names of their own (detect/…), so the traced names stay as they are.</summary>
    sealed class Appender(GraphProto graph)
    {
        int next;

        string Name(string kind) => $"detect/{kind}_{next++}";

        public string Op(string opType, IEnumerable<string> inputs, params AttributeProto[] attributes) => Op(opType, inputs, attributes, null);

        public string Op(string opType, IEnumerable<string> inputs, AttributeProto attribute, string output) => Op(opType, inputs, [attribute], output);

        public string Op(string opType, IEnumerable<string> inputs, AttributeProto[] attributes, string? output)
        {
            var node = new NodeProto { OpType = opType, Name = Name(opType) };
            node.Input.AddRange(inputs);
            node.Output.Add(output ?? node.Name);
            node.Attribute.AddRange(attributes);
            graph.Node.Add(node);
            return node.Output[0];
        }

        /// <summary>The largest <paramref name="k"/> (a 1-element int64) of a vector, sorted (equal values by index), and their indices.</summary>
        public (string Values, string Indices) TopK(string input, string k)
        {
            var node = new NodeProto { OpType = "TopK", Name = Name("TopK") };
            node.Input.AddRange([input, k]);
            node.Output.AddRange([node.Name + "/values", node.Name + "/indices"]);
            node.Attribute.AddRange([Int("axis", 0), Int("largest", 1), Int("sorted", 1)]);
            graph.Node.Add(node);
            return (node.Output[0], node.Output[1]);
        }

        /// <summary>A float initialiser; <paramref name="name"/> null for a constant, named after its place; no dims: a scalar.</summary>
        public string Floats(string? name, float[] values, params long[] dims) =>
            Add(name ?? Name("const"), TensorProto.Types.DataType.Float, dims, MemoryMarshal.AsBytes<float>(values));

        /// <summary>A parameter's values as a float initialiser under its state-dict name.</summary>
        public string Floats(string name, Tensor values) => Floats(name, values.ToArray(), [.. values.Shape.Select(d => (long)d)]);

        /// <summary>A 1-D int64 constant.</summary>
        public string Int64s(params long[] values) => Int64s(values, values.Length);

        /// <summary>An int64 constant of the given shape.</summary>
        public string Int64s(long[] values, params long[] dims) => Add(Name("const"), TensorProto.Types.DataType.Int64, dims, MemoryMarshal.AsBytes<long>(values));

        /// <summary>An int64 scalar (a Gather index that drops its axis).</summary>
        public string Int64Scalar(long value) => Int64s([value], []);

        string Add(string name, TensorProto.Types.DataType type, long[] dims, ReadOnlySpan<byte> littleEndian)
        {
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX export needs a little-endian machine.");
            var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(littleEndian) };
            tensor.Dims.AddRange(dims);
            graph.Initializer.Add(tensor);
            return name;
        }

        /// <summary>Declares a graph output whose first axis is the number of detections.</summary>
        public void Output(string name, TensorProto.Types.DataType type, params int[] trailing)
        {
            var shape = new TensorShapeProto();
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "detections" });
            foreach (int size in trailing) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = size });
            graph.Output.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } });
        }
    }
}
