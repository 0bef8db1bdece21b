using ConvKit.Data;
using ConvKit.Vision.Imaging;

namespace ConvKit.Vision.Data;

/// <summary>
/// Object detection annotated in YOLO's txt format (Darknet, Ultralytics, Roboflow exports): every picture in
/// <c>imagesDirectory</c> has a label file of the same name with <c>.txt</c> in <c>labelsDirectory</c>, one line per
/// object, <c>class cx cy w h</c>, the box's centre and size relative to the picture's width and height.
/// <list type="bullet">
/// <item>Boxes are <see cref="BoxFormat.Cxcywh"/> relative (values in [0, 1]), on the picture's size.</item>
/// <item>A picture without a label file, or with an empty one, has no objects (a background picture).</item>
/// <item>Classes come from a list or a names file (<c>classes.txt</c>, <c>obj.names</c>: one name per line); the class
/// number on a line is an index into them.</item>
/// </list>
/// Every label file is parsed and checked, and every picture's size read from its header, when the dataset is made: a
/// line without exactly five fields, a non-numeric field, a class number out of range, a box outside its picture (by
/// more than 1 pixel; boxes within that are clipped) or of zero size, and a label file without a picture each throw one
/// exception naming the label file and the line number. Pictures are decoded when read.
/// </summary>
public sealed class YoloDetectionDataset : DetectionDataset
{

    /// <param name="imagesDirectory">the pictures (PNG, JPEG, BMP, GIF, WebP), sorted by name</param>
    /// <param name="labelsDirectory">one <c>name.txt</c> per picture <c>name.png</c></param>
    /// <param name="classes">the class names; the first number of a line is an index into them</param>
    /// <param name="channels">1 (grey) or 3 (RGB)</param>
    public YoloDetectionDataset(string imagesDirectory, string labelsDirectory, IReadOnlyList<string> classes, int channels = 3)
        : this(imagesDirectory, labelsDirectory, classes, null, channels)
    {
    }

    /// <param name="imagesDirectory">the pictures (PNG, JPEG, BMP, GIF, WebP), sorted by name</param>
    /// <param name="labelsDirectory">one <c>name.txt</c> per picture <c>name.png</c></param>
    /// <param name="classesFile">the class names, one per line (blank lines skipped)</param>
    /// <param name="channels">1 (grey) or 3 (RGB)</param>
    public YoloDetectionDataset(string imagesDirectory, string labelsDirectory, string classesFile, int channels = 3)
        : this(imagesDirectory, labelsDirectory, ReadClasses(classesFile), classesFile, channels)
    {
    }

    YoloDetectionDataset(string imagesDirectory, string labelsDirectory, IReadOnlyList<string> classes, string? classesFile, int channels)
        : base(channels)
    {
        if (classes.Count == 0) throw new ArgumentException("YoloDetectionDataset: give at least one class name.", nameof(classes));
        AnnotationChecks.CheckDirectory(imagesDirectory, "images");
        AnnotationChecks.CheckDirectory(labelsDirectory, "labels");
        var images = Directory.EnumerateFiles(imagesDirectory).Where(file => ImageFiles.Extensions.Contains(Path.GetExtension(file)))
            .Order(StringComparer.Ordinal).ToArray();
        var stems = images.Select(Path.GetFileNameWithoutExtension).ToHashSet(StringComparer.Ordinal);
        // A label file must have its picture, or its boxes would be lost without a word; the names file may sit beside them.
        foreach (string label in Directory.EnumerateFiles(labelsDirectory, "*.txt").Order(StringComparer.Ordinal))
            if (!stems.Contains(Path.GetFileNameWithoutExtension(label)) && Path.GetFileName(label) != "classes.txt"
                && (classesFile is null || Path.GetFullPath(label) != Path.GetFullPath(classesFile)))
                throw new FileNotFoundException($"YOLO labels '{label}': there is no picture '{Path.GetFileNameWithoutExtension(label)}.*' " +
                    $"({string.Join("/", ImageFiles.Extensions)}) in '{imagesDirectory}'.", label);
        Pictures = images.Select(image => Read(image, Path.Combine(labelsDirectory, Path.GetFileNameWithoutExtension(image) + ".txt"), classes.Count)).ToArray();
        ClassNames = classes.ToArray();
    }

    static string[] ReadClasses(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"the YOLO class names file '{path}' does not exist.", path);
        return File.ReadLines(path).Select(line => line.Trim()).Where(line => line.Length > 0).ToArray();
    }

    static AnnotatedPicture Read(string imagePath, string labelPath, int classCount)
    {
        string file = $"YOLO labels '{labelPath}'";
        var (height, width) = AnnotationChecks.ImageSize(imagePath, file);
        var boxes = new List<float>();
        var labels = new List<int>();
        if (File.Exists(labelPath))
        {
            int lineNumber = 0;
            foreach (string line in File.ReadLines(labelPath))
            {
                string where = $"{file}: line {++lineNumber}";
                var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length == 0) continue;
                if (fields.Length != 5)
                    throw new InvalidDataException($"{where}: expected 5 fields 'class cx cy w h', found {fields.Length} in '{line.Trim()}'.");
                if (!int.TryParse(fields[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int label))
                    throw new InvalidDataException($"{where}: the class '{fields[0]}' is not a whole number ≥ 0.");
                if (label >= classCount)
                    throw new InvalidDataException($"{where}: unknown class {label} (there are {classCount} classes, numbered from 0).");
                double cx = AnnotationChecks.Number(fields[1], "cx", where), cy = AnnotationChecks.Number(fields[2], "cy", where);
                double w = AnnotationChecks.Number(fields[3], "w", where), h = AnnotationChecks.Number(fields[4], "h", where);
                var (x1, y1, x2, y2) = AnnotationChecks.Box((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height,
                    width, height, where);
                boxes.AddRange([x1, y1, x2, y2]);
                labels.Add(label);
            }
        }
        var pixels = new BoundingBoxes(boxes.ToArray(), labels.ToArray(), BoxFormat.Xyxy, height, width);
        return new AnnotatedPicture(imagePath, pixels.ConvertTo(BoxFormat.Cxcywh, relative: true), file);
    }
}
