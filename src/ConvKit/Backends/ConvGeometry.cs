namespace ConvKit.Backends;

/// <summary>
/// Everything a convolution kernel needs to know about one 2-D convolution, resolved and validated by the op:
/// input (Batch, InChannels, InHeight, InWidth), weight (OutChannels, InChannels/Groups, KernelHeight, KernelWidth),
/// output (Batch, OutChannels, OutHeight, OutWidth). Output position (oh, ow) reads input rows
/// oh·StrideHeight − PadTop + i·DilationHeight (columns likewise); positions outside the input read zero, so
/// bottom/right padding is implied by the output size. The output size is given, not recomputed, because a
/// transposed convolution may ask for fewer positions than the usual formula yields (output padding).
/// </summary>
public readonly record struct ConvGeometry(
    int Batch, int InChannels, int InHeight, int InWidth,
    int OutChannels, int OutHeight, int OutWidth,
    int KernelHeight, int KernelWidth,
    int StrideHeight, int StrideWidth,
    int PadTop, int PadLeft,
    int DilationHeight, int DilationWidth,
    int Groups)
{
    /// <summary>Input channels each group reads.</summary>
    public int InChannelsPerGroup => InChannels / Groups;
    /// <summary>Output channels each group writes.</summary>
    public int OutChannelsPerGroup => OutChannels / Groups;
    /// <summary>Values in one input channel, InHeight·InWidth.</summary>
    public int InPlane => InHeight * InWidth;
    /// <summary>Output positions per channel (the GEMM's n).</summary>
    public int OutPlane => OutHeight * OutWidth;
    /// <summary>Taps of one kernel channel, KernelHeight·KernelWidth.</summary>
    public int KernelArea => KernelHeight * KernelWidth;
    /// <summary>Rows of the im2col matrix: one per (input channel of a group, kernel row, kernel column) — the GEMM's k.</summary>
    public int ColumnRows => InChannelsPerGroup * KernelArea;

    /// <summary>A 1×1 kernel with stride 1 and no padding: the output is the weight times the input plane, no im2col needed.</summary>
    public bool IsPointwise => KernelHeight == 1 && KernelWidth == 1 && StrideHeight == 1 && StrideWidth == 1
        && PadTop == 0 && PadLeft == 0 && OutHeight == InHeight && OutWidth == InWidth;

    /// <summary>
    /// A grouped convolution with one filter (or several: a channel multiplier) per input channel. A convolution of
    /// a single input channel is not one: im2col + GEMM ran LeNet-5's first layer (1 → 6 channels, 5×5) in 0.5 ms
    /// where the direct depthwise loops took 1.9.
    /// </summary>
    public bool IsDepthwise => Groups == InChannels && Groups > 1;

    /// <summary>Multiply-adds of the forward pass (each backward pass costs the same).</summary>
    public long MultiplyAdds => (long)Batch * OutChannels * OutPlane * ColumnRows;
}
