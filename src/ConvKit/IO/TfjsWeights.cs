using System.Buffers.Binary;
using System.Text.Json;

namespace ConvKit.IO;

/// <summary>
/// Reads TensorFlow.js weights: a <c>*-weights_manifest.json</c> (a JSON array of groups
/// <c>{ "paths": [shard files…], "weights": [{ name, shape, dtype, quantization? }…] }</c>) and its binary shards.
/// Each group's shards are concatenated in order; its entries are read one after another from that buffer, in manifest
/// order, with no alignment (a tensor may straddle two shards), and together fill it exactly.
/// <list type="bullet">
/// <item>Raw entries: little-endian float32 or int32 (4 bytes per element).</item>
/// <item>Quantized entries (<c>quantization: { dtype: "uint8" | "uint16", scale, min }</c>): q·scale + min, computed in
/// float64 and then stored as float32, as tfjs's <c>io.decodeWeights</c> does — to the bit (pure float32 arithmetic
/// differs by one ulp for about half the codes); int32 entries so quantized are rounded. <c>"float16"</c> quantization
/// stores IEEE half floats.</item>
/// <item>Shapes and element order are the file's (row-major; convolution filters HWIO in TF.js models).</item>
/// </list>
/// Every malformed manifest or shard is an <see cref="InvalidDataException"/> naming the file and the problem.
/// </summary>
public static class TfjsWeights
{
    /// <summary>Every tensor of the manifest's groups, by name, as float32 with the manifest's shape.</summary>
    /// <param name="manifestPath">the <c>…-weights_manifest.json</c>; shard paths are relative to its folder</param>
    public static IReadOnlyDictionary<string, Tensor> Load(string manifestPath)
    {
        if (!File.Exists(manifestPath)) throw new FileNotFoundException($"TF.js weights manifest '{manifestPath}' does not exist.", manifestPath);
        string folder = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        return Load(File.ReadAllText(manifestPath), manifestPath, shard =>
        {
            string path = Path.Combine(folder, shard);
            if (!File.Exists(path)) throw new InvalidDataException($"TF.js weights '{manifestPath}': its shard '{shard}' does not exist (looked for {path}).");
            return File.ReadAllBytes(path);
        });
    }

    /// <summary>As <see cref="Load(string)"/> from the manifest's JSON text and a reader of shards by their manifest path.</summary>
    /// <param name="source">names the manifest in messages</param>
    public static IReadOnlyDictionary<string, Tensor> Load(string manifestJson, string source, Func<string, byte[]> readShard)
    {
        var tensors = new Dictionary<string, Tensor>();
        List<Group>? groups;
        try { groups = JsonSerializer.Deserialize<List<Group>>(manifestJson); }
        catch (JsonException e) { throw new InvalidDataException($"TF.js weights '{source}': the manifest is not a JSON array of weight groups ({e.Message}).", e); }
        if (groups == null) throw new InvalidDataException($"TF.js weights '{source}': the manifest is empty.");
        foreach (var (group, groupIndex) in groups.Select((g, i) => (g, i)))
        {
            if (group?.paths == null || group.weights == null)
                throw new InvalidDataException($"TF.js weights '{source}': group {groupIndex} needs both 'paths' and 'weights'.");
            byte[] buffer = [.. group.paths.SelectMany(readShard)];
            long offset = 0;
            foreach (var entry in group.weights)
            {
                string name = entry.name ?? throw new InvalidDataException($"TF.js weights '{source}': an entry of group {groupIndex} has no name.");
                int[] shape = entry.shape ?? throw new InvalidDataException($"TF.js weights '{source}': '{name}' has no shape.");
                if (shape.Any(d => d < 0)) throw new InvalidDataException($"TF.js weights '{source}': '{name}' has a negative dimension in {Shapes.Format(shape)}.");
                long count = shape.Aggregate(1L, (product, d) => product * d);
                int width = ElementBytes(source, name, entry);
                if (offset + count * width > buffer.Length)
                    throw new InvalidDataException(
                        $"TF.js weights '{source}': '{name}' {Shapes.Format(shape)} needs bytes {offset}..{offset + count * width} but the shards of group {groupIndex} hold {buffer.Length}; a shard is truncated or belongs to another manifest.");
                var values = Decode(buffer.AsSpan((int)offset, (int)(count * width)), (int)count, entry);
                if (!tensors.TryAdd(name, shape.Length == 0 ? Tensor.Scalar(values[0]) : Tensor.FromArray(values, shape)))
                    throw new InvalidDataException($"TF.js weights '{source}': the name '{name}' appears twice.");
                offset += count * width;
            }
            if (offset != buffer.Length)
                throw new InvalidDataException(
                    $"TF.js weights '{source}': the entries of group {groupIndex} fill {offset} bytes but its shards hold {buffer.Length}; a shard belongs to another manifest.");
        }
        return tensors;
    }

    static int ElementBytes(string source, string name, Entry entry) => entry.quantization?.dtype switch
    {
        null => entry.dtype is "float32" or "int32" ? 4
            : throw new InvalidDataException($"TF.js weights '{source}': '{name}' has dtype '{entry.dtype}'; float32 and int32 are read."),
        "uint8" => 1,
        "uint16" or "float16" => 2,
        var other => throw new InvalidDataException($"TF.js weights '{source}': '{name}' has quantization dtype '{other}'; uint8, uint16 and float16 are read."),
    };

    static float[] Decode(ReadOnlySpan<byte> bytes, int count, Entry entry)
    {
        var values = new float[count];
        var q = entry.quantization;
        bool integer = entry.dtype == "int32";
        if (q == null)
        {
            for (int i = 0; i < count; i++)
                values[i] = integer ? BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * i)..]) : BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
            return values;
        }
        if (q.dtype == "float16")
        {
            for (int i = 0; i < count; i++) values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(2 * i)..]);
            return values;
        }
        double scale = q.scale, min = q.min;
        for (int i = 0; i < count; i++)
        {
            int code = q.dtype == "uint8" ? bytes[i] : BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]);
            double value = code * scale + min;
            values[i] = integer ? (float)Math.Floor(value + 0.5) : (float)value; // JavaScript's Math.round
        }
        return values;
    }

#pragma warning disable IDE1006 // the manifest's own (camel-case) names
    sealed record Group(string[]? paths, Entry[]? weights);
    sealed record Entry(string? name, int[]? shape, string? dtype, Quantization? quantization);
    sealed record Quantization(string? dtype, double scale, double min);
#pragma warning restore IDE1006
}
