using ConvKit.Data;
using ConvKit.Vision.Data;

namespace ConvKit.Cli.Commands;

/// <summary>
/// The datasets a command line can name: <c>fashion-mnist</c>, <c>mnist</c>, or <c>folder:DIR</c> for your own
/// pictures (DIR holds one subfolder per class, or <c>train/</c> and <c>test/</c> folders laid out that way).
/// </summary>
sealed record DatasetChoice(string Name, Dataset Train, Dataset? Test)
{
    public const string Help = "fashion-mnist, mnist, or folder:DIR (one subfolder of images per class; or DIR/train and DIR/test laid out so)";

    /// <param name="channels">for folders: 1 (grey) or 3 (RGB)</param>
    /// <param name="imageSize">for folders: images are resized to imageSize × imageSize</param>
    public static DatasetChoice Load(string name, string? dataDirectory, int channels = 3, int imageSize = 32)
    {
        switch (name.ToLowerInvariant())
        {
            case "fashion-mnist":
                return new(name, IdxDatasets.FashionMnist(train: true, dataDirectory), IdxDatasets.FashionMnist(train: false, dataDirectory));
            case "mnist":
                return new(name, IdxDatasets.Mnist(train: true, dataDirectory), IdxDatasets.Mnist(train: false, dataDirectory));
        }
        if (!name.StartsWith("folder:", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"unknown dataset '{name}'; use {Help}.");
        if (channels is not (1 or 3)) throw new ArgumentException($"--channels must be 1 or 3, not {channels}.");
        if (imageSize is < 1 or > 4096) throw new ArgumentException($"--image-size must be between 1 and 4096, not {imageSize}.");
        string root = name["folder:".Length..];
        ImageFolderDataset Folder(string path) => new(path, channels, new Size2(imageSize, imageSize));
        string train = Path.Combine(root, "train"), test = Path.Combine(root, "test");
        if (!Directory.Exists(train)) return new(name, Folder(root), null);
        var trainSet = Folder(train);
        var testSet = Directory.Exists(test) ? Folder(test) : null;
        if (testSet != null && !testSet.Classes.SequenceEqual(trainSet.Classes))
            throw new InvalidDataException($"'{test}' has classes [{string.Join(", ", testSet.Classes)}] but '{train}' has [{string.Join(", ", trainSet.Classes)}].");
        return new(name, trainSet, testSet);
    }
}
