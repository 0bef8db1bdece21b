using ConvKit.IO;
using ConvKit.Onnx.Proto;
using ConvKit.Training;
using Google.Protobuf;

namespace ConvKit.Onnx;

/// <summary>Reads ONNX models into ConvKit modules.</summary>
public static class OnnxModel
{
    /// <summary>
    /// Loads an ONNX model file as an <see cref="OnnxModule"/> (in evaluation mode). A corrupt or truncated file throws
    /// <see cref="InvalidDataException"/> naming the file and the problem; an op, opset, data type or attribute value
    /// ConvKit cannot run throws <see cref="OnnxNotSupportedException"/> naming the op type, node and opset.
    /// </summary>
    public static OnnxModule Load(string path, OnnxImportOptions? options = null)
    {
        InputFiles.Require(path, "ONNX file");
        return Load(File.ReadAllBytes(path), options, path);
    }

    /// <summary>Loads an ONNX model from its serialised bytes; <paramref name="source"/> names it in messages.</summary>
    public static OnnxModule Load(byte[] bytes, OnnxImportOptions? options = null, string source = "<bytes>") =>
        new(Parse(bytes, source), source, options ?? new OnnxImportOptions());

    /// <summary>The <c>metadata_props</c> of an ONNX file (key → value; the last wins when a key repeats).</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        InputFiles.Require(path, "ONNX file");
        return MetadataOf(Parse(File.ReadAllBytes(path), path));
    }

    /// <summary>
    /// The model card an ONNX file exported from a <c>convkit train</c> checkpoint carries in its <c>metadata_props</c>
    /// (<see cref="OnnxExportOptions.ModelCard"/>); a file without one throws <see cref="InvalidDataException"/>.
    /// </summary>
    public static ModelCard ReadModelCard(string path) => ModelCard.FromMetadata(ReadMetadata(path), path);

    internal static Dictionary<string, string> MetadataOf(ModelProto model)
    {
        var metadata = new Dictionary<string, string>();
        foreach (var entry in model.MetadataProps) metadata[entry.Key] = entry.Value;
        return metadata;
    }

    /// <summary>Parses the protobuf message, turning the parser's complaints into <see cref="InvalidDataException"/>s.</summary>
    public static ModelProto Parse(byte[] bytes, string source)
    {
        if (bytes.Length == 0) throw new InvalidDataException($"ONNX file '{source}' is empty.");
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"ONNX file '{source}' is corrupt or truncated: {e.Message}", e);
        }
        if (model.Graph == null || (model.Graph.Node.Count == 0 && model.Graph.Output.Count == 0))
            throw new InvalidDataException($"ONNX file '{source}' is not an ONNX model: it has no graph.");
        return model;
    }
}
