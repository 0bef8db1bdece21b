namespace ConvKit.Backends;

/// <summary>
/// Pooling of <see cref="Boxes"/> regions of interest out of an (N, Channels, Height, Width) feature map into
/// (Boxes, Channels, OutputHeight, OutputWidth). Box coordinates are in input-image pixels and are multiplied by
/// <see cref="SpatialScale"/> to reach feature-map cells. <see cref="SamplingRatio"/> (samples per bin and axis,
/// ≤ 0 for ⌈roi size / output size⌉) and <see cref="Aligned"/> (shift by half a cell) apply to RoIAlign only.
/// </summary>
public readonly record struct RoiGeometry(
    int Channels, int Height, int Width, int Boxes, int OutputHeight, int OutputWidth,
    float SpatialScale, int SamplingRatio, bool Aligned)
{
    /// <summary>Cells in one channel of the input feature map.</summary>
    public int InputPlaneSize => Height * Width;
    /// <summary>Cells in one channel of one pooled region.</summary>
    public int OutputPlaneSize => OutputHeight * OutputWidth;
}

// Region-of-interest pooling, torchvision's roi_pool and roi_align CPU kernels value for value. The boxes are a
// dense (Boxes, 5) buffer of [batch index, x1, y1, x2, y2] rows that the caller has checked: whole batch indices
// within the input, finite coordinates.
public partial interface IBackend
{
    /// <summary>
    /// y = the largest value of each bin (0 for a bin that lies outside the map), and <paramref name="argmax"/> = its
    /// position within the input plane (h·W + w, −1 for an empty bin), an int32 buffer (<see cref="AllocateIndices"/>). Box edges are
    /// rounded to whole cells; a box is at least 1×1 cell; bin i of an axis covers cells ⌊i·s⌋ … ⌈(i + 1)·s⌉ − 1
    /// from the box's first, s = box size / output size, clipped to the map.
    /// </summary>
    void RoiPool(Storage x, Storage boxes, RoiGeometry geometry, Storage y, Storage argmax);

    /// <summary>gradX (zero-filled by the caller) += each bin's gradient at its argmax.</summary>
    void RoiPoolBackward(Storage gradY, Storage boxes, Storage argmax, RoiGeometry geometry, Storage gradX);

    /// <summary>
    /// y = the mean of each bin's grid of bilinear samples: samples more than one cell outside the map count as
    /// zero, others are clamped onto it. Unless aligned, a box is at least 1×1 cell.
    /// </summary>
    void RoiAlign(Storage x, Storage boxes, RoiGeometry geometry, Storage y);

    /// <summary>gradX (zero-filled by the caller) += each bin's gradient spread over its samples' four cells by the same weights.</summary>
    void RoiAlignBackward(Storage gradY, Storage boxes, RoiGeometry geometry, Storage gradX);
}
