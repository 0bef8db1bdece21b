using System.Runtime.InteropServices;
using ConvKit.Onnx.Proto;
using Google.Protobuf;

namespace ConvKit.Onnx;

/// <summary>
/// Accumulates an ONNX graph: nodes in execution order, initialisers, and unique value names. The exporter's
/// op translations talk to it in ONNX terms (op type, input names, attributes) and get back the output's name.
/// </summary>
sealed class OnnxGraphBuilder
{
    readonly HashSet<string> usedNames = new(StringComparer.Ordinal);
    int constants;

    public GraphProto Graph { get; } = new();

    /// <summary>Claims <paramref name="name"/>, or name_2, name_3, … if it is taken.</summary>
    public string Unique(string name)
    {
        string candidate = name;
        for (int i = 2; !usedNames.Add(candidate); i++) candidate = $"{name}_{i}";
        return candidate;
    }

    /// <summary>Adds a node; its output is named <paramref name="output"/> when given, else after the node.</summary>
    /// <param name="inputs">value names; "" for an optional input left out</param>
    public string Node(string opType, string nodeName, IEnumerable<string> inputs, string? output = null, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = Unique(nodeName) };
        node.Input.AddRange(inputs);
        node.Output.Add(output ?? node.Name);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return node.Output[0];
    }

    /// <summary>
    /// An initialiser holding <paramref name="tensor"/>'s values under a unique <paramref name="name"/>: FLOAT, or INT32
    /// for an Int32 tensor (exact beyond 2²⁴).
    /// </summary>
    public string Initializer(string name, Tensor tensor) => tensor.DType == Backends.DType.Int32
        ? AddInitializer(name, TensorProto.Types.DataType.Int32, tensor.Shape.Select(d => (long)d), MemoryMarshal.AsBytes<int>(tensor.ToInt32Array()))
        : AddInitializer(name, TensorProto.Types.DataType.Float, tensor.Shape.Select(d => (long)d), MemoryMarshal.AsBytes<float>(tensor.ToArray()));

    /// <summary>A constant holding <paramref name="tensor"/>'s values (FLOAT, or INT32 for an Int32 tensor), named const_k.</summary>
    public string Constant(Tensor tensor) => Initializer($"const_{constants++}", tensor);

    /// <summary>A float constant, named const_k.</summary>
    public string Constant(float[] values, params long[] dims) =>
        AddInitializer($"const_{constants++}", TensorProto.Types.DataType.Float, dims, MemoryMarshal.AsBytes<float>(values));

    /// <summary>An int64 constant (shapes, axes), named const_k.</summary>
    public string Int64Constant(params long[] values) =>
        AddInitializer($"const_{constants++}", TensorProto.Types.DataType.Int64, [values.Length], MemoryMarshal.AsBytes<long>(values));

    string AddInitializer(string name, TensorProto.Types.DataType type, IEnumerable<long> dims, ReadOnlySpan<byte> littleEndianValues)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX export needs a little-endian machine.");
        var proto = new TensorProto { Name = Unique(name), DataType = (int)type, RawData = ByteString.CopyFrom(littleEndianValues) };
        proto.Dims.AddRange(dims);
        Graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>A tensor's type (FLOAT, or INT32 when <paramref name="int32"/>) and shape; axis 0 symbolic (<paramref name="batchName"/>) when given.</summary>
    public static ValueInfoProto ValueInfo(string name, IReadOnlyList<int> shape, string? batchName, bool int32 = false)
    {
        var tensorShape = new TensorShapeProto();
        for (int axis = 0; axis < shape.Count; axis++)
            tensorShape.Dim.Add(axis == 0 && batchName != null
                ? new TensorShapeProto.Types.Dimension { DimParam = batchName }
                : new TensorShapeProto.Types.Dimension { DimValue = shape[axis] });
        var type = int32 ? TensorProto.Types.DataType.Int32 : TensorProto.Types.DataType.Float;
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = tensorShape } },
        };
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }
}
