using System.Buffers.Binary;
using System.Text;
using ConvKit.IO;

namespace ConvKit.Tests.IO;

/// <summary>
/// TF.js weights manifests: dequantisation bit-exact against tfjs (values computed by Node's own arithmetic,
/// <c>Math.fround(q * scale + min)</c>, which is what tfjs stores), shards concatenated with tensors straddling them,
/// raw float32/int32 entries, and each malformed file's message.
/// </summary>
public sealed class TfjsWeightsTests
{
    const double Scale = 0.0123456789123, Min = -1.234567891;

    static string Manifest(string entries, string paths = "\"a.bin\", \"b.bin\"") => $$"""[{ "paths": [{{paths}}], "weights": [{{entries}}] }]""";

    static byte[] Floats(params float[] values)
    {
        var bytes = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }

    [Fact]
    public void Uint8_codes_dequantise_as_tfjs_does_in_float64_then_float32()
    {
        // Codes 9, 27, 28, 29 are among those where q·scale + min in float32 arithmetic is one ulp off tfjs's value.
        byte[] codes = [9, 27, 28, 29, 0, 1, 128, 255];
        string json = Manifest($$"""{ "name": "w", "shape": [2, 4], "dtype": "float32", "quantization": { "dtype": "uint8", "scale": {{Scale:R}}, "min": {{Min:R}} } }""", "\"a.bin\"");
        var w = TfjsWeights.Load(json, "test", _ => codes)["w"];
        Assert.Equal([2, 4], w.Shape);
        float[] tfjs = [-1.1234568357467651f, -0.9012345671653748f, -0.8888888955116272f, -0.8765432238578796f,
            -1.2345678806304932f, -1.2222222089767456f, 0.34567901492118835f, 1.9135801792144775f];
        Assert.Equal(tfjs, w.ToArray());
        float naive = (float)9 * (float)Scale + (float)Min;
        Assert.NotEqual(naive, w.ToArray()[0]); // so the test tells the two arithmetics apart
    }

    [Fact]
    public void Entries_follow_each_other_across_shards_without_alignment()
    {
        // a: 3 uint8 codes; b: 2 raw floats starting at byte 3 and straddling the shard boundary; c: int32 scalar; d: int32 quantized, JS rounding.
        string json = Manifest("""
            { "name": "a", "shape": [3], "dtype": "float32", "quantization": { "dtype": "uint8", "scale": 0.5, "min": -1 } },
            { "name": "b", "shape": [1, 2], "dtype": "float32" },
            { "name": "c", "shape": [], "dtype": "int32" },
            { "name": "d", "shape": [4], "dtype": "int32", "quantization": { "dtype": "uint8", "scale": 0.5, "min": -3 } }
            """);
        byte[] all = [0, 1, 4, .. Floats(1.5f, -2.25f), .. BitConverter.GetBytes(-7), 0, 1, 5, 7];
        var shards = new Dictionary<string, byte[]> { ["a.bin"] = all[..6], ["b.bin"] = all[6..] };
        var weights = TfjsWeights.Load(json, "test", path => shards[path]);
        Assert.Equal([-1f, -0.5f, 1f], weights["a"].ToArray());
        Assert.Equal([1.5f, -2.25f], weights["b"].ToArray());
        Assert.Empty(weights["c"].Shape);
        Assert.Equal([-7f], weights["c"].ToArray());
        Assert.Equal([-3f, -2f, 0f, 1f], weights["d"].ToArray()); // Math.round(-2.5) = -2, Math.round(-0.5) = -0
    }

    [Fact]
    public void Loads_a_manifest_file_with_shards_beside_it()
    {
        string folder = Directory.CreateTempSubdirectory("convkit-tfjs-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "m-weights_manifest.json"), Manifest("""{ "name": "x", "shape": [2], "dtype": "float32" }""", "\"m.bin\""));
            File.WriteAllBytes(Path.Combine(folder, "m.bin"), Floats(3, 4));
            Assert.Equal([3f, 4f], TfjsWeights.Load(Path.Combine(folder, "m-weights_manifest.json"))["x"].ToArray());

            File.Delete(Path.Combine(folder, "m.bin"));
            var missing = Assert.Throws<InvalidDataException>(() => TfjsWeights.Load(Path.Combine(folder, "m-weights_manifest.json")));
            Assert.Contains("shard 'm.bin' does not exist", missing.Message);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Theory]
    [InlineData("""{ "name": "x", "shape": [3], "dtype": "float32" }""", 8, "needs bytes 0..12 but the shards of group 0 hold 8")]
    [InlineData("""{ "name": "x", "shape": [1], "dtype": "float32" }""", 8, "fill 4 bytes but its shards hold 8")]
    [InlineData("""{ "name": "x", "shape": [2], "dtype": "bool" }""", 8, "dtype 'bool'")]
    [InlineData("""{ "name": "x", "shape": [2], "dtype": "float32", "quantization": { "dtype": "int4", "scale": 1, "min": 0 } }""", 2, "quantization dtype 'int4'")]
    [InlineData("""{ "name": "x", "shape": [1], "dtype": "float32" }, { "name": "x", "shape": [1], "dtype": "float32" }""", 8, "appears twice")]
    [InlineData("""{ "shape": [2], "dtype": "float32" }""", 8, "has no name")]
    public void Malformed_manifests_name_the_file_and_the_problem(string entries, int bytes, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => TfjsWeights.Load(Manifest(entries, "\"a.bin\""), "model-weights_manifest.json", _ => new byte[bytes]));
        Assert.Contains("model-weights_manifest.json", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Text_that_is_not_a_manifest_is_refused()
    {
        var error = Assert.Throws<InvalidDataException>(() => TfjsWeights.Load("""{ "not": "an array" }""", "bad.json", _ => []));
        Assert.Contains("bad.json", error.Message);
        Assert.Contains("not a JSON array", error.Message);
    }
}
