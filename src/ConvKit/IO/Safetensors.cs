using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using ConvKit.Backends;
using Microsoft.Win32.SafeHandles;

namespace ConvKit.IO;

/// <summary>
/// Reads and writes safetensors files, the weights format of the Hugging Face ecosystem and PyTorch state dicts:
/// an 8-byte little-endian header length N, N bytes of UTF-8 JSON
/// <c>{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {..}}</c>
/// (offsets counted from the end of the header), then the tensors' raw little-endian bytes, back to back.
/// Loading accepts the float, integer and boolean dtypes: I32 becomes an exact <see cref="Backends.DType.Int32"/> tensor,
/// every other dtype converts to float32. Saving writes float32 tensors as F32 and Int32 tensors as I32.
/// Every malformed file is reported as an <see cref="InvalidDataException"/> naming the file and the problem.
/// </summary>
public static class Safetensors
{
    /// <summary>The reference implementation refuses headers above 100 MB, so a huge length is a corrupt file, not a model.</summary>
    const long MaxHeaderLength = 100_000_000;
    const string MetadataKey = "__metadata__";

    /// <summary>One tensor as the header describes it; offsets are absolute positions in the file.</summary>
    readonly record struct Entry(string Name, DType DType, int[] Shape, long Begin, long End);

    enum DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL }

    static int SizeOf(DType dtype) => dtype switch
    {
        DType.F64 or DType.I64 => 8,
        DType.F32 or DType.I32 => 4,
        DType.F16 or DType.BF16 or DType.I16 => 2,
        _ => 1,
    };

    // ----- loading ----------------------------------------------------------------------------------------

    /// <summary>Every tensor in the file, in the order of their data in the file: I32 ones as Int32, the others as float32.</summary>
    public static IReadOnlyDictionary<string, Tensor> Load(string path)
    {
        InputFiles.Require(path, "safetensors file");
        using var file = File.OpenHandle(path);
        var (entries, _) = ReadHeader(file, path);
        var tensors = new OrderedDictionary<string, Tensor>();
        foreach (var entry in entries)
            tensors[entry.Name] = new Tensor(entry.DType == DType.I32
                ? Backends.Backend.Default.FromIndices(ReadIndices(file, path, entry))
                : Backends.Backend.Default.FromArray(ReadValues(file, path, entry)), entry.Shape);
        return tensors;
    }

    /// <summary>The file's <c>__metadata__</c> strings (empty when it has none); the header is validated as for <see cref="Load"/>.</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        InputFiles.Require(path, "safetensors file");
        using var file = File.OpenHandle(path);
        return ReadHeader(file, path).Metadata;
    }

    static (List<Entry> Entries, IReadOnlyDictionary<string, string> Metadata) ReadHeader(SafeFileHandle file, string path)
    {
        long fileLength = RandomAccess.GetLength(file);
        if (fileLength < 8) throw Invalid(path, $"the file has {fileLength} bytes, fewer than the 8-byte header length");
        Span<byte> lengthBytes = stackalloc byte[8];
        ReadExactly(file, path, lengthBytes, 0);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)(fileLength - 8))
            throw Invalid(path, $"the header length {headerLength} exceeds the {fileLength - 8} bytes after the length field");
        if (headerLength > MaxHeaderLength) throw Invalid(path, $"the header length {headerLength} exceeds the {MaxHeaderLength}-byte limit");
        var header = new byte[headerLength];
        ReadExactly(file, path, header, 8);
        // JsonDocument checks UTF-8 only when a string is read, with an InvalidOperationException; check it up front.
        if (System.Text.Unicode.Utf8.ToUtf16(header, new char[header.Length], out int valid, out _, replaceInvalidSequences: false) != OperationStatus.Done)
            throw Invalid(path, $"the header is not valid UTF-8 (byte {valid} of the header, at offset {8 + valid} in the file)");

        JsonDocument document;
        try { document = JsonDocument.Parse(header); }
        catch (JsonException e) { throw Invalid(path, $"the header is not valid JSON ({e.Message})"); }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Invalid(path, $"the header is a JSON {root.ValueKind}, not an object");
            long dataStart = 8 + (long)headerLength;
            var entries = new List<Entry>();
            var metadata = new Dictionary<string, string>();
            var names = new HashSet<string>();
            try
            {
                foreach (var property in root.EnumerateObject())
                {
                    if (!names.Add(property.Name)) throw Invalid(path, $"the header names '{property.Name}' twice");
                    if (property.Name == MetadataKey) ParseMetadata(path, property.Value, metadata);
                    else entries.Add(ParseEntry(path, property.Name, property.Value, dataStart, fileLength));
                }
            }
            // JsonDocument decodes a string's escapes only when it is read: "\udc00" (half a surrogate pair) fails then.
            catch (InvalidOperationException e)
            {
                throw Invalid(path, $"the header holds a string that is not valid Unicode ({e.Message.TrimEnd('.')})");
            }
            return (InFileOrder(path, entries, dataStart, fileLength), metadata);
        }
    }

    static void ParseMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Invalid(path, $"'{MetadataKey}' is a JSON {value.ValueKind}, not an object of strings");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Invalid(path, $"metadata '{item.Name}' is a JSON {item.Value.ValueKind}, not a string");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!)) throw Invalid(path, $"metadata names '{item.Name}' twice");
        }
    }

    static Entry ParseEntry(string path, string name, JsonElement value, long dataStart, long fileLength)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Invalid(path, $"tensor '{name}' is described by a JSON {value.ValueKind}, not an object");
        JsonElement Field(string field) => value.TryGetProperty(field, out var f) ? f : throw Invalid(path, $"tensor '{name}' has no \"{field}\"");
        long[] Integers(string field)
        {
            var array = Field(field);
            if (array.ValueKind != JsonValueKind.Array) throw Invalid(path, $"\"{field}\" of tensor '{name}' is not an array");
            return array.EnumerateArray().Select(item => item.ValueKind == JsonValueKind.Number && item.TryGetInt64(out long n) && n >= 0 ? n
                : throw Invalid(path, $"\"{field}\" of tensor '{name}' holds {item.GetRawText()}, not a whole number ≥ 0")).ToArray();
        }

        var dtypeField = Field("dtype");
        if (dtypeField.ValueKind != JsonValueKind.String || !Enum.TryParse(dtypeField.GetString(), out DType dtype)
            || Enum.GetName(dtype) != dtypeField.GetString())
            throw Invalid(path, $"tensor '{name}' has dtype {dtypeField.GetRawText()}, which is not one of {string.Join(", ", Enum.GetNames<DType>())}");

        var shape = Integers("shape");
        long numel = 1;
        foreach (long size in shape)
        {
            if (size > Array.MaxLength || (numel *= size) > Array.MaxLength)
                throw Invalid(path, $"tensor '{name}' of shape [{string.Join(", ", shape)}] has more elements than a tensor can hold");
        }
        var offsets = Integers("data_offsets");
        if (offsets.Length != 2) throw Invalid(path, $"\"data_offsets\" of tensor '{name}' has {offsets.Length} values, not 2");
        var (begin, end) = (offsets[0], offsets[1]);
        if (begin > end) throw Invalid(path, $"tensor '{name}' has data_offsets [{begin}, {end}] that end before they begin");
        if (end > fileLength - dataStart)
            throw Invalid(path, $"the file is truncated or the offsets are out of range: tensor '{name}' has data_offsets [{begin}, {end}] but only {fileLength - dataStart} bytes of data follow the header");
        if (end - begin != numel * SizeOf(dtype))
            throw Invalid(path, $"tensor '{name}' has {end - begin} bytes of data but shape [{string.Join(", ", shape)}] of {dtype} needs {numel * SizeOf(dtype)}");
        return new Entry(name, dtype, shape.Select(s => (int)s).ToArray(), dataStart + begin, dataStart + end);
    }

    /// <summary>The entries sorted by position, checked to tile the data section exactly, as the reference reader checks.</summary>
    static List<Entry> InFileOrder(string path, List<Entry> entries, long dataStart, long fileLength)
    {
        var sorted = entries.OrderBy(e => e.Begin).ToList(); // stable: empty tensors at one offset keep header order
        long position = dataStart;
        foreach (var entry in sorted)
        {
            if (entry.Begin < position)
                throw Invalid(path, $"the data of tensor '{entry.Name}' overlaps the tensor before it (it begins at offset {entry.Begin - dataStart}, before {position - dataStart})");
            if (entry.Begin > position)
                throw Invalid(path, $"there is a gap before the data of tensor '{entry.Name}' (it begins at offset {entry.Begin - dataStart}, not {position - dataStart})");
            position = entry.End;
        }
        if (position < fileLength)
            throw Invalid(path, $"{fileLength - position} bytes follow the last tensor's data");
        return sorted;
    }

    static float[] ReadValues(SafeFileHandle file, string path, Entry entry)
    {
        int count = (int)((entry.End - entry.Begin) / SizeOf(entry.DType));
        var values = new float[count];
        if (entry.DType == DType.F32)
        {
            ReadExactly(file, path, MemoryMarshal.AsBytes(values.AsSpan()), entry.Begin);
            if (!BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<float, int>(values), MemoryMarshal.Cast<float, int>(values.AsSpan()));
            return values;
        }
        int length = (int)(entry.End - entry.Begin);
        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var bytes = rented.AsSpan(0, length);
            ReadExactly(file, path, bytes, entry.Begin);
            Convert(path, entry, bytes, values);
        }
        finally { ArrayPool<byte>.Shared.Return(rented); }
        return values;
    }

    /// <summary>An I32 entry's values, exactly.</summary>
    static int[] ReadIndices(SafeFileHandle file, string path, Entry entry)
    {
        var values = new int[(entry.End - entry.Begin) / sizeof(int)];
        ReadExactly(file, path, MemoryMarshal.AsBytes(values.AsSpan()), entry.Begin);
        if (!BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(values, values);
        return values;
    }

    /// <summary>Little-endian values of <paramref name="entry"/>'s dtype to float32.</summary>
    static void Convert(string path, Entry entry, ReadOnlySpan<byte> bytes, Span<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = entry.DType switch
            {
                DType.F64 => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * i)..]),
                DType.F16 => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(2 * i)..]),
                // bfloat16 is the upper half of a float32.
                DType.BF16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) << 16),
                DType.I64 => BinaryPrimitives.ReadInt64LittleEndian(bytes[(8 * i)..]),
                DType.I32 => BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * i)..]),
                DType.I16 => BinaryPrimitives.ReadInt16LittleEndian(bytes[(2 * i)..]),
                DType.I8 => (sbyte)bytes[i],
                DType.U8 => bytes[i],
                DType.BOOL => bytes[i] <= 1 ? bytes[i]
                    : throw Invalid(path, $"tensor '{entry.Name}' is BOOL but holds the byte {bytes[i]} at element {i}"),
                _ => throw new InvalidOperationException($"no conversion from {entry.DType}"),
            };
        }
    }

    static void ReadExactly(SafeFileHandle file, string path, Span<byte> buffer, long offset)
    {
        while (buffer.Length > 0)
        {
            int read = RandomAccess.Read(file, buffer, offset);
            if (read == 0) throw Invalid(path, $"the file ended early, at byte {offset}");
            buffer = buffer[read..];
            offset += read;
        }
    }

    static InvalidDataException Invalid(string path, string problem) => new($"Safetensors: '{path}' is not a valid safetensors file: {problem}.");

    // ----- saving -----------------------------------------------------------------------------------------

    /// <summary>
    /// Writes <paramref name="tensors"/> in their enumeration order — float32 ones as F32, Int32 ones as I32 — with
    /// optional string metadata.
    /// The file appears atomically: it is written to a temporary file beside <paramref name="path"/>, flushed to
    /// disk and then moved over it (and the directory flushed too), so an interrupted or failed save, a killed
    /// process or a power cut, leaves any earlier file intact. A killed save may leave its temporary file behind:
    /// <c>.{name}.{guid}.tmp</c>, a hidden name that no <c>*.safetensors</c> pattern matches.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = tensors.ToList();
        foreach (var (name, tensor) in entries)
        {
            if (string.IsNullOrEmpty(name) || name == MetadataKey)
                throw new ArgumentException($"Safetensors.Save: '{name}' cannot name a tensor.", nameof(tensors));
            ArgumentNullException.ThrowIfNull(tensor, $"tensors[\"{name}\"]");
        }
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
            ArgumentNullException.ThrowIfNull(value, $"metadata[\"{key}\"]");
        byte[] header = Header(entries, metadata);

        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var (_, tensor) in entries) WriteValues(stream, tensor);
        });
    }

    /// <summary>The JSON header, metadata first as the reference writer puts it, padded with spaces to a multiple of 8 bytes.</summary>
    static byte[] Header(List<KeyValuePair<string, Tensor>> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in entries)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", tensor.DType == Backends.DType.Int32 ? "I32" : "F32");
                json.WriteStartArray("shape");
                foreach (int size in tensor.Shape) json.WriteNumberValue(size);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset += 4L * tensor.Numel);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    // Values go out a chunk at a time: a pooled buffer of a whole tensor (VGG's 102M-value layer) would stay in the
    // shared pool for the rest of the process, 537 MB after the first checkpoint.
    const int WriteChunk = 1 << 16;

    static void WriteValues(Stream stream, Tensor tensor)
    {
        int total = tensor.Numel;
        if (total == 0) return;
        if (tensor.DType == Backends.DType.Int32)
        {
            // Int32 tensors are indices and targets, small next to weights: one unpooled copy.
            var indices = tensor.ToInt32Array();
            if (!BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(indices, indices);
            stream.Write(MemoryMarshal.AsBytes(indices.AsSpan()));
            return;
        }
        float[] values = ArrayPool<float>.Shared.Rent(Math.Min(total, WriteChunk));
        var piece = total > WriteChunk ? tensor.Backend.AllocateUninitialized(WriteChunk) : null;
        try
        {
            for (int offset = 0; offset < total; offset += WriteChunk)
            {
                int count = Math.Min(WriteChunk, total - offset);
                if (piece == null) tensor.Backend.CopyTo(tensor.Storage, values.AsSpan(0, total));
                else
                {
                    tensor.Backend.CopyBlocks(tensor.Storage, piece, new BlockCopy(1, 1, count, offset, total, 0, 0, WriteChunk, 0));
                    tensor.Backend.CopyTo(piece, values.AsSpan(0, WriteChunk));
                }
                var span = values.AsSpan(0, count);
                if (!BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<float, int>(span), MemoryMarshal.Cast<float, int>(span));
                stream.Write(MemoryMarshal.AsBytes(span));
            }
        }
        finally { ArrayPool<float>.Shared.Return(values); }
    }
}
