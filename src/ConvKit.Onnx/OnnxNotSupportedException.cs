namespace ConvKit.Onnx;

/// <summary>
/// An ONNX model uses something ConvKit cannot run: an operator, an operator-set version, a data type or an
/// attribute value. The message names the op type, the node's name and the opset.
/// </summary>
public sealed class OnnxNotSupportedException : NotSupportedException
{
    public OnnxNotSupportedException(string opType, string nodeName, long opset, string problem)
        : base($"ONNX {opType} node '{nodeName}' (opset {opset}): {problem}")
    {
        OpType = opType;
        NodeName = nodeName;
        Opset = opset;
    }

    public string OpType { get; }
    public string NodeName { get; }
    public long Opset { get; }
}
