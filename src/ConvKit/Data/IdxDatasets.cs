namespace ConvKit.Data;

/// <summary>
/// MNIST-format datasets (Fashion-MNIST, MNIST): four IDX files, raw or gzipped, found in the folder the user
/// names or in the standard places. A missing dataset throws a <see cref="FileNotFoundException"/> whose one-line
/// message says where ConvKit looked and how to install the data.
/// </summary>
public static class IdxDatasets
{
    /// <summary>
    /// The folder of standard dataset folders: <c>$CONVKIT_DATASETS</c> when set, else <c>/usr/share/datasets</c>, where
    /// Debian's <c>dataset-fashion-mnist</c> package puts <c>fashion-mnist/</c>.
    /// </summary>
    public static string StandardRoot => Environment.GetEnvironmentVariable("CONVKIT_DATASETS") is { Length: > 0 } root ? root : "/usr/share/datasets";

    /// <summary>Where Fashion-MNIST's IDX files are looked for by default: <c>fashion-mnist/</c> under <see cref="StandardRoot"/>.</summary>
    public static string FashionMnistDirectory => Path.Combine(StandardRoot, "fashion-mnist");
    /// <summary>Where MNIST's IDX files are looked for by default: <c>mnist/</c> under <see cref="StandardRoot"/>.</summary>
    public static string MnistDirectory => Path.Combine(StandardRoot, "mnist");

    /// <summary>Fashion-MNIST's ten class names, by label.</summary>
    public static readonly IReadOnlyList<string> FashionMnistClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>MNIST's ten class names, the digits, by label.</summary>
    public static readonly IReadOnlyList<string> MnistClasses = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>Fashion-MNIST (Zalando): 60,000 training and 10,000 test images of clothing, 1×28×28, 10 classes.</summary>
    /// <param name="dataDirectory">a folder holding the IDX files (or a <c>fashion-mnist</c> / torchvision <c>FashionMNIST/raw</c> folder inside it), searched first</param>
    public static Dataset FashionMnist(bool train = true, string? dataDirectory = null) =>
        Load("Fashion-MNIST", train, dataDirectory, ["fashion-mnist", "FashionMNIST/raw"], [FashionMnistDirectory],
            FashionMnistClasses, "install it with 'apt-get install dataset-fashion-mnist' (Debian/Ubuntu)");

    /// <summary>MNIST handwritten digits: 60,000 training and 10,000 test images, 1×28×28, 10 classes.</summary>
    public static Dataset Mnist(bool train = true, string? dataDirectory = null) =>
        Load("MNIST", train, dataDirectory, ["mnist", "MNIST/raw"], [MnistDirectory],
            MnistClasses, $"put the four MNIST IDX files (train-images-idx3-ubyte.gz, ...) in {MnistDirectory} or pass --data DIR");

    /// <summary>
    /// Reads an images file (N, H, W) and a labels file (N) into a dataset of 1×H×W images; the labels must be
    /// class indices below <paramref name="classes"/>.Count.
    /// </summary>
    public static Dataset FromFiles(string imagesPath, string labelsPath, IReadOnlyList<string> classes)
    {
        var images = Idx.Read(imagesPath);
        var labels = Idx.Read(labelsPath);
        if (images.Shape.Length != 3)
            throw new InvalidDataException($"IDX file '{imagesPath}' should hold images (N, H, W) but has shape {Shapes.Format(images.Shape)}.");
        if (labels.Shape.Length != 1 || labels.Shape[0] != images.Shape[0])
            throw new InvalidDataException($"IDX file '{labelsPath}' should hold {images.Shape[0]} labels but has shape {Shapes.Format(labels.Shape)}.");
        int bad = Array.FindIndex(labels.Data, label => label >= classes.Count);
        if (bad >= 0)
            throw new InvalidDataException($"IDX file '{labelsPath}': label {labels.Data[bad]} of sample {bad} is not one of the {classes.Count} classes.");
        return new ByteImageDataset(images.Data, [1, images.Shape[1], images.Shape[2]], labels.Data.Select(label => (int)label).ToArray(), classes);
    }

    static Dataset Load(string name, bool train, string? dataDirectory, string[] subfolders, string[] standardDirectories,
        IReadOnlyList<string> classes, string installHint)
    {
        var (images, labels) = Locate(name, train, dataDirectory, subfolders, standardDirectories, installHint);
        return FromFiles(images, labels, classes);
    }

    /// <summary>The first candidate folder holding both files of the split, or a one-line "not found" error.</summary>
    internal static (string Images, string Labels) Locate(string name, bool train, string? dataDirectory, string[] subfolders,
        string[] standardDirectories, string installHint)
    {
        string split = train ? "train" : "t10k";
        string[] fileNames = [$"{split}-images-idx3-ubyte", $"{split}-labels-idx1-ubyte"];
        var candidates = new List<string>();
        if (dataDirectory != null)
        {
            // A folder named by the user that is not there is a mistake to report, not a reason to read another one.
            if (!Directory.Exists(dataDirectory))
                throw new DirectoryNotFoundException($"{name}: the data folder '{dataDirectory}' does not exist.");
            candidates.Add(dataDirectory);
            candidates.AddRange(subfolders.Select(sub => Path.Combine(dataDirectory, sub)));
        }
        candidates.AddRange(standardDirectories);

        foreach (string directory in candidates)
        {
            var paths = fileNames.Select(file => FindFile(directory, file)).ToArray();
            if (paths.All(path => path != null)) return (paths[0]!, paths[1]!);
        }
        throw new FileNotFoundException(
            $"{name} not found: looked for {fileNames[0]}[.gz] and {fileNames[1]}[.gz] in {string.Join(", ", candidates)}; {installHint}.");
    }

    static string? FindFile(string directory, string name) =>
        new[] { name + ".gz", name }.Select(file => Path.Combine(directory, file)).FirstOrDefault(File.Exists);
}
