using ConvKit.Onnx.Proto;
using Google.Protobuf;
using AttributeType = ConvKit.Onnx.Proto.AttributeProto.Types.AttributeType;
using DataType = ConvKit.Onnx.Proto.TensorProto.Types.DataType;

namespace ConvKit.Onnx.Tests;

/// <summary>Builds small ONNX models in code, to run the same graph in ONNX Runtime and ConvKit.</summary>
sealed class GraphBuilder(long opset)
{
    readonly GraphProto graph = new() { Name = "test" };
    readonly Dictionary<string, Tensor> feeds = [];
    int seed = 1;

    /// <summary>The random values fed to the float inputs.</summary>
    public IReadOnlyDictionary<string, Tensor> Feeds => feeds;

    /// <summary>A float graph input with random values (normal, times <paramref name="scale"/>).</summary>
    public GraphBuilder Input(string name, int[] shape, float scale = 1f, string?[]? symbols = null)
    {
        feeds[name] = Tensor.Randn(shape, seed++) * scale;
        graph.Input.Add(ValueInfo(name, DataType.Float, shape, symbols));
        return this;
    }

    public static ValueInfoProto ValueInfo(string name, DataType type, int[]? shape, string?[]? symbols = null)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)type };
        if (shape != null)
        {
            tensorType.Shape = new TensorShapeProto();
            for (int d = 0; d < shape.Length; d++)
                tensorType.Shape.Dim.Add(symbols?[d] is { } symbol ? new TensorShapeProto.Types.Dimension { DimParam = symbol }
                    : new TensorShapeProto.Types.Dimension { DimValue = shape[d] });
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }

    /// <summary>A float initialiser with random values.</summary>
    public GraphBuilder Weight(string name, int[] shape, float scale = 0.5f, float offset = 0f) =>
        Floats(name, (Tensor.Randn(shape, seed++) * scale + offset).ToArray(), shape);

    public GraphBuilder Floats(string name, float[] values, params int[] shape)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)DataType.Float };
        tensor.Dims.AddRange(shape.Select(s => (long)s));
        tensor.FloatData.AddRange(values);
        graph.Initializer.Add(tensor);
        return this;
    }

    public GraphBuilder Ints(string name, long[] values, params int[] shape)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)DataType.Int64 };
        tensor.Dims.AddRange((shape.Length == 0 && values.Length != 1 ? [values.Length] : shape).Select(s => (long)s));
        tensor.Int64Data.AddRange(values);
        graph.Initializer.Add(tensor);
        return this;
    }

    /// <summary>A node; attributes as (name, value) with int, long, float, string, int[]/long[], float[], TensorProto or GraphProto values.</summary>
    public GraphBuilder Node(string opType, string[] inputs, string[] outputs, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{graph.Node.Count}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach (var (name, value) in attributes) node.Attribute.Add(Attribute(name, value));
        graph.Node.Add(node);
        return this;
    }

    public static AttributeProto Attribute(string name, object value)
    {
        var a = new AttributeProto { Name = name };
        switch (value)
        {
            case int i: a.Type = AttributeType.Int; a.I = i; break;
            case long l: a.Type = AttributeType.Int; a.I = l; break;
            case float f: a.Type = AttributeType.Float; a.F = f; break;
            case string s: a.Type = AttributeType.String; a.S = ByteString.CopyFromUtf8(s); break;
            case int[] ints: a.Type = AttributeType.Ints; a.Ints.AddRange(ints.Select(i => (long)i)); break;
            case long[] longs: a.Type = AttributeType.Ints; a.Ints.AddRange(longs); break;
            case float[] floats: a.Type = AttributeType.Floats; a.Floats.AddRange(floats); break;
            case TensorProto t: a.Type = AttributeType.Tensor; a.T = t; break;
            case GraphProto g: a.Type = AttributeType.Graph; a.G = g; break;
            default: throw new ArgumentException($"attribute type {value.GetType()}");
        }
        return a;
    }

    public GraphBuilder Output(string name, DataType type = DataType.Float, int[]? shape = null)
    {
        graph.Output.Add(ValueInfo(name, type, shape));
        return this;
    }

    /// <summary>The graph alone, as a subgraph attribute (If's branches).</summary>
    public GraphProto Graph() => graph.Clone();

    public ModelProto Model()
    {
        var model = new ModelProto { IrVersion = opset >= 21 ? 10 : 8, ProducerName = "ConvKit.Onnx.Tests", Graph = graph.Clone() };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model;
    }

    public byte[] Bytes() => Model().ToByteArray();
}
