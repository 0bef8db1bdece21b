using ConvKit.Vision.Data;

namespace ConvKit.Cli.Commands;

/// <summary>
/// The object-detection datasets a command line can name, each read into a training set and, where the data has one,
/// a test set:
/// <list type="bullet">
/// <item><c>fashion-scenes</c>: <see cref="FashionScenes.WriteDetection"/>'s scenes, made once (7,000 pictures of
/// 128×128) in <c>--data</c> or the user's local application data (<c>convkit/fashion-scenes-detection</c>), then
/// read as <c>coco:</c> that folder. A folder without classes.txt (never made, or interrupted) is made again.</item>
/// <item><c>coco:DIR</c>: DIR/train/images with DIR/train/annotations.json, and DIR/test/images with
/// DIR/test/annotations.json where DIR/test exists. <c>coco:IMAGES,ANNOTATIONS.json</c> names a training set alone,
/// <c>coco:IMAGES,ANNOTATIONS.json,TEST_IMAGES,TEST_ANNOTATIONS.json</c> both.</item>
/// <item><c>voc:DIR</c>: a Pascal VOC folder (DIR/JPEGImages, DIR/Annotations): the ids of ImageSets/Main/train.txt
/// train and those of val.txt (or test.txt) test; without train.txt every annotation trains. Class names come from
/// DIR/classes.txt (one a line) when it exists, else VOC's twenty.</item>
/// <item><c>yolo:DIR</c>: DIR/classes.txt (one name a line) with DIR/images + DIR/labels (a training set alone), or
/// DIR/train/images + DIR/train/labels and DIR/test/images + DIR/test/labels.</item>
/// </list>
/// </summary>
sealed record DetectionDatasetChoice(string Name, DetectionDataset Train, DetectionDataset? Test)
{
    public const string Help = "fashion-scenes (scenes of Fashion-MNIST photographs, made on first use), coco:DIR (DIR/train/images + " +
        "DIR/train/annotations.json, DIR/test/... likewise) or coco:IMAGES,ANNOTATIONS.json[,TEST_IMAGES,TEST_ANNOTATIONS.json], " +
        "voc:DIR (JPEGImages, Annotations, ImageSets/Main/train.txt and val.txt; DIR/classes.txt or VOC's 20 classes) or " +
        "yolo:DIR (DIR/classes.txt; DIR/images + DIR/labels, or DIR/train/... and DIR/test/...)";

    /// <summary>Where fashion-scenes is made on first use when --data is not given.</summary>
    public static string ScenesDirectory => DatasetChoice.CacheDirectory("fashion-scenes-detection");

    /// <param name="dataDirectory">fashion-scenes: the folder it is made in</param>
    /// <param name="channels">1 (grey) or 3 (RGB)</param>
    /// <param name="progress">told (in words) when fashion-scenes is being made</param>
    public static DetectionDatasetChoice Load(string name, string? dataDirectory, int channels, Action<string>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (channels is not (1 or 3)) throw new ArgumentException($"--channels must be 1 or 3, not {channels}.");
        var (train, test) = Read(name, dataDirectory, channels, progress);
        if (train.Count == 0) throw new InvalidDataException($"'{name}' holds no training pictures.");
        if (test != null && !test.Classes.SequenceEqual(train.Classes))
            throw new InvalidDataException($"'{name}': the test set has classes [{string.Join(", ", test.Classes)}] but the training set [{string.Join(", ", train.Classes)}].");
        return new(name, train, test);
    }

    static (DetectionDataset Train, DetectionDataset? Test) Read(string name, string? dataDirectory, int channels, Action<string>? progress)
    {
        if (string.Equals(name, "fashion-scenes", StringComparison.OrdinalIgnoreCase))
        {
            string root = dataDirectory ?? ScenesDirectory;
            if (!File.Exists(Path.Combine(root, "classes.txt")))
            {
                progress?.Invoke($"Making the fashion-scenes detection set in {root} (once)…");
                FashionScenes.WriteDetection(root);
            }
            return Coco(root, channels);
        }
        int colon = name.IndexOf(':');
        string kind = colon < 0 ? "" : name[..colon].ToLowerInvariant(), where = colon < 0 ? "" : name[(colon + 1)..];
        if (colon >= 0 && where.Length == 0) throw new ArgumentException($"'{name}' names no folder; use {Help}.");
        return kind switch
        {
            "coco" => Coco(where, channels),
            "voc" => Voc(where, channels),
            "yolo" => Yolo(where, channels),
            _ => throw new ArgumentException($"unknown detection dataset '{name}'; use {Help}."),
        };
    }

    static (DetectionDataset, DetectionDataset?) Coco(string where, int channels)
    {
        var parts = where.Split(',');
        switch (parts.Length)
        {
            case 2: return (new CocoDetectionDataset(parts[0], parts[1], channels), null);
            case 4: return (new CocoDetectionDataset(parts[0], parts[1], channels), new CocoDetectionDataset(parts[2], parts[3], channels));
            case 1:
                CocoDetectionDataset Split(string split) => new(Path.Combine(where, split, "images"), Path.Combine(where, split, "annotations.json"), channels);
                RequireDirectory(Path.Combine(where, "train"), "coco:DIR", "DIR/train/images and DIR/train/annotations.json");
                return (Split("train"), Directory.Exists(Path.Combine(where, "test")) ? Split("test") : null);
            default:
                throw new ArgumentException($"coco:{where} names {parts.Length} paths; give DIR, IMAGES,ANNOTATIONS.json or IMAGES,ANNOTATIONS.json,TEST_IMAGES,TEST_ANNOTATIONS.json.");
        }
    }

    static (DetectionDataset, DetectionDataset?) Voc(string root, int channels)
    {
        RequireDirectory(root, "voc:DIR", "DIR/JPEGImages and DIR/Annotations");
        var classes = ClassNames(Path.Combine(root, "classes.txt"), required: false) ?? VocDetectionDataset.VocClasses;
        string sets = Path.Combine(root, "ImageSets", "Main");
        if (!File.Exists(Path.Combine(sets, "train.txt"))) return (new VocDetectionDataset(root, classes, channels: channels), null);
        string? testSet = File.Exists(Path.Combine(sets, "val.txt")) ? "val" : File.Exists(Path.Combine(sets, "test.txt")) ? "test" : null;
        return (new VocDetectionDataset(root, classes, "train", channels: channels),
            testSet is null ? null : new VocDetectionDataset(root, classes, testSet, channels: channels));
    }

    static (DetectionDataset, DetectionDataset?) Yolo(string root, int channels)
    {
        RequireDirectory(root, "yolo:DIR", "DIR/classes.txt with DIR/images and DIR/labels");
        var classes = ClassNames(Path.Combine(root, "classes.txt"), required: true)!;
        YoloDetectionDataset Split(string folder) => new(Path.Combine(folder, "images"), Path.Combine(folder, "labels"), classes, channels);
        if (Directory.Exists(Path.Combine(root, "images"))) return (Split(root), null);
        string train = Path.Combine(root, "train"), test = Path.Combine(root, "test");
        RequireDirectory(train, "yolo:DIR", "DIR/images and DIR/labels, or DIR/train/images and DIR/train/labels");
        return (Split(train), Directory.Exists(test) ? Split(test) : null);
    }

    static IReadOnlyList<string>? ClassNames(string path, bool required)
    {
        if (!File.Exists(path))
            return required ? throw new FileNotFoundException($"'{path}' does not exist: it lists the class names, one a line.", path) : null;
        var names = File.ReadAllLines(path).Select(line => line.Trim()).Where(line => line.Length > 0).ToArray();
        return names.Length > 0 ? names : throw new InvalidDataException($"'{path}' lists no class names.");
    }

    static void RequireDirectory(string path, string form, string layout)
    {
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"'{path}' does not exist; {form} expects {layout}.");
    }
}
