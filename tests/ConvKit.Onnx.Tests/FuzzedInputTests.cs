using ConvKit.Onnx.Proto;
using Google.Protobuf;
using DataType = ConvKit.Onnx.Proto.TensorProto.Types.DataType;

namespace ConvKit.Onnx.Tests;

/// <summary>
/// Hostile ONNX files (docs/fuzzing.md): sizes in a tensor's header that its data does not back, and inputs the fuzzer
/// found (Fixtures/Fuzz), each refused with the documented exception before anything large is allocated.
/// </summary>
public class FuzzedInputTests
{
    /// <summary>A model whose one initialiser <c>w</c> has <paramref name="dims"/> and <paramref name="raw"/> bytes (or no data).</summary>
    static byte[] ModelWithInitializer(long[] dims, DataType type, byte[]? raw = null)
    {
        var builder = new GraphBuilder(17).Input("x", [1, 4]).Node("Add", ["x", "x"], ["y"]).Output("y");
        var model = builder.Model();
        var tensor = new TensorProto { Name = "w", DataType = (int)type };
        tensor.Dims.AddRange(dims);
        if (raw != null) tensor.RawData = ByteString.CopyFrom(raw);
        model.Graph.Initializer.Add(tensor);
        return model.ToByteArray();
    }

    [Theory]
    [InlineData(DataType.Float, false, "should hold 1073741824 values but holds 0")]
    [InlineData(DataType.Float, true, "should hold 4294967296 bytes but holds 4")]
    [InlineData(DataType.Double, true, "should hold 8589934592 bytes but holds 4")]
    [InlineData(DataType.Int64, false, "should hold 1073741824 values but holds 0")]
    [InlineData(DataType.Uint8, true, "should hold 1073741824 bytes but holds 4")]
    public void ATensorWhoseDimsPromiseMoreThanItsDataIsRefusedBeforeAllocating(DataType type, bool raw, string problem)
    {
        // A 30-byte file whose header says 2^30 elements: 4 to 8 GiB if the reader believed the dims.
        byte[] bytes = ModelWithInitializer([1 << 15, 1 << 15], type, raw ? [1, 2, 3, 4] : null);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(bytes, source: "crafted.onnx"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("crafted.onnx", error.Message);
        Assert.Contains($"tensor 'w' of shape [32768, 32768] {problem}", error.Message);
        Assert.True(allocated < 1 << 20, $"refusing the crafted file allocated {allocated} bytes");
    }

    [Fact]
    public void DimsWhoseProductOverflowsAreRefused()
    {
        // 2^30 · 2^30 · 2^4 = 2^64 wraps to 0 in a long: the product is checked at every axis.
        byte[] bytes = ModelWithInitializer([1 << 30, 1 << 30, 16], DataType.Float);
        var error = Assert.Throws<OnnxNotSupportedException>(() => OnnxModel.Load(bytes, source: "crafted.onnx"));
        Assert.Contains("tensor 'w' of shape [1073741824, 1073741824, 16] is too large", error.Message);
    }
}
