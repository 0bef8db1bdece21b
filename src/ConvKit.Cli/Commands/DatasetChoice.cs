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

    /// <summary>
    /// The images as a model taking <paramref name="height"/> × <paramref name="width"/> wants them: smaller ones (MNIST's
    /// 28×28 for LeNet-5's 32×32) are centred in a field of zeros, as LeNet-5's paper did; larger ones are refused.
    /// </summary>
    public DatasetChoice FitTo(int height, int width)
    {
        var shape = Train.SampleShape!; // the command line's sets (IDX files, picture folders) have one picture size
        if (shape[1] > height || shape[2] > width)
            throw new ArgumentException($"'{Name}' has {shape[1]}×{shape[2]} images, larger than the {height}×{width} the model takes.");
        return this with { Train = Train.PadTo(height, width), Test = Test?.PadTo(height, width) };
    }

    /// <summary>Where a dataset the command line makes on first use (fashion-scenes) is kept when --data is not given.</summary>
    public static string CacheDirectory(string name) =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "convkit", name);

    /// <param name="channels">for folders: 1 (grey) or 3 (RGB)</param>
    /// <param name="imageSize">for folders: the (height, width) images are resized to</param>
    public static DatasetChoice Load(string name, string? dataDirectory, int channels, Size2 imageSize)
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
        if (imageSize.Height is < 1 or > 4096 || imageSize.Width is < 1 or > 4096)
            throw new ArgumentException($"--image-size must be between 1 and 4096, not {imageSize.Height}×{imageSize.Width}.");
        string root = name["folder:".Length..];
        ImageFolderDataset Folder(string path) => new(path, channels, imageSize);
        string train = Path.Combine(root, "train"), test = Path.Combine(root, "test");
        if (!Directory.Exists(train)) return new(name, Folder(root), null);
        var trainSet = Folder(train);
        var testSet = Directory.Exists(test) ? Folder(test) : null;
        if (testSet != null && !testSet.Classes.SequenceEqual(trainSet.Classes))
            throw new InvalidDataException($"'{test}' has classes [{string.Join(", ", testSet.Classes)}] but '{train}' has [{string.Join(", ", trainSet.Classes)}].");
        return new(name, trainSet, testSet);
    }
}
