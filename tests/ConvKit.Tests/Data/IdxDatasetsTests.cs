using ConvKit.Data;

namespace ConvKit.Tests.Data;

public sealed class IdxDatasetsTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-mnist-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>Writes a small MNIST-format split: image i is filled with the value 10·i, label i % 10.</summary>
    internal static void WriteSplit(string folder, string split, int count, int size = 4, bool gzip = true)
    {
        Directory.CreateDirectory(folder);
        string suffix = gzip ? ".gz" : "";
        var pixels = Enumerable.Range(0, count).SelectMany(i => Enumerable.Repeat((byte)(10 * i), size * size)).ToArray();
        Idx.Write(Path.Combine(folder, $"{split}-images-idx3-ubyte{suffix}"), new IdxArray([count, size, size], pixels));
        Idx.Write(Path.Combine(folder, $"{split}-labels-idx1-ubyte{suffix}"), new IdxArray([count], Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray()));
    }

    [Fact]
    public void FashionMnistLoadsFromTheGivenFolderAsToTensorWould()
    {
        WriteSplit(directory, "t10k", count: 12, gzip: false);

        var test = IdxDatasets.FashionMnist(train: false, dataDirectory: directory);

        Assert.Equal(12, test.Count);
        Assert.Equal([1, 4, 4], test.SampleShape);
        Assert.Equal("Ankle boot", test.Classes[9]);
        var (image, label) = test[11];
        Assert.Equal(1, label);
        Assert.All(image.ToArray(), value => Assert.Equal(110f / 255f, value));
    }

    [Fact]
    public void TorchvisionsRawSubfolderIsFound()
    {
        WriteSplit(Path.Combine(directory, "MNIST", "raw"), "train", count: 3);
        Assert.Equal(3, IdxDatasets.Mnist(train: true, dataDirectory: directory).Count);
    }

    [Fact]
    public void AMissingDatasetSaysWhereItLookedAndHowToInstall()
    {
        var error = Assert.Throws<FileNotFoundException>(() =>
            IdxDatasets.Locate("Fashion-MNIST", train: true, directory, ["fashion-mnist"], ["/no/such/standard/place"], "install it with 'apt-get install dataset-fashion-mnist'"));

        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("Fashion-MNIST not found", error.Message);
        Assert.Contains(directory, error.Message);
        Assert.Contains("/no/such/standard/place", error.Message);
        Assert.Contains("apt-get install dataset-fashion-mnist", error.Message);
    }

    [Fact]
    public void MismatchedImageAndLabelCountsAreRejected()
    {
        WriteSplit(directory, "train", count: 5);
        Idx.Write(Path.Combine(directory, "train-labels-idx1-ubyte.gz"), new IdxArray([4], [0, 1, 2, 3]));
        var error = Assert.Throws<InvalidDataException>(() => IdxDatasets.Mnist(dataDirectory: directory));
        Assert.Contains("should hold 5 labels", error.Message);
    }

    [Fact]
    public void LabelsBeyondTheClassesAreRejected()
    {
        WriteSplit(directory, "train", count: 2);
        Idx.Write(Path.Combine(directory, "train-labels-idx1-ubyte.gz"), new IdxArray([2], [0, 10]));
        var error = Assert.Throws<InvalidDataException>(() => IdxDatasets.Mnist(dataDirectory: directory));
        Assert.Contains("label 10 of sample 1", error.Message);
    }
}
