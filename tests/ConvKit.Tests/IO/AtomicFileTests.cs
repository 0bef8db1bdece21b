using ConvKit.IO;

namespace ConvKit.Tests.IO;

/// <summary><see cref="AtomicFile"/>: the target is its old self or wholly new, and no temporary file is left behind.</summary>
public sealed class AtomicFileTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-atomic-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void ReplacesTheFileWhole()
    {
        string path = Path.Combine(directory, "metrics.csv");
        File.WriteAllText(path, "old, longer than the new text\n");
        AtomicFile.WriteAllText(path, "epoch,loss\n1,0.5\n");
        Assert.Equal("epoch,loss\n1,0.5\n", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(directory));
    }

    /// <summary>A writer that fails halfway (as a killed or crashing save would) leaves the old bytes and no temporary file.</summary>
    [Fact]
    public void AWriterThatFailsHalfwayLeavesTheOldFile()
    {
        string path = Path.Combine(directory, "weights.bin");
        File.WriteAllBytes(path, [1, 2, 3]);
        var failure = Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write([9, 9, 9, 9, 9]);
            throw new IOException("disk full");
        }));
        Assert.Equal("disk full", failure.Message);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(directory));
    }

    [Fact]
    public void AMissingFolderIsNamedNotCreated()
    {
        string path = Path.Combine(directory, "absent", "file.txt");
        Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.WriteAllText(path, "x"));
        Assert.False(Directory.Exists(Path.Combine(directory, "absent")));
    }
}
