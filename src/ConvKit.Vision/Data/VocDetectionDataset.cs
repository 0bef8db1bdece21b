using System.Xml;
using System.Xml.Linq;
using ConvKit.Data;

namespace ConvKit.Vision.Data;

/// <summary>
/// Object detection annotated in Pascal VOC's XML, one file per picture (VOC 2007/2012, LabelImg, CVAT), as
/// torchvision's VOCDetection: <c>filename</c>, <c>size/width</c>, <c>size/height</c> and per <c>object</c> its
/// <c>name</c>, <c>difficult</c> flag and <c>bndbox</c> (xmin, ymin, xmax, ymax).
/// <list type="bullet">
/// <item>Boxes are <see cref="BoxFormat.Xyxy"/> in pixels, on the picture's declared size. VOC counts pixels from 1 and
/// includes both ends (a box from xmin 1 to xmax 3 covers the first three columns), so xmin and ymin lose 1 and xmax
/// and ymax stay: the box is then the pixels' extent, [0, 3), as detectron2 reads VOC (torchvision returns the raw
/// numbers).</item>
/// <item>Objects marked <c>difficult</c> are kept by default (detectron2 trains on them; VOC's evaluation ignores
/// them); <c>includeDifficult: false</c> leaves them out.</item>
/// <item>A label is the object name's position in the given classes (<see cref="VocClasses"/> for VOC's twenty).</item>
/// </list>
/// Every XML file is parsed and checked when the dataset is made: malformed XML, a missing element, a non-numeric
/// coordinate, an unknown class name, a box outside its picture (by more than 1 pixel; boxes within that are clipped)
/// or of zero size and a missing picture file each throw one exception naming the XML file and the object (its
/// number, from 1, and line). Pictures are decoded when read.
/// </summary>
public sealed class VocDetectionDataset : DetectionDataset
{
    /// <summary>Pascal VOC's twenty object classes, in the usual order.</summary>
    public static IReadOnlyList<string> VocClasses { get; } =
    [
        "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
        "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
    ];


    /// <summary>A VOC folder: <c>root/JPEGImages</c>, <c>root/Annotations</c>, and the ids of <paramref name="imageSet"/>
    /// ("train", "val", "trainval") from <c>root/ImageSets/Main/</c>, or every annotation file when null.</summary>
    /// <param name="classes">the class names; a label is an index into them</param>
    /// <param name="channels">1 (grey) or 3 (RGB)</param>
    public VocDetectionDataset(string root, IReadOnlyList<string> classes, string? imageSet = null, bool includeDifficult = true, int channels = 3)
        : this(Path.Combine(root, "JPEGImages"), Path.Combine(root, "Annotations"), classes,
            imageSet is null ? null : ImageSetIds(Path.Combine(root, "ImageSets", "Main", imageSet + ".txt")), includeDifficult, channels)
    {
    }

    /// <summary>Every <c>*.xml</c> of <paramref name="annotationsDirectory"/> (sorted by name), its pictures in <paramref name="imagesDirectory"/>.</summary>
    /// <param name="classes">the class names; a label is an index into them</param>
    /// <param name="channels">1 (grey) or 3 (RGB)</param>
    public VocDetectionDataset(string imagesDirectory, string annotationsDirectory, IReadOnlyList<string> classes, bool includeDifficult = true, int channels = 3)
        : this(imagesDirectory, annotationsDirectory, classes, null, includeDifficult, channels)
    {
    }

    VocDetectionDataset(string imagesDirectory, string annotationsDirectory, IReadOnlyList<string> classes, string[]? ids, bool includeDifficult, int channels)
        : base(channels)
    {
        if (classes.Count == 0) throw new ArgumentException("VocDetectionDataset: give at least one class name.", nameof(classes));
        AnnotationChecks.CheckDirectory(imagesDirectory, "images");
        AnnotationChecks.CheckDirectory(annotationsDirectory, "annotations");
        var classIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < classes.Count; i++)
            if (!classIndex.TryAdd(classes[i], i)) throw new ArgumentException($"VocDetectionDataset: class '{classes[i]}' is given twice.", nameof(classes));
        var files = ids?.Select(id => Path.Combine(annotationsDirectory, id + ".xml")).ToArray()
            ?? Directory.GetFiles(annotationsDirectory, "*.xml").Order(StringComparer.Ordinal).ToArray();
        Pictures = files.Select(file => Read(file, imagesDirectory, classIndex, includeDifficult)).ToArray();
        ClassNames = classes.ToArray();
    }

    static string[] ImageSetIds(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"the VOC image set '{path}' does not exist.", path);
        // Classification sets add a flag after the id ("2008_000008  1"); the id is the first word.
        return File.ReadLines(path).Select(line => line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            .Where(words => words.Length > 0).Select(words => words[0]).ToArray();
    }

    static AnnotatedPicture Read(string xmlPath, string imagesDirectory, Dictionary<string, int> classIndex, bool includeDifficult)
    {
        string file = $"VOC annotations '{xmlPath}'";
        if (!File.Exists(xmlPath)) throw new FileNotFoundException($"{file}: the file does not exist.", xmlPath);
        XElement root;
        try
        {
            root = XDocument.Load(xmlPath, LoadOptions.SetLineInfo).Root!;
        }
        catch (XmlException e)
        {
            throw new InvalidDataException($"{file}: not valid XML at line {e.LineNumber}, position {e.LinePosition}: {e.Message}", e);
        }
        if (root.Name.LocalName != "annotation") throw new InvalidDataException($"{file}: the root element is <{root.Name.LocalName}>, not <annotation>.");

        string imagePath = AnnotationChecks.ImageFile(imagesDirectory, Child(root, "filename", file).Value.Trim(), file);
        int width, height;
        if (root.Element("size") is { } size)
        {
            width = AnnotationChecks.Size(Coordinate(size, "width", file), "width", file);
            height = AnnotationChecks.Size(Coordinate(size, "height", file), "height", file);
        }
        else (height, width) = AnnotationChecks.ImageSize(imagePath, file);

        var boxes = new List<float>();
        var labels = new List<int>();
        int number = 0;
        foreach (var element in root.Elements("object"))
        {
            string where = $"{file}: object {++number} (line {((IXmlLineInfo)element).LineNumber})";
            string name = Child(element, "name", where).Value.Trim();
            if (!classIndex.TryGetValue(name, out int label))
                throw new InvalidDataException($"{where}: unknown class '{name}' (the classes are {string.Join(", ", classIndex.Keys)}).");
            bool difficult = element.Element("difficult") is { } flag && AnnotationChecks.Number(flag.Value.Trim(), "difficult", where) != 0;
            var bndbox = Child(element, "bndbox", where);
            // 1-based inclusive pixel indices → the pixels' extent.
            var (x1, y1, x2, y2) = AnnotationChecks.Box(Coordinate(bndbox, "xmin", where) - 1, Coordinate(bndbox, "ymin", where) - 1,
                Coordinate(bndbox, "xmax", where), Coordinate(bndbox, "ymax", where), width, height, where);
            if (difficult && !includeDifficult) continue;
            boxes.AddRange([x1, y1, x2, y2]);
            labels.Add(label);
        }
        return new AnnotatedPicture(imagePath, new BoundingBoxes(boxes.ToArray(), labels.ToArray(), BoxFormat.Xyxy, height, width), file);
    }

    static XElement Child(XElement parent, string name, string where) =>
        parent.Element(name) ?? throw new InvalidDataException($"{where}: <{parent.Name.LocalName}> has no <{name}>.");

    static double Coordinate(XElement parent, string name, string where) =>
        AnnotationChecks.Number(Child(parent, name, where).Value.Trim(), $"<{name}>", where);
}
