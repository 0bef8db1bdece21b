namespace ConvKit.Onnx;

/// <summary>How <see cref="OnnxModel.Load(string, OnnxImportOptions?)"/> turns a graph into a module.</summary>
public sealed record OnnxImportOptions
{
    /// <summary>
    /// Folds each BatchNormalization that directly follows a Conv (whose output nothing else reads) into that
    /// convolution's weight and bias: W' = W·γ/√(σ²+ε), b' = (b − μ)·γ/√(σ²+ε) + β. Inference gives the same outputs
    /// with one op fewer per block. The folded weight and bias keep the convolution's initialiser names (the bias
    /// takes the batch norm's B name when the convolution had none); the batch norm's initialisers disappear.
    /// </summary>
    public bool FoldBatchNorm { get; init; }

    /// <summary>
    /// Accepts pictures (rank-4 inputs) of any height and width, whatever size the graph declares: its convolutions
    /// and pools compute on any size, and a feature read before the last fixed-size layer (as style transfer reads
    /// the packaged ResNet-18) is valid. Batch and channel counts are still checked.
    /// </summary>
    public bool AnyPictureSize { get; init; }
}
