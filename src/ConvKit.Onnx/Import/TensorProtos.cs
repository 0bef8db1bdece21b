using System.Buffers.Binary;
using ConvKit.Onnx.Proto;
using DataType = ConvKit.Onnx.Proto.TensorProto.Types.DataType;

namespace ConvKit.Onnx.Import;

/// <summary>
/// Decodes ONNX TensorProtos (initialisers, Constant values) into <see cref="OnnxValue"/>s: floating types become
/// float32 tensors, integer and boolean types become integer values. Values come from raw_data (little-endian) or the
/// typed repeated fields.
/// </summary>
static class TensorProtos
{
    /// <summary>Decodes <paramref name="proto"/>; <paramref name="fail"/> builds the exception for an unsupported type or layout.</summary>
    public static OnnxValue Decode(TensorProto proto, Func<string, Exception> fail)
    {
        if (proto.DataLocation == TensorProto.Types.DataLocation.External)
            throw fail($"tensor '{proto.Name}' keeps its data in an external file, which ConvKit does not read");
        var shape = new int[proto.Dims.Count];
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (proto.Dims[i] < 0 || proto.Dims[i] > int.MaxValue) throw fail($"tensor '{proto.Name}' has an invalid size {proto.Dims[i]}");
            shape[i] = (int)proto.Dims[i];
            count *= shape[i];
        }
        if (count > Array.MaxLength) throw fail($"tensor '{proto.Name}' is too large ({count} elements)");
        int n = (int)count;
        var raw = proto.RawData.Span;
        bool hasRaw = !raw.IsEmpty;
        var type = (DataType)proto.DataType;
        switch (type)
        {
            case DataType.Float:
            {
                var values = new float[n];
                if (!raw.IsEmpty)
                {
                    Expect(raw.Length, n * 4);
                    for (int i = 0; i < n; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]);
                }
                else
                {
                    Expect(proto.FloatData.Count, n);
                    proto.FloatData.CopyTo(values, 0);
                }
                return OnnxValue.Of(Tensor.FromArray(values, shape));
            }
            case DataType.Double:
            {
                var values = new float[n];
                if (!raw.IsEmpty)
                {
                    Expect(raw.Length, n * 8);
                    for (int i = 0; i < n; i++) values[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(raw[(8 * i)..]);
                }
                else
                {
                    Expect(proto.DoubleData.Count, n);
                    for (int i = 0; i < n; i++) values[i] = (float)proto.DoubleData[i];
                }
                return OnnxValue.Of(Tensor.FromArray(values, shape));
            }
            case DataType.Int64 or DataType.Int32 or DataType.Int16 or DataType.Int8 or DataType.Uint8 or DataType.Uint16
                or DataType.Uint32 or DataType.Bool:
            {
                var values = new long[n];
                int width = type switch
                {
                    DataType.Int64 => 8, DataType.Int32 or DataType.Uint32 => 4, DataType.Int16 or DataType.Uint16 => 2, _ => 1,
                };
                if (!raw.IsEmpty)
                {
                    Expect(raw.Length, n * width);
                    for (int i = 0; i < n; i++) values[i] = ReadInteger(raw.Slice(i * width, width), type);
                }
                else if (type == DataType.Int64)
                {
                    Expect(proto.Int64Data.Count, n);
                    proto.Int64Data.CopyTo(values, 0);
                }
                else if (type == DataType.Uint32)
                {
                    Expect(proto.Uint64Data.Count, n);
                    for (int i = 0; i < n; i++) values[i] = (long)proto.Uint64Data[i];
                }
                else
                {
                    Expect(proto.Int32Data.Count, n);
                    for (int i = 0; i < n; i++) values[i] = proto.Int32Data[i];
                }
                return OnnxValue.OfInts(values, shape);
            }
            default:
                throw fail($"tensor '{proto.Name}' has data type {type}, which ConvKit does not support (it supports float, double and integer/bool tensors)");
        }

        void Expect(int actual, int expected)
        {
            if (actual != expected)
                throw new InvalidDataException(
                    $"tensor '{proto.Name}' of shape [{string.Join(", ", shape)}] should hold {expected} {(hasRaw ? "bytes" : "values")} but holds {actual}.");
        }
    }

    static long ReadInteger(ReadOnlySpan<byte> bytes, DataType type) => type switch
    {
        DataType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(bytes),
        DataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(bytes),
        DataType.Uint32 => BinaryPrimitives.ReadUInt32LittleEndian(bytes),
        DataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(bytes),
        DataType.Uint16 => BinaryPrimitives.ReadUInt16LittleEndian(bytes),
        DataType.Int8 => (sbyte)bytes[0],
        _ => bytes[0],
    };
}
