using ConvKit.Data;
using ConvKit.Vision.Data;
using ConvKit.Vision.Imaging;

namespace ConvKit.Vision.Tests.Data;

public sealed class ImageFolderDatasetTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("convkit-folder-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>Class folders of uniformly coloured PNGs: class c's images have grey level (c + 1)·0.2.</summary>
    internal static void WriteFolder(string root, string[] classes, int perClass, int size = 12)
    {
        for (int c = 0; c < classes.Length; c++)
        {
            string folder = Directory.CreateDirectory(Path.Combine(root, classes[c])).FullName;
            for (int i = 0; i < perClass; i++)
            {
                var image = Tensor.Full([3, size, size], (c + 1) * 0.2f);
                using (Tensor.NoGrad()) image[0, i % size, i % size] = 1f; // make each image a little different
                ImageFiles.SavePng(image, Path.Combine(folder, $"{i:D3}.png"));
            }
        }
    }

    [Fact]
    public void ClassesAreTheSortedSubfoldersAndImagesAreResized()
    {
        WriteFolder(root, ["dog", "cat"], perClass: 3);
        File.WriteAllText(Path.Combine(root, "cat", "readme.txt"), "not an image, skipped");

        var dataset = new ImageFolderDataset(root, channels: 1, size: new Size2(6, 6));

        Assert.Equal(["cat", "dog"], dataset.Classes);
        Assert.Equal(6, dataset.Count);
        Assert.Equal([1, 6, 6], dataset.SampleShape);
        Assert.Equal([0, 0, 0, 1, 1, 1], Enumerable.Range(0, 6).Select(dataset.Label));
        var (image, label) = dataset[4];
        Assert.Equal(1, label);
        Assert.Equal([1, 6, 6], image.Shape);
        Assert.Equal(0.2f, image.ToArray().Order().ElementAt(18), 2); // mostly the grey of "dog", the first class written
    }

    [Fact]
    public void BadFoldersAreReportedClearly()
    {
        Assert.Contains("does not exist", Assert.Throws<DirectoryNotFoundException>(() => new ImageFolderDataset(Path.Combine(root, "nope"))).Message);
        Assert.Contains("no subfolders", Assert.Throws<InvalidDataException>(() => new ImageFolderDataset(root)).Message);
        Directory.CreateDirectory(Path.Combine(root, "empty"));
        Assert.Contains("no images in 'empty'", Assert.Throws<InvalidDataException>(() => new ImageFolderDataset(root)).Message);
    }

    [Fact]
    public void AnUnreadableImageFailsWhenRead()
    {
        WriteFolder(root, ["a"], perClass: 1);
        File.WriteAllText(Path.Combine(root, "a", "broken.jpg"), "garbage");
        var dataset = new ImageFolderDataset(root);
        var error = Assert.Throws<InvalidDataException>(() => new DataLoader(dataset, 2).First());
        Assert.Contains("broken.jpg", error.Message);
    }
}
