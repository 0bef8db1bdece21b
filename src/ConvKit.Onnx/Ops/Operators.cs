using ConvKit.Onnx.Import;

namespace ConvKit.Onnx.Ops;

/// <summary>
/// The operators ConvKit imports, from the default ONNX domain. Each entry compiles a node — reading and validating
/// its attributes for the model's opset — into an <see cref="OpKernel"/>; the families live in the other files of
/// this folder.
/// </summary>
static partial class Operators
{
    /// <summary>The operator-set versions whose semantics ConvKit implements.</summary>
    public const long MinOpset = 7, MaxOpset = 21;

    static readonly Dictionary<string, Func<NodeContext, OpKernel>> Table = new()
    {
        ["Add"] = Add, ["Sub"] = Sub, ["Mul"] = Mul, ["Div"] = Div, ["Sum"] = Sum,
        ["Relu"] = Relu, ["LeakyRelu"] = LeakyRelu, ["Sigmoid"] = Sigmoid, ["Tanh"] = Tanh, ["Clip"] = Clip,
        ["Softmax"] = Softmax, ["Dropout"] = Dropout, ["Identity"] = Identity,
        ["Conv"] = Conv, ["ConvTranspose"] = ConvTranspose, ["Gemm"] = Gemm, ["MatMul"] = MatMul,
        ["MaxPool"] = MaxPool, ["AveragePool"] = AveragePool, ["GlobalAveragePool"] = GlobalAveragePool, ["GlobalMaxPool"] = GlobalMaxPool,
        ["BatchNormalization"] = BatchNormalization, ["LRN"] = Lrn,
        ["Concat"] = Concat, ["Flatten"] = Flatten, ["Reshape"] = Reshape, ["Transpose"] = Transpose, ["Pad"] = Pad,
        ["Shape"] = Shape, ["Gather"] = Gather, ["Unsqueeze"] = Unsqueeze, ["Squeeze"] = Squeeze, ["Slice"] = Slice,
        ["Split"] = Split, ["Constant"] = Constant, ["ConstantOfShape"] = ConstantOfShape, ["Cast"] = Cast,
        ["Resize"] = Resize, ["Upsample"] = Upsample,
        ["HardSigmoid"] = HardSigmoid, ["HardSwish"] = HardSwish, ["Erf"] = Erf, ["Gelu"] = Gelu, ["Pow"] = Pow, ["Sqrt"] = Sqrt,
        ["ReduceMean"] = ReduceMean, ["LayerNormalization"] = LayerNormalization,
        ["Min"] = Min, ["Max"] = Max, ["Mod"] = Mod, ["Exp"] = Exp, ["Log"] = Log, ["Reciprocal"] = Reciprocal, ["Neg"] = Neg, ["Abs"] = Abs,
        ["Floor"] = Floor, ["Ceil"] = Ceil,
        ["Equal"] = Equal, ["Greater"] = Greater, ["GreaterOrEqual"] = GreaterOrEqual, ["Less"] = Less, ["LessOrEqual"] = LessOrEqual,
        ["And"] = And, ["Or"] = Or, ["Xor"] = Xor, ["Not"] = Not, ["Where"] = Where,
        ["ReduceSum"] = ReduceSum, ["ReduceMin"] = ReduceMin, ["ReduceMax"] = ReduceMax, ["ReduceProd"] = ReduceProd,
        ["Range"] = Range, ["Expand"] = Expand, ["Tile"] = Tile, ["TopK"] = TopK, ["NonZero"] = NonZero, ["GatherND"] = GatherND,
        ["ScatterElements"] = ScatterElements, ["NonMaxSuppression"] = NonMaxSuppression, ["RoiAlign"] = RoiAlign, ["If"] = If,
    };

    public static OpKernel Compile(NodeContext node)
    {
        if (node.Node.Domain is not ("" or "ai.onnx"))
            throw node.Unsupported($"operators of domain '{node.Node.Domain}' are not supported (only the default ONNX domain)");
        if (!Table.TryGetValue(node.OpType, out var compile))
            throw node.Unsupported($"operator {node.OpType} is not supported; ConvKit imports {string.Join(", ", Table.Keys.Order())}");
        if (node.Opset < MinOpset || node.Opset > MaxOpset)
            throw node.Unsupported($"opset {node.Opset} is outside the versions ConvKit imports ({MinOpset}–{MaxOpset})");
        return compile(node);
    }

    /// <summary>A kernel with one float input and one output.</summary>
    static OpKernel FloatUnary(NodeContext node, Func<Tensor, Tensor> op) =>
        (inputs, _) => [OnnxValue.Of(op(node.FloatInput(inputs, 0)))];
}
