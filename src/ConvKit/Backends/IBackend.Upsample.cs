namespace ConvKit.Backends;

/// <summary>
/// Resizing of <see cref="Planes"/> = N·C planes from (InputHeight, InputWidth) to (OutputHeight, OutputWidth).
/// ScaleHeight/ScaleWidth are input pixels per output pixel as PyTorch computes them: (in − 1)/(out − 1) with
/// aligned corners, else 1/scaleFactor when a scale factor was given, else in/out.
/// </summary>
public readonly record struct UpsampleGeometry(
    int Planes, int InputHeight, int InputWidth, int OutputHeight, int OutputWidth,
    float ScaleHeight, float ScaleWidth, bool AlignCorners)
{
    /// <summary>Values in one input plane, InputHeight·InputWidth.</summary>
    public int InputPlaneSize => InputHeight * InputWidth;
    /// <summary>Values in one output plane, OutputHeight·OutputWidth.</summary>
    public int OutputPlaneSize => OutputHeight * OutputWidth;
}

public partial interface IBackend
{
    /// <summary>
    /// Nearest-neighbour resize: output index i reads input index min(⌊i·scale⌋, in − 1), computed in float32
    /// (index i itself when in = out, i/2 when out = 2·in), as torch's 'nearest' mode.
    /// </summary>
    void UpsampleNearest(Storage x, UpsampleGeometry geometry, Storage y);

    /// <summary>gradX (zero-filled by the caller) += each output's gradient at the input it copied.</summary>
    void UpsampleNearestBackward(Storage gradY, UpsampleGeometry geometry, Storage gradX);

    /// <summary>
    /// Bilinear resize: output index i samples input coordinate scale·i (aligned corners) or
    /// max(scale·(i + ½) − ½, 0), blending the two nearest inputs on each axis.
    /// </summary>
    void UpsampleBilinear(Storage x, UpsampleGeometry geometry, Storage y);

    /// <summary>gradX (zero-filled by the caller) += each output's gradient spread over its four inputs by the same weights.</summary>
    void UpsampleBilinearBackward(Storage gradY, UpsampleGeometry geometry, Storage gradX);
}
