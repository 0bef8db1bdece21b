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

    [Fact]
    public void AGzipBombIsRefusedWithoutInflatingIt()
    {
        // A header promising 10 values, then 64 MiB of zeros: about 64 KiB compressed. The reader must stop once the
        // output runs past the header's promise, not decompress (and allocate) the whole 64 MiB first.
        using (var file = File.Create(PathOf("bomb.gz")))
        using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.SmallestSize))
        {
            gzip.Write(new byte[] { 0, 0, 8, 1, 0, 0, 0, 10 });
            var zeros = new byte[1 << 20];
            for (int i = 0; i < 64; i++) gzip.Write(zeros);
        }
        Assert.True(new FileInfo(PathOf("bomb.gz")).Length < 1 << 20);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => Idx.Read(PathOf("bomb.gz")));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains(PathOf("bomb.gz"), error.Message);
        Assert.Contains("runs past the 18 bytes its header promises", error.Message);
        Assert.True(allocated < 4 << 20, $"reading the 64 MiB gzip bomb allocated {allocated} bytes");
    }

    [Fact]
    public void AGzipFileWithAMalformedHeaderNamesTheProblem()
    {
        using (var file = File.Create(PathOf("bad.gz")))
        using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
            gzip.Write(new byte[] { 0, 0, 9, 1, 0, 0, 0, 1, 0 });

        var error = Assert.Throws<InvalidDataException>(() => Idx.Read(PathOf("bad.gz")));
        Assert.Contains("element type 0x09", error.Message);
    }
}
