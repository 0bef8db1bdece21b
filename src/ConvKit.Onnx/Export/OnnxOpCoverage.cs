namespace ConvKit.Onnx;

/// <summary>
/// What the exporter does with each public op of <c>ConvKit.Ops.F</c>: every op either exports (it is traced under a
/// name <see cref="Translated"/> lists, or it is a composite of such ops) or is listed in <see cref="NotExported"/>
/// with the reason. A test holds every public F op to this, so a new op without either fails it.
/// </summary>
public static class OnnxOpCoverage
{
    /// <summary>
    /// The traced op names that have an ONNX translation (the cases of the exporter's per-op switch). The exporter
    /// refuses any other name, and ExportOpsTests traces every one of these in models it checks against ONNX Runtime.
    /// </summary>
    public static IReadOnlySet<string> Translated { get; } = new HashSet<string>
    {
        "Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum", "Neg", "Exp", "Log", "Sqrt", "Abs", "Sign", "Square", "Clamp",
        "Relu", "LeakyRelu", "Relu6", "Tanh", "Sigmoid", "Softmax", "LogSoftmax",
        "Reshape", "Permute", "Concat", "Expand", "Slice", "Clone",
        "Sum", "Max", "Min", "ArgMax", "Eq", "Ne", "Lt", "Le", "Gt", "Ge", "Where",
        "MatMul", "Linear", "Conv2d", "ConvTranspose2d", "BatchNorm", "LocalResponseNorm",
        "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Upsample", "RoiPool", "RoiAlign",
        "HardSigmoid", "HardSwish", "Erf", "Gelu", "LayerNorm",
    };

    /// <summary>Public F ops that trace as other ops (they call them), with those ops.</summary>
    public static IReadOnlyDictionary<string, string[]> Composites { get; } = new Dictionary<string, string[]>
    {
        ["Flatten"] = ["Reshape"],
        ["Unsqueeze"] = ["Reshape"],
        ["Squeeze"] = ["Reshape"],
        ["Transpose"] = ["Permute"],
        ["Narrow"] = ["Slice"],
        ["Split"] = ["Slice"],
        ["Chunk"] = ["Slice"],
        ["Stack"] = ["Reshape", "Concat"],
        ["Mean"] = ["Sum", "Reshape", "Div"],
        ["Var"] = ["Sum", "Reshape", "Div", "Sub", "Mul"],
        ["GlobalAvgPool2d"] = ["AdaptiveAvgPool2d"],
    };

    /// <summary>Public F ops that do not export, with the reason.</summary>
    public static IReadOnlyDictionary<string, string> NotExported { get; } = new Dictionary<string, string>
    {
        ["CrossEntropy"] = "a training loss; models export their forward pass, not the loss",
        ["NllLoss"] = "a training loss",
        ["BinaryCrossEntropyWithLogits"] = "a training loss",
        ["MseLoss"] = "a training loss",
        ["L1Loss"] = "a training loss",
        ["SmoothL1Loss"] = "a training loss",
        ["TripletMarginLoss"] = "a training loss",
        ["DiceLoss"] = "a training loss",
        ["PairwiseDistance"] = "used by TripletMarginLoss; not translated yet",
        ["Dropout"] = "training only: with training false it returns its input, so an evaluation-mode trace never sees it",
        ["Gather"] = "not translated yet (ONNX's GatherElements, its indices cast to int64)",
        ["IndexSelect"] = "not translated yet: its indices are an int array, not a traced tensor",
        ["Sort"] = "not translated yet: ONNX has TopK, not a full stable sort",
        ["ArgSort"] = "not translated yet (see Sort)",
        ["TopK"] = "not translated yet: ConvKit's stable tie order is not ONNX TopK's",
        ["Pad"] = "not translated yet: reflect and replicate are built from IndexSelect, constant pads from a constant of the traced batch",
    };
}
