using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using ConvKit.Backends;
using ConvKit.IO;
using ConvKit.NN;

namespace ConvKit.Tests.IO;

/// <summary>
/// Safetensors: round trips, files written by Python from PyTorch tensors (tools/fixtures/gen_safetensors.py),
/// loading into a module by PyTorch names, every malformed-file case, and atomic saving.
/// </summary>
public class SafetensorsTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-safetensors-").FullName;
    public void Dispose() => Directory.Delete(directory, recursive: true);

    string PathOf(string name) => Path.Combine(directory, name);

    static readonly JsonElement Expected = Fixtures.Load("safetensors.json").GetProperty("files");
    static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    // ----- round trip -------------------------------------------------------------------------------------

    [Fact]
    public void RoundTripKeepsNamesOrderShapesValuesAndMetadata()
    {
        var tensors = new OrderedDictionary<string, Tensor>
        {
            ["z.weight"] = Tensor.Randn([2, 3, 4], seed: 1),
            ["a.bias"] = Tensor.FromArray([float.NaN, float.PositiveInfinity, -0f, float.Epsilon, -3.5f]),
            ["scalar"] = Tensor.Scalar(2.5f),
            ["empty"] = Tensor.Zeros(0, 3),
            ["m.running_var"] = Tensor.Rand([7], seed: 2),
            ["big"] = Tensor.Randn([3, 65537], seed: 3),   // written in chunks of 65,536 values, the last one short
        };
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["epoch"] = "3", ["note"] = "größe \"ok\" ✓" };
        string path = PathOf("model.safetensors");
        Safetensors.Save(path, tensors, metadata);

        var loaded = Safetensors.Load(path);
        Assert.Equal(tensors.Keys, loaded.Keys);
        foreach (var (name, tensor) in tensors)
        {
            Assert.Equal(tensor.Shape, loaded[name].Shape);
            Assert.Equal(Bits(tensor), Bits(loaded[name]));
        }
        Assert.Equal(metadata, Safetensors.ReadMetadata(path));

        // The layout the reference writer produces: the header padded with spaces so the data starts 8-byte aligned.
        byte[] bytes = File.ReadAllBytes(path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, (8 + headerLength) % 8);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.EndsWith("}", header.TrimEnd(' '));
        Assert.InRange(header.Length - header.TrimEnd(' ').Length, 0, 7);
        Assert.Equal(8 + headerLength + 4 * tensors.Values.Sum(t => t.Numel), bytes.Length);
        using var json = JsonDocument.Parse(header);
        Assert.Equal(["__metadata__", .. tensors.Keys], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("F32", json.RootElement.GetProperty("z.weight").GetProperty("dtype").GetString());
        Assert.Equal([24L * 4, 29L * 4], json.RootElement.GetProperty("a.bias").GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
    }

    [Fact]
    public void Int32TensorsRoundTripAsI32Exactly()
    {
        const int beyondFloat = (1 << 24) + 1; // a float32 holds 16777216 here
        int[] values = [beyondFloat, -7, int.MaxValue, int.MinValue];
        string path = PathOf("indices.safetensors");
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Tensor.Ones(3), ["idx"] = Tensor.FromInt32(values, 2, 2) });

        var bytes = File.ReadAllBytes(path);
        using var json = JsonDocument.Parse(bytes.AsMemory(8, (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes)));
        Assert.Equal("I32", json.RootElement.GetProperty("idx").GetProperty("dtype").GetString());
        Assert.Equal("F32", json.RootElement.GetProperty("w").GetProperty("dtype").GetString());
        Assert.Equal(beyondFloat, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(bytes.Length - 16)));

        var loaded = Safetensors.Load(path);
        Assert.Equal(DType.Int32, loaded["idx"].DType);
        Assert.Equal([2, 2], loaded["idx"].Shape);
        Assert.Equal(values, loaded["idx"].ToInt32Array());
        Assert.Equal(DType.Float32, loaded["w"].DType);
        // PyTorch's int32 tensors load as Int32 too.
        Assert.Equal([-5, 1048576], Safetensors.Load(FixturePath("dtypes.safetensors"))["i32"].ToInt32Array());
        Assert.Equal(DType.Int32, Safetensors.Load(FixturePath("dtypes.safetensors"))["i32"].DType);
    }

    [Fact]
    public void WithoutMetadataTheHeaderHasNone()
    {
        string path = PathOf("plain.safetensors");
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Tensor.Ones(2) });
        Assert.Empty(Safetensors.ReadMetadata(path));
        Assert.DoesNotContain("__metadata__", File.ReadAllText(path));
        Assert.Equal([1f, 1f], Safetensors.Load(path)["w"].ToArray());
    }

    [Fact]
    public void SaveRefusesTheReservedName()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Safetensors.Save(PathOf("x.safetensors"), new Dictionary<string, Tensor> { ["__metadata__"] = Tensor.Ones(1) }));
        Assert.Contains("__metadata__", error.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(directory));
    }

    static int[] Bits(Tensor t) => t.ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();

    // ----- files written by Python ---------------------------------------------------------------------------

    [Theory]
    [InlineData("torch_state.safetensors")]
    [InlineData("dtypes.safetensors")]
    public void FilesWrittenByPythonLoadWithIdenticalValues(string file)
    {
        var expected = Expected.GetProperty(file);
        var loaded = Safetensors.Load(FixturePath(file));
        Assert.Equal(expected.GetProperty("order").EnumerateArray().Select(e => e.GetString()), loaded.Keys);
        foreach (var (name, tensor) in loaded)
        {
            var entry = expected.GetProperty("tensors").GetProperty(name);
            Assert.Equal(Fixtures.Ints(entry.GetProperty("shape")), tensor.Shape);
            // Every stored value (float16, bfloat16, int64, ...) is exactly a float32, and must load as exactly it.
            Assert.Equal(Fixtures.Doubles(entry.GetProperty("data")).Select(v => (float)v), tensor.ToArray());
        }
        var metadata = expected.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        Assert.Equal(metadata, Safetensors.ReadMetadata(FixturePath(file)));
    }

    [Fact]
    public void PythonFilesCoverTheIntegerAndHalfDtypes()
    {
        var tensors = Expected.GetProperty("torch_state.safetensors").GetProperty("tensors");
        Assert.Equal("I64", tensors.GetProperty("bn.num_batches_tracked").GetProperty("dtype").GetString());
        Assert.Equal("F16", tensors.GetProperty("fc.weight").GetProperty("dtype").GetString());
        var dtypes = Expected.GetProperty("dtypes.safetensors").GetProperty("tensors").EnumerateObject()
            .Select(p => p.Value.GetProperty("dtype").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL" }, dtypes);
    }

    // ----- modules -------------------------------------------------------------------------------------------

    /// <summary>Named parameters and buffers only, standing in for real layers.</summary>
    sealed class Holder : Module
    {
        public Holder(params (string Name, int[] Shape, bool Buffer)[] entries)
        {
            foreach (var (name, shape, buffer) in entries)
                if (buffer) RegisterBuffer(name, Tensor.Zeros(shape));
                else RegisterParameter(name, Tensor.Zeros(shape));
        }
        protected override Tensor ForwardCore(Tensor input) => input;
    }

    /// <summary>The parameter and buffer names of the generator's Conv2d(1, 2, 3) → BatchNorm2d(2) → Linear(8, 3).</summary>
    sealed class TinyNet : Module
    {
        public TinyNet(bool withHead = true)
        {
            RegisterModule("conv", new Holder(("weight", [2, 1, 3, 3], false), ("bias", [2], false)));
            RegisterModule("bn", new Holder(("weight", [2], false), ("bias", [2], false),
                ("running_mean", [2], true), ("running_var", [2], true), ("num_batches_tracked", [], true)));
            if (withHead) RegisterModule("fc", new Holder(("weight", [3, 8], false), ("bias", [3], false)));
        }
        protected override Tensor ForwardCore(Tensor input) => input;
    }

    [Fact]
    public void PyTorchStateDictLoadsIntoAModuleWithTheSameNames()
    {
        var model = new TinyNet();
        var result = model.LoadSafetensors(FixturePath("torch_state.safetensors"));
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        var expected = Expected.GetProperty("torch_state.safetensors").GetProperty("tensors");
        foreach (var (name, tensor) in model.StateDict())
            Assert.Equal(Fixtures.Doubles(expected.GetProperty(name).GetProperty("data")).Select(v => (float)v), tensor.ToArray());
        Assert.Equal(3f, model.StateDict()["bn.num_batches_tracked"].Item());
    }

    [Fact]
    public void StrictLoadingNamesTheFileAndTheUnexpectedEntries()
    {
        string path = FixturePath("torch_state.safetensors");
        var error = Assert.Throws<ArgumentException>(() => new TinyNet(withHead: false).LoadSafetensors(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("fc.weight", error.Message);
        var result = new TinyNet(withHead: false).LoadSafetensors(path, strict: false);
        Assert.Equal(["fc.weight", "fc.bias"], result.UnexpectedKeys.Order().Reverse());
    }

    [Fact]
    public void ModuleRoundTripThroughAFile()
    {
        var source = new TinyNet();
        source.LoadSafetensors(FixturePath("torch_state.safetensors"));
        string path = PathOf("tiny.safetensors");
        source.SaveSafetensors(path, new Dictionary<string, string> { ["format"] = "pt" });
        var copy = new TinyNet();
        copy.LoadSafetensors(path);
        foreach (var (name, tensor) in source.StateDict()) Assert.Equal(tensor.ToArray(), copy.StateDict()[name].ToArray());
        Assert.Equal(source.StateDict().Keys, Safetensors.Load(path).Keys);
    }

    // ----- malformed files ---------------------------------------------------------------------------------

    /// <summary>An 8-byte header length (the JSON's own unless <paramref name="declaredLength"/>), the JSON, then <paramref name="data"/>.</summary>
    static byte[] Build(string header, byte[]? data = null, ulong? declaredLength = null)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + (data?.Length ?? 0)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data?.CopyTo(bytes, 8 + json.Length);
        return bytes;
    }

    /// <summary>A header with one tensor called "a".</summary>
    static string One(string dtype, string shape, string offsets) =>
        "{\"a\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}}";

    public static TheoryData<string, byte[], string> MalformedFiles() => new()
    {
        { "shorter than the length field", [1, 2, 3], "fewer than the 8-byte header length" },
        { "header length beyond the file", Build(One("F32", "[1]", "[0,4]"), new byte[4], declaredLength: 1000), "exceeds" },
        { "header length near 2^64", Build("{}", declaredLength: ulong.MaxValue), "exceeds" },
        { "invalid JSON", Build("""{"a": {"dtype": "F32", """), "not valid JSON" },
        { "invalid UTF-8", [.. Build("{}")[..8], 0xFF, 0xFE], "the header is not valid UTF-8 (byte 0 of the header, at offset 8" },
        { "empty header", Build(""), "not valid JSON" },
        { "header not an object", Build("[1, 2]"), "not an object" },
        { "entry not an object", Build("""{"a": 5}"""), "not an object" },
        { "unknown dtype", Build(One("F7", "[1]", "[0,4]"), new byte[4]), "dtype \"F7\"" },
        { "numeric dtype", Build(One("1", "[1]", "[0,4]"), new byte[4]), "dtype \"1\"" },
        { "unsupported dtype", Build(One("U64", "[1]", "[0,8]"), new byte[8]), "dtype \"U64\"" },
        { "dtype not a string", Build("""{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}""", new byte[4]), "dtype 4" },
        { "missing shape", Build("""{"a":{"dtype":"F32","data_offsets":[0,4]}}""", new byte[4]), "has no \"shape\"" },
        { "shape not an array", Build(One("F32", "3", "[0,12]"), new byte[12]), "is not an array" },
        { "negative dimension", Build(One("F32", "[-1,2]", "[0,8]"), new byte[8]), "whole number ≥ 0" },
        { "fractional dimension", Build(One("F32", "[1.5]", "[0,6]"), new byte[6]), "whole number ≥ 0" },
        { "too many elements", Build(One("F32", "[100000,100000]", "[0,4]"), new byte[4]), "more elements than a tensor can hold" },
        { "three offsets", Build(One("F32", "[1]", "[0,4,8]"), new byte[8]), "not 2" },
        { "negative offset", Build(One("F32", "[1]", "[-4,0]"), new byte[4]), "whole number ≥ 0" },
        { "offsets reversed", Build(One("F32", "[1]", "[8,4]"), new byte[8]), "end before they begin" },
        { "size not shape times dtype", Build(One("F32", "[2]", "[0,4]"), new byte[4]), "needs 8" },
        { "offsets out of range", Build(One("F32", "[1]", "[1000,1004]"), new byte[4]), "offsets are out of range" },
        { "truncated data", Build(One("F32", "[4]", "[0,16]"), new byte[10]), "truncated" },
        { "trailing bytes", Build(One("F32", "[1]", "[0,4]"), new byte[9]), "5 bytes follow the last tensor" },
        { "overlapping tensors", Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", new byte[12]), "overlaps" },
        { "gap between tensors", Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", new byte[12]), "gap before the data of tensor 'b'" },
        { "data not starting at zero", Build(One("F32", "[1]", "[4,8]"), new byte[8]), "gap" },
        { "duplicate names", Build("""{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}""", new byte[2]), "names 'a' twice" },
        { "metadata not an object", Build("""{"__metadata__":[1]}"""), "'__metadata__' is a JSON Array" },
        { "metadata value not a string", Build("""{"__metadata__":{"epoch":3}}"""), "metadata 'epoch' is a JSON Number" },
    };

    [Theory]
    [MemberData(nameof(MalformedFiles))]
    public void MalformedFilesThrowInvalidDataNamingTheFileAndTheProblem(string name, byte[] bytes, string problem)
    {
        string path = PathOf(name.Replace(' ', '_') + ".safetensors");
        File.WriteAllBytes(path, bytes);
        foreach (var read in new Action[] { () => Safetensors.Load(path), () => Safetensors.ReadMetadata(path) })
        {
            var error = Assert.Throws<InvalidDataException>(read);
            Assert.Contains(path, error.Message);
            Assert.Contains(problem, error.Message);
        }
    }

    [Fact]
    public void BooleanBytesOtherThanZeroOrOneAreRefusedOnLoad()
    {
        string path = PathOf("bool.safetensors");
        File.WriteAllBytes(path, Build(One("BOOL", "[3]", "[0,3]"), [1, 0, 2]));
        var error = Assert.Throws<InvalidDataException>(() => Safetensors.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("BOOL but holds the byte 2 at element 2", error.Message);
        File.WriteAllBytes(path, Build(One("BOOL", "[3]", "[0,3]"), [1, 0, 1]));
        Assert.Equal([1f, 0f, 1f], Safetensors.Load(path)["a"].ToArray());
    }

    [Fact]
    public void HeaderMayBePaddedWithSpacesAndListTensorsInAnyOrder()
    {
        string path = PathOf("unordered.safetensors");
        var data = new byte[12];
        BinaryPrimitives.WriteSingleLittleEndian(data, 1.5f);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4), -2f);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(8), 4f);
        File.WriteAllBytes(path, Build("""{"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}    """, data));
        var loaded = Safetensors.Load(path);
        Assert.Equal(["a", "b"], loaded.Keys);
        Assert.Empty(loaded["a"].Shape);
        Assert.Equal(1.5f, loaded["a"].Item());
        Assert.Equal([-2f, 4f], loaded["b"].ToArray());
    }

    // ----- atomic saving -----------------------------------------------------------------------------------

    [Fact]
    public void AFailedSaveLeavesTheOldFileAndNoTemporaryFile()
    {
        string path = PathOf("weights.safetensors");
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["old"] = Tensor.Ones(3) });
        byte[] old = File.ReadAllBytes(path);

        // The second tensor's values cannot be read: the save fails after the header and the first tensor are written.
        var tensors = new OrderedDictionary<string, Tensor>
        {
            ["a"] = Tensor.Randn([1000], seed: 1),
            ["broken"] = new Tensor(new FaultyStorage(1000), [1000]),
            ["c"] = Tensor.Ones(5),
        };
        var error = Assert.Throws<ArgumentException>(() => Safetensors.Save(path, tensors));
        Assert.Contains("cannot use storage", error.Message);

        Assert.Equal(old, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.EnumerateFileSystemEntries(directory));
    }

    [Fact]
    public void ASaveThatCannotReplaceItsTargetRemovesItsTemporaryFile()
    {
        string target = PathOf("a-directory");
        Directory.CreateDirectory(target);
        Assert.ThrowsAny<IOException>(() => Safetensors.Save(target, new Dictionary<string, Tensor> { ["w"] = Tensor.Ones(2) }));
        Assert.Equal([target], Directory.EnumerateFileSystemEntries(directory));
    }

    [Fact]
    public void ASuccessfulSaveReplacesTheOldFileAndLeavesNothingElse()
    {
        string path = PathOf("weights.safetensors");
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Tensor.Ones(2) });
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["v"] = Tensor.Zeros(3) });
        Assert.Equal(["v"], Safetensors.Load(path).Keys);
        Assert.Equal([path], Directory.EnumerateFileSystemEntries(directory));
    }

    /// <summary>Storage that claims the CPU backend but is not its kind, so reading its values fails: a device error mid-save.</summary>
    sealed class FaultyStorage(int length) : Storage
    {
        public override int Length => length;
        public override IBackend Backend => ConvKit.Backends.Cpu.CpuBackend.Instance;
    }
}
