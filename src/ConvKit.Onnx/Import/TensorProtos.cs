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
            // Checked at every axis, so that the product cannot overflow.
            if (count > Array.MaxLength) throw fail($"tensor '{proto.Name}' of shape [{string.Join(", ", proto.Dims)}] is too large");
        }
        int n = (int)count;
        var raw = proto.RawData.Span;
        bool hasRaw = !raw.IsEmpty;
        var type = (DataType)proto.DataType;
        int width = type switch
        {
            DataType.Double or DataType.Int64 => 8,
            DataType.Float or DataType.Int32 or DataType.Uint32 => 4,
            DataType.Int16 or DataType.Uint16 => 2,
            DataType.Int8 or DataType.Uint8 or DataType.Bool => 1,
            _ => throw fail($"tensor '{proto.Name}' has data type {type}, which ConvKit does not support (it supports float, double and integer/bool tensors)"),
        };
        // The dims are a header: check that the data is there before allocating what they promise.
        long held = hasRaw ? raw.Length : type switch
        {
            DataType.Float => proto.FloatData.Count,
            DataType.Double => proto.DoubleData.Count,
            DataType.Int64 => proto.Int64Data.Count,
            DataType.Uint32 => proto.Uint64Data.Count,
            _ => proto.Int32Data.Count,
        };
        long expected = hasRaw ? count * width : count;
        if (held != expected)
            throw new InvalidDataException(
                $"tensor '{proto.Name}' of shape [{string.Join(", ", shape)}] should hold {expected} {(hasRaw ? "bytes" : "values")} but holds {held}.");

        switch (type)
        {
            case DataType.Float:
            {
                var values = new float[n];
                if (hasRaw) for (int i = 0; i < n; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]);
                else proto.FloatData.CopyTo(values, 0);
                return OnnxValue.Of(Ops.Values.FloatTensor(values, shape));
            }
            case DataType.Double:
            {
                var values = new float[n];
                for (int i = 0; i < n; i++)
                    values[i] = (float)(hasRaw ? BinaryPrimitives.ReadDoubleLittleEndian(raw[(8 * i)..]) : proto.DoubleData[i]);
                return OnnxValue.Of(Ops.Values.FloatTensor(values, shape));
            }
            default:
            {
                var values = new long[n];
                if (hasRaw) for (int i = 0; i < n; i++) values[i] = ReadInteger(raw.Slice(i * width, width), type);
                else if (type == DataType.Int64) proto.Int64Data.CopyTo(values, 0);
                else if (type == DataType.Uint32) for (int i = 0; i < n; i++) values[i] = (long)proto.Uint64Data[i];
                else for (int i = 0; i < n; i++) values[i] = proto.Int32Data[i];
                return OnnxValue.OfInts(values, shape);
            }
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
