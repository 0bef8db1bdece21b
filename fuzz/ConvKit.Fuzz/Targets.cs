using ConvKit.Data;
using ConvKit.IO;
using ConvKit.Onnx;
using ConvKit.Training;
using ConvKit.Vision.Data;
using ConvKit.Vision.Imaging;

namespace ConvKit.Fuzz;

/// <summary>
/// One parser under test: what it does with the fuzzer's bytes, and the exception types its documentation says a bad
/// file may raise. Any other exception (an IndexOutOfRangeException, a NullReferenceException, an OutOfMemoryException
/// from a size read in a header, ...) is a crash.
/// </summary>
sealed record Target(string Name, string Description, Action<byte[], Workspace> Run, params Type[] Allowed)
{
    /// <summary>Exactly the documented types: a subclass is not the documented contract.</summary>
    public bool Allows(Exception e) => Allowed.Contains(e.GetType());
}

static class Targets
{
    public static readonly IReadOnlyList<Target> All =
    [
        new("idx", "Idx.Read: IDX files, plain or gzip (Fashion-MNIST)",
            (bytes, w) => Idx.Read(w.Write("input.idx", bytes)),
            typeof(InvalidDataException)),

        new("safetensors", "Safetensors.ReadMetadata and Safetensors.Load",
            (bytes, w) =>
            {
                string path = w.Write("input.safetensors", bytes);
                Safetensors.ReadMetadata(path);
                Safetensors.Load(path);
            },
            typeof(InvalidDataException)),

        new("checkpoint", "Checkpoint.Load and the model card it carries (ModelCard.FromCheckpoint)",
            (bytes, w) =>
            {
                string path = w.Write("input.safetensors", bytes);
                var checkpoint = Checkpoint.Load(path);
                if (ModelCard.IsIn(checkpoint.Metadata)) ModelCard.FromCheckpoint(checkpoint, path);
            },
            typeof(InvalidDataException)),

        new("onnx", "OnnxModel.Load: the protobuf message, the initialisers and the importer's graph checks and plan",
            (bytes, _) => OnnxModel.Load(bytes, source: "input.onnx"),
            typeof(InvalidDataException), typeof(OnnxNotSupportedException)),

        new("image", "ImageFiles.Load: PNG, JPEG, BMP, GIF, WebP through SkiaSharp, to grey and RGB tensors",
            (bytes, w) =>
            {
                string path = w.Write("input.img", bytes);
                ImageFiles.Load(path, channels: 3);
            },
            typeof(InvalidDataException)),

        new("coco", "CocoDetectionDataset: a COCO instances JSON (the picture images/a.png exists)",
            (bytes, w) => _ = new CocoDetectionDataset(w.Images, w.Write("instances.json", bytes)),
            typeof(InvalidDataException), typeof(FileNotFoundException)),

        new("voc", "VocDetectionDataset: one Pascal VOC XML file (the picture images/a.png exists)",
            (bytes, w) =>
            {
                string annotations = w.Folder("voc");
                File.WriteAllBytes(Path.Combine(annotations, "a.xml"), bytes);
                _ = new VocDetectionDataset(w.Images, annotations, VocDetectionDataset.VocClasses);
            },
            typeof(InvalidDataException), typeof(FileNotFoundException)),

        new("yolo", "YoloDetectionDataset: the label file of images/a.png (16×12), three classes",
            (bytes, w) =>
            {
                string labels = w.Folder("yolo");
                File.WriteAllBytes(Path.Combine(labels, "a.txt"), bytes);
                _ = new YoloDetectionDataset(w.Images, labels, ["cat", "dog", "bird"]);
            },
            typeof(InvalidDataException)),
    ];
}
