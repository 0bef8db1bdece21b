using System.Text;
using ConvKit.Autograd;
using ConvKit.Onnx.Proto;
using AttributeType = ConvKit.Onnx.Proto.AttributeProto.Types.AttributeType;

namespace ConvKit.Onnx.Import;

/// <summary>Whether the module runs in training mode (dropout active); passed to every kernel.</summary>
readonly record struct RunState(bool Training);

/// <summary>
/// A compiled node: maps the node's input values (null for an omitted optional input) to its output values
/// (one per declared output; null for an output nobody can read).
/// </summary>
delegate OnnxValue?[] OpKernel(OnnxValue?[] inputs, RunState state);

/// <summary>
/// One node as an op compiler sees it: its attributes with defaults, the model's opset, and the exceptions that name
/// the op type, node name and opset.
/// </summary>
sealed class NodeContext(NodeProto node, long opset)
{
    public NodeProto Node { get; } = node;
    public long Opset { get; } = opset;
    public string OpType => Node.OpType;
    public string Name => Node.Name.Length > 0 ? Node.Name : $"<unnamed, output {Node.Output.FirstOrDefault()}>";

    /// <summary>Number of declared inputs (trailing omitted ones included).</summary>
    public int InputCount => Node.Input.Count;

    /// <summary>Whether input <paramref name="index"/> is given (declared and not the empty name).</summary>
    public bool HasInput(int index) => index < Node.Input.Count && Node.Input[index].Length > 0;

    /// <summary>
    /// Set by the planner for a Conv whose output goes only through an activation (see <see cref="ActivationFusion"/>):
    /// the node then computes the activation in its epilogue and stands for both.
    /// </summary>
    public ConvKit.Backends.ActivationOp? FusedActivation { get; init; }

    /// <summary>The fused activation's parameter (LeakyRelu's slope).</summary>
    public float FusedActivationParameter { get; init; }

    /// <summary>
    /// Set by the planner for a Conv that stands for an Add too (see <see cref="ResidualFusion"/>): its fourth input is
    /// the Add's other operand, added after the bias and before <see cref="FusedActivation"/>.
    /// </summary>
    public bool FusedResidual { get; init; }

    /// <summary>
    /// Inputs this node may overwrite when no gradient graph is being recorded, as set by the planner: values that
    /// only this node reads, freshly made by an earlier node (so nothing else shares their storage).
    /// </summary>
    public IReadOnlySet<int> Overwritable { get; init; } = new HashSet<int>();

    /// <summary>Whether input <paramref name="index"/> may be overwritten now (see <see cref="Overwritable"/>).</summary>
    public bool MayOverwrite(int index) => Overwritable.Contains(index) && !GradMode.IsEnabled;

    public int OutputCount => Node.Output.Count;
    public bool HasOutput(int index) => index < Node.Output.Count && Node.Output[index].Length > 0;

    /// <summary>Something ConvKit cannot run (thrown while loading, or at run time for data-dependent cases).</summary>
    public OnnxNotSupportedException Unsupported(string problem) => new(OpType, Name, Opset, problem);

    /// <summary>Invalid values or shapes met while running.</summary>
    public ArgumentException Invalid(string problem) => new($"ONNX {OpType} node '{Name}': {problem}");

    AttributeProto? Find(string name) => Node.Attribute.FirstOrDefault(a => a.Name == name);

    public bool Has(string name) => Find(name) != null;

    public long Int(string name, long fallback) => Find(name) is { } a ? Expect(a, AttributeType.Int).I : fallback;

    public float Float(string name, float fallback) => Find(name) is { } a ? Expect(a, AttributeType.Float).F : fallback;

    public string String(string name, string fallback) => Find(name) is { } a ? Encoding.UTF8.GetString(Expect(a, AttributeType.String).S.Span) : fallback;

    public long[]? Ints(string name) => Find(name) is { } a ? [.. Expect(a, AttributeType.Ints).Ints] : null;

    public float[]? Floats(string name) => Find(name) is { } a ? [.. Expect(a, AttributeType.Floats).Floats] : null;

    public TensorProto? Tensor(string name) => Find(name) is { } a ? Expect(a, AttributeType.Tensor).T : null;

    public GraphProto? Graph(string name) => Find(name) is { } a ? Expect(a, AttributeType.Graph).G : null;

    // Old exporters (IR 3) may leave the type field unset; infer it from the populated field then.
    static AttributeType Kind(AttributeProto a) => a.Type != AttributeType.Undefined ? a.Type
        : a.Ints.Count > 0 ? AttributeType.Ints : a.Floats.Count > 0 ? AttributeType.Floats : a.T != null ? AttributeType.Tensor
        : a.G != null ? AttributeType.Graph : a.Strings.Count > 0 ? AttributeType.Strings : !a.S.IsEmpty ? AttributeType.String : a.F != 0 ? AttributeType.Float : AttributeType.Int;

    AttributeProto Expect(AttributeProto a, AttributeType type)
    {
        var actual = Kind(a);
        // An empty list is written with no values, so an INTS/FLOATS attribute may look like INT 0.
        bool emptyList = (type is AttributeType.Ints or AttributeType.Floats) && a.Type == AttributeType.Undefined;
        if (actual != type && !emptyList)
            throw new InvalidDataException($"ONNX {OpType} node '{Name}' (opset {Opset}): attribute '{a.Name}' should be {type} but is {actual}.");
        return a;
    }

    /// <summary>Input <paramref name="index"/> as a float tensor (integers are converted).</summary>
    public Tensor FloatInput(OnnxValue?[] inputs, int index) => inputs[index] switch
    {
        { Float: { } t } => t,
        { Ints: { } ints } v => Ops.Values.FloatTensor(ints.Select(i => (float)i).ToArray(), v.Shape),
        _ => throw Invalid($"input {index} is required."),
    };

    /// <summary>Input <paramref name="index"/> as integers (floats must be whole numbers).</summary>
    public long[] IntInput(OnnxValue?[] inputs, int index) => inputs[index] switch
    {
        { Ints: { } ints } => ints,
        { Float: { } t } => t.ToArray().Select(f => f == MathF.Round(f) ? (long)f : throw Invalid($"input {index} should hold integers, found {f}.")).ToArray(),
        _ => throw Invalid($"input {index} is required."),
    };

    /// <summary>An optional scalar input as a float, or <paramref name="fallback"/> when omitted.</summary>
    public float OptionalScalar(OnnxValue?[] inputs, int index, float fallback)
    {
        if (index >= inputs.Length || inputs[index] is not { } value) return fallback;
        if (value.Shape.Aggregate(1, (a, b) => a * b) != 1) throw Invalid($"input {index} should be a scalar, got shape [{string.Join(", ", value.Shape)}].");
        return value.Ints is { } ints ? ints[0] : value.Float!.ToArray()[0];
    }
}
