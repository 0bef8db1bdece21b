namespace ConvKit.Onnx;

/// <summary>
/// An ONNX model uses something ConvKit cannot run: an operator, an operator-set version, a data type or an
/// attribute value. The message names the op type, the node's name and the opset.
/// </summary>
public sealed class OnnxNotSupportedException : NotSupportedException
{
    /// <summary>The <paramref name="problem"/> of node <paramref name="nodeName"/> of type <paramref name="opType"/>, in a model of <paramref name="opset"/>.</summary>
    public OnnxNotSupportedException(string opType, string nodeName, long opset, string problem)
        : base($"ONNX {opType} node '{nodeName}' (opset {opset}): {problem}")
    {
        OpType = opType;
        NodeName = nodeName;
        Opset = opset;
    }

    /// <summary>The node's operator type (<c>Conv</c>, <c>Resize</c>, ...).</summary>
    public string OpType { get; }
    /// <summary>The node's name in the graph.</summary>
    public string NodeName { get; }
    /// <summary>The model's default operator-set version.</summary>
    public long Opset { get; }
}
