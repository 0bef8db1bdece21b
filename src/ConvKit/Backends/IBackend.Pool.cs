namespace ConvKit.Backends;

/// <summary>
/// Where the windows of a 2-D pooling lie: <see cref="Planes"/> = N·C independent (H, W) planes, each
/// pooled with the given kernel, stride, padding and dilation into (OutputHeight, OutputWidth).
/// Window (oh, ow) starts at row oh·stride − padding, column ow·stride − padding, and covers
/// kernel positions spaced by dilation; positions outside the input are padding.
/// </summary>
public readonly record struct Pool2dGeometry(
    int Planes, int InputHeight, int InputWidth, int OutputHeight, int OutputWidth,
    Size2 Kernel, Size2 Stride, Size2 Padding, Size2 Dilation)
{
    /// <summary>Values in one input plane, InputHeight·InputWidth.</summary>
    public int InputPlaneSize => InputHeight * InputWidth;
    /// <summary>Values in one output plane, OutputHeight·OutputWidth.</summary>
    public int OutputPlaneSize => OutputHeight * OutputWidth;
}

// 2-D pooling kernels. Inputs are dense (Planes, InputHeight, InputWidth); outputs (Planes, OutputHeight, OutputWidth).
public partial interface IBackend
{
    /// <summary>
    /// y = the largest value of each window (padding counts as −∞; NaN wins, as in PyTorch), and
    /// <paramref name="argmax"/> = its position within the input plane (h·W + w), an int32 buffer (<see cref="AllocateIndices"/>).
    /// </summary>
    void MaxPool2d(Storage x, Pool2dGeometry geometry, Storage y, Storage argmax);

    /// <summary>y = the largest value of each window, as <see cref="MaxPool2d"/> but without the argmax (inference).</summary>
    void MaxPool2dValues(Storage x, Pool2dGeometry geometry, Storage y);

    /// <summary>gradX (zero-filled by the caller) += gradY routed to each window's argmax position.</summary>
    void MaxPool2dBackward(Storage gradY, Storage argmax, Pool2dGeometry geometry, Storage gradX);

    /// <summary>
    /// y = window sum / divisor. The divisor is <paramref name="divisorOverride"/> when non-zero, else the window's
    /// size clipped to the padded input (countIncludePad) or to the input itself. Dilation must be 1.
    /// </summary>
    void AvgPool2d(Storage x, Pool2dGeometry geometry, bool countIncludePad, int divisorOverride, Storage y);

    /// <summary>gradX (zero-filled by the caller) += gradY / divisor spread over each window.</summary>
    void AvgPool2dBackward(Storage gradY, Pool2dGeometry geometry, bool countIncludePad, int divisorOverride, Storage gradX);

    /// <summary>
    /// Adaptive average pooling: output cell (i, j) averages input rows ⌊i·H/OH⌋ … ⌈(i+1)·H/OH⌉−1 and the
    /// columns likewise. Only Planes and the four sizes of <paramref name="geometry"/> are read.
    /// </summary>
    void AdaptiveAvgPool2d(Storage x, Pool2dGeometry geometry, Storage y);

    /// <summary>gradX (zero-filled by the caller) += each cell's gradient shared evenly over its window.</summary>
    void AdaptiveAvgPool2dBackward(Storage gradY, Pool2dGeometry geometry, Storage gradX);
}
