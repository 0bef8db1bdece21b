using ConvKit.Training;

namespace ConvKit.Onnx;

/// <summary>How <see cref="OnnxExporter"/> names and shapes the exported graph.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>Name of the graph's input.</summary>
    public string InputName { get; init; } = "input";

    /// <summary>Name of the graph's output.</summary>
    public string OutputName { get; init; } = "output";

    /// <summary>
    /// Axis 0 of the input and output is the symbolic dimension <see cref="BatchDimension"/>, so the file runs at
    /// any batch size; false fixes it to the traced input's batch.
    /// </summary>
    public bool DynamicBatch { get; init; } = true;

    /// <summary>The dim_param of the dynamic batch axis.</summary>
    public string BatchDimension { get; init; } = "batch";

    /// <summary>
    /// A model card (classes, preprocessing, ...) to write as the file's <c>metadata_props</c>, with the same keys and
    /// values as in a checkpoint; <see cref="OnnxModel.ReadModelCard"/> reads it back.
    /// </summary>
    public ModelCard? ModelCard { get; init; }
}
