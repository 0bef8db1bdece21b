using ConvKit.Data;

namespace ConvKit.Tests.Data;

public sealed class IdxTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-idx-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    string PathOf(string name) => Path.Combine(directory, name);

    [Theory]
    [InlineData("images-idx3-ubyte")]
    [InlineData("images-idx3-ubyte.gz")]
    public void WriteThenReadGivesTheSameArray(string name)
    {
        var data = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)(i * 7)).ToArray();
        Idx.Write(PathOf(name), new IdxArray([2, 3, 4], data));

        var read = Idx.Read(PathOf(name));

        Assert.Equal([2, 3, 4], read.Shape);
        Assert.Equal(data, read.Data);
    }

    [Fact]
    public void GzipIsRecognisedByContentNotName()
    {
        Idx.Write(PathOf("labels.gz"), new IdxArray([3], [1, 2, 3]));
        File.Move(PathOf("labels.gz"), PathOf("labels-idx1-ubyte"));
        Assert.Equal([1, 2, 3], Idx.Read(PathOf("labels-idx1-ubyte")).Data);
    }

    [Fact]
    public void TheHeaderIsBigEndianAsInMnist()
    {
        Idx.Write(PathOf("raw"), new IdxArray([1, 2], [5, 6]));
        Assert.Equal(new byte[] { 0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0, 2, 5, 6 }, File.ReadAllBytes(PathOf("raw")));
    }

    [Theory]
    [InlineData(new byte[] { 1, 0, 8, 1, 0, 0, 0, 1, 7 }, "wrong magic number")]
    [InlineData(new byte[] { 0, 0, 0x0D, 1, 0, 0, 0, 1, 7, 7, 7, 7 }, "element type 0x0D is not supported")]
    [InlineData(new byte[] { 0, 0, 8, 0 }, "declares 0 axes")]
    [InlineData(new byte[] { 0, 0, 8 }, "fewer than the 4-byte magic number")]
    [InlineData(new byte[] { 0, 0, 8, 2, 0, 0, 0 }, "ends inside the axis sizes")]
    [InlineData(new byte[] { 0, 0, 8, 1, 0, 0, 0, 4, 1, 2 }, "truncated: the header promises 4 values")]
    [InlineData(new byte[] { 0, 0, 8, 1, 0, 0, 0, 1, 1, 2 }, "1 bytes follow the 1 values")]
    [InlineData(new byte[] { 0, 0, 8, 1, 0xFF, 0, 0, 1 }, "negative size")]
    public void MalformedFilesNameTheFileAndTheProblem(byte[] bytes, string problem)
    {
        File.WriteAllBytes(PathOf("bad"), bytes);
        var error = Assert.Throws<InvalidDataException>(() => Idx.Read(PathOf("bad")));
        Assert.Contains(PathOf("bad"), error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void ATruncatedGzipFileIsReportedAsCorrupt()
    {
        Idx.Write(PathOf("images.gz"), new IdxArray([100, 10], Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray()));
        var bytes = File.ReadAllBytes(PathOf("images.gz"));
        File.WriteAllBytes(PathOf("images.gz"), bytes[..(bytes.Length / 2)]);

        var error = Assert.Throws<InvalidDataException>(() => Idx.Read(PathOf("images.gz")));
        Assert.Contains("is not valid", error.Message);
    }
}
