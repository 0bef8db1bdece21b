using System.Buffers.Binary;
using System.IO.Compression;

namespace ConvKit.Data;

/// <summary>The contents of an IDX file: the sizes of its axes and its unsigned bytes, row-major.</summary>
public sealed record IdxArray(int[] Shape, byte[] Data);

/// <summary>
/// Reads IDX files, the format of MNIST and Fashion-MNIST: two zero bytes, a type byte (0x08 = unsigned byte),
/// the number of axes, each axis size as a big-endian int32, then the values row-major. Gzip-compressed files
/// (recognised by their magic bytes, whatever their name) are decompressed on the fly. A malformed file throws
/// an <see cref="InvalidDataException"/> naming the file and the problem.
/// </summary>
public static class Idx
{
    const byte UnsignedByte = 0x08;

    /// <summary>The axes and values of the IDX file at <paramref name="path"/> (gzip-compressed or not).</summary>
    public static IdxArray Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B) bytes = Gunzip(bytes, path);
        return Parse(bytes, path);
    }

    /// <summary>Writes <paramref name="array"/> as an unsigned-byte IDX file, gzip-compressed when the name ends in <c>.gz</c>.</summary>
    public static void Write(string path, IdxArray array)
    {
        if (array.Shape.Length is < 1 or > 4 || Shapes.Numel(array.Shape) != array.Data.Length)
            throw new ArgumentException($"Idx.Write: shape {Shapes.Format(array.Shape)} (1 to 4 axes) does not hold {array.Data.Length} values.");
        using var file = File.Create(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionLevel.Fastest) : file;
        Span<byte> header = stackalloc byte[4 + 4 * array.Shape.Length];
        header[2] = UnsignedByte;
        header[3] = (byte)array.Shape.Length;
        for (int d = 0; d < array.Shape.Length; d++) BinaryPrimitives.WriteInt32BigEndian(header[(4 + 4 * d)..], array.Shape[d]);
        stream.Write(header);
        stream.Write(array.Data);
    }

    /// <summary>
    /// Decompresses, stopping as soon as the output holds more than its IDX header promises: a small file that
    /// inflates to gigabytes (a "zip bomb") is refused after the header's size plus one block, not after filling memory.
    /// </summary>
    static byte[] Gunzip(byte[] compressed, string path)
    {
        try
        {
            using var gzip = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
            using var output = new MemoryStream();
            var block = new byte[1 << 16];
            long promised = -1;
            int read;
            while ((read = gzip.Read(block)) > 0)
            {
                output.Write(block, 0, read);
                var sofar = output.GetBuffer().AsSpan(0, (int)output.Length);
                if (promised < 0 && sofar.Length >= 4 && sofar.Length >= 4 + 4 * sofar[3])
                {
                    var (_, count, headerLength) = ParseHeader(sofar, path);
                    promised = headerLength + count;
                }
                if (promised >= 0 && output.Length > promised)
                    throw Invalid(path, $"the decompressed data runs past the {promised} bytes its header promises (header and values)");
            }
            return output.ToArray();
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith("IDX file", StringComparison.Ordinal))
        {
            throw Invalid(path, $"the gzip data is corrupt ({e.Message.TrimEnd('.')})");
        }
    }

    static IdxArray Parse(ReadOnlySpan<byte> bytes, string path)
    {
        var (shape, count, headerLength) = ParseHeader(bytes, path);
        long available = bytes.Length - headerLength;
        if (available < count)
            throw Invalid(path, $"truncated: the header promises {count} values (shape {Shapes.Format(shape)}) but only {available} follow");
        if (available > count) throw Invalid(path, $"{available - count} bytes follow the {count} values the header promises");
        return new IdxArray(shape, bytes[headerLength..].ToArray());
    }

    /// <summary>The axes, the number of values and the header's length; throws for a malformed header.</summary>
    static (int[] Shape, long Count, int HeaderLength) ParseHeader(ReadOnlySpan<byte> bytes, string path)
    {
        if (bytes.Length < 4) throw Invalid(path, $"the file has {bytes.Length} bytes, fewer than the 4-byte magic number");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw Invalid(path, $"wrong magic number {Convert.ToHexString(bytes[..4])} (an IDX file starts with two zero bytes)");
        if (bytes[2] != UnsignedByte)
            throw Invalid(path, $"element type 0x{bytes[2]:X2} is not supported (ConvKit reads unsigned-byte IDX files, type 0x08, as MNIST uses)");
        int rank = bytes[3];
        if (rank is < 1 or > 4) throw Invalid(path, $"it declares {rank} axes (1 to 4 expected)");
        int headerLength = 4 + 4 * rank;
        if (bytes.Length < headerLength) throw Invalid(path, "the file ends inside the axis sizes");

        var shape = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            shape[d] = BinaryPrimitives.ReadInt32BigEndian(bytes[(4 + 4 * d)..]);
            if (shape[d] < 0) throw Invalid(path, $"axis {d} has negative size {shape[d]}");
            count *= shape[d];
            if (count > Array.MaxLength) throw Invalid(path, "its shape is too large");
        }
        return (shape, count, headerLength);
    }

    static InvalidDataException Invalid(string path, string problem) => new($"IDX file '{path}' is not valid: {problem}.");
}
