using System.Text.Json;
using ConvKit.Data;

namespace ConvKit.Vision.Data;

/// <summary>
/// Object detection annotated in COCO's instances JSON (<c>instances_train2017.json</c>, or what CVAT, Label Studio
/// and Roboflow export), as torchvision's CocoDetection: <c>images</c> (id, file_name, width, height),
/// <c>annotations</c> (image_id, category_id, bbox [x, y, width, height] in pixels, iscrowd) and
/// <c>categories</c> (id, name).
/// <list type="bullet">
/// <item>Classes are the category names in increasing category-id order: a box's label is its category's position
/// there (COCO's ids 1..90 with gaps become 0..79).</item>
/// <item>Samples are the images in increasing id order, those without annotations included (with no boxes).</item>
/// <item>Boxes are <see cref="BoxFormat.Xywh"/> in pixels, on the picture's declared size.</item>
/// <item>Crowd annotations (<c>iscrowd</c> 1: one box around a group of objects) are checked and then left out, as
/// torchvision's detection reference drops them for training; <see cref="CrowdCount"/> says how many.</item>
/// </list>
/// The whole file is parsed and checked when the dataset is made: malformed JSON, a missing field, a box outside its
/// picture (by more than 1 pixel; boxes within that are clipped) or of zero size, an unknown image or category id and a
/// missing picture file each throw one exception naming the file and the annotation (index and id) or image id.
/// Pictures are decoded when read.
/// </summary>
public sealed class CocoDetectionDataset : DetectionDataset
{

    /// <param name="imagesDirectory">the folder the images' <c>file_name</c>s are relative to</param>
    /// <param name="annotationJsonPath">the instances JSON</param>
    /// <param name="channels">1 (grey) or 3 (RGB)</param>
    public CocoDetectionDataset(string imagesDirectory, string annotationJsonPath, int channels = 3)
        : base(channels)
    {
        AnnotationChecks.CheckDirectory(imagesDirectory, "images");
        if (!File.Exists(annotationJsonPath))
            throw new FileNotFoundException($"the COCO annotation file '{annotationJsonPath}' does not exist.", annotationJsonPath);
        string file = $"COCO annotations '{annotationJsonPath}'";
        using var document = Parse(annotationJsonPath, file);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{file}: the top level is not a JSON object.");

        var categories = new SortedDictionary<long, string>();
        foreach (var (category, where) in Entries(root, "categories", file))
        {
            long id = Integer(category, "id", where);
            if (!categories.TryAdd(id, Text(category, "name", where)))
                throw new InvalidDataException($"{where}: category id {id} appears twice.");
        }
        var classIndex = categories.Keys.Select((id, index) => (id, index)).ToDictionary(p => p.id, p => p.index);

        var images = new SortedDictionary<long, (string Path, int Height, int Width, List<float> Boxes, List<int> Labels, string Where)>();
        foreach (var (image, where) in Entries(root, "images", file))
        {
            long id = Integer(image, "id", where);
            string entry = $"{where} (image id {id})";
            string path = AnnotationChecks.ImageFile(imagesDirectory, Text(image, "file_name", entry), entry);
            int width = AnnotationChecks.Size(Number(image, "width", entry), "width", entry);
            int height = AnnotationChecks.Size(Number(image, "height", entry), "height", entry);
            if (!images.TryAdd(id, (path, height, width, [], [], entry)))
                throw new InvalidDataException($"{entry}: image id {id} appears twice.");
        }

        foreach (var (annotation, index) in Entries(root, "annotations", file))
        {
            string where = annotation.TryGetProperty("id", out var annotationId) ? $"{index} (id {annotationId})" : index;
            long imageId = Integer(annotation, "image_id", where);
            if (!images.TryGetValue(imageId, out var picture))
                throw new InvalidDataException($"{where}: image id {imageId} is not among the images.");
            where = $"{where}, image id {imageId}";
            long categoryId = Integer(annotation, "category_id", where);
            if (!classIndex.TryGetValue(categoryId, out int label))
                throw new InvalidDataException($"{where}: category id {categoryId} is not among the categories ({string.Join(", ", categories.Keys)}).");
            var bbox = Property(annotation, "bbox", where);
            // 1e400 reads as infinity: refuse it as a number here rather than report an infinite box.
            var numbers = bbox.ValueKind == JsonValueKind.Array && bbox.GetArrayLength() == 4
                ? bbox.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double n) && double.IsFinite(n) ? n : double.NaN).ToArray() : null;
            if (numbers == null || numbers.Any(double.IsNaN))
                throw new InvalidDataException($"{where}: bbox must be 4 numbers [x, y, width, height], not {bbox.GetRawText()}.");
            var (x, y, w, h) = (numbers[0], numbers[1], numbers[2], numbers[3]);
            var (x1, y1, x2, y2) = AnnotationChecks.Box(x, y, x + w, y + h, picture.Width, picture.Height, where);
            bool crowd = annotation.TryGetProperty("iscrowd", out var iscrowd) && iscrowd.ValueKind == JsonValueKind.Number
                && !(iscrowd.TryGetDouble(out double flag) && flag == 0);
            if (crowd) { CrowdCount++; continue; }
            picture.Boxes.AddRange([x1, y1, x2 - x1, y2 - y1]);
            picture.Labels.Add(label);
        }

        Pictures = images.Values.Select(p => new AnnotatedPicture(p.Path,
            new BoundingBoxes(p.Boxes.ToArray(), p.Labels.ToArray(), BoxFormat.Xywh, p.Height, p.Width), $"{file}: {p.Where}")).ToArray();
        ClassNames = categories.Values.ToArray();
        CategoryIds = categories.Keys.ToArray();
    }

    /// <summary>The COCO category id of each class index.</summary>
    public IReadOnlyList<long> CategoryIds { get; }

    /// <summary>How many crowd annotations were left out.</summary>
    public int CrowdCount { get; }

    static JsonDocument Parse(string path, string file)
    {
        byte[] bytes = File.ReadAllBytes(path);
        // JsonDocument checks a string's UTF-8 and its escapes only when the string is read, and then throws
        // InvalidOperationException: check the bytes here, the escapes where strings are read (Text).
        if (System.Text.Unicode.Utf8.ToUtf16(bytes, new char[bytes.Length], out int valid, out _, replaceInvalidSequences: false) != System.Buffers.OperationStatus.Done)
            throw new InvalidDataException($"{file}: not valid UTF-8 at byte {valid}.");
        try
        {
            return JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file}: not valid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}.", e);
        }
    }

    /// <summary>The objects of the array <paramref name="name"/>, each with its place ("annotations[3]") for messages.</summary>
    static IEnumerable<(JsonElement Entry, string Where)> Entries(JsonElement root, string name, string file)
    {
        if (!root.TryGetProperty(name, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{file}: there is no \"{name}\" array.");
        int index = 0;
        foreach (var entry in array.EnumerateArray())
        {
            string where = $"{file}: {name}[{index++}]";
            if (entry.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{where}: not a JSON object.");
            yield return (entry, where);
        }
    }

    static JsonElement Property(JsonElement entry, string name, string where) =>
        entry.TryGetProperty(name, out var value) ? value : throw new InvalidDataException($"{where}: it has no \"{name}\".");

    static double Number(JsonElement entry, string name, string where)
    {
        var value = Property(entry, name, where);
        return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double number) && double.IsFinite(number) ? number
            : throw new InvalidDataException($"{where}: \"{name}\" must be a number, not {value.GetRawText()}.");
    }

    static long Integer(JsonElement entry, string name, string where)
    {
        var value = Property(entry, name, where);
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long integer) ? integer
            : throw new InvalidDataException($"{where}: \"{name}\" must be a whole number, not {value.GetRawText()}.");
    }

    static string Text(JsonElement entry, string name, string where)
    {
        var value = Property(entry, name, where);
        if (value.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{where}: \"{name}\" must be a string, not {value.GetRawText()}.");
        try { return value.GetString()!; }
        catch (InvalidOperationException) // an escape that is half a surrogate pair, "\udc00"
        {
            throw new InvalidDataException($"{where}: \"{name}\" is not valid Unicode: {value.GetRawText()}.");
        }
    }
}
