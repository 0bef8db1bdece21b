namespace ConvKit.Backends;

// Index kernels. A tensor is read as (outer, extent, inner) around the indexed axis; an index buffer is int32
// (DType.Int32, exact at any size) or float values holding integers.
public partial interface IBackend
{
    /// <summary>
    /// y[o, c, i] = x[o, index[o, c, i], i] for x (outer, extent, inner) and index, y (outer, count, inner)
    /// (torch.gather). Returns −1, or the first position of index that is not an integer in [0, extent), in which
    /// case y is unspecified.
    /// </summary>
    int Gather(Storage x, int outer, int extent, int inner, Storage index, int count, Storage y);

    /// <summary>gradX (zero-filled by the caller) [o, index[o, c, i], i] += gradY[o, c, i]; the indices were checked by <see cref="Gather"/>.</summary>
    void GatherBackward(Storage gradY, Storage index, int outer, int extent, int inner, int count, Storage gradX);

    /// <summary>y[o, c, :] = x[o, indices[c], :]: whole rows of <paramref name="inner"/> values; every index lies in [0, extent).</summary>
    void IndexSelect(Storage x, int outer, int extent, int inner, int[] indices, Storage y);

    /// <summary>gradX (zero-filled by the caller) [o, indices[c], :] += gradY[o, c, :]; repeated indices accumulate.</summary>
    void IndexSelectBackward(Storage gradY, int outer, int extent, int inner, int[] indices, Storage gradX);

    /// <summary>y = condition ≠ 0 ? a : b, element-wise over buffers of one length (NaN counts as true, as any non-zero).</summary>
    void Where(Storage condition, Storage a, Storage b, Storage y);

    /// <summary>
    /// Sorts each line along the middle axis of x (outer, extent, inner) into values, with indices[o, r, i] = the
    /// position the value came from (an int32 buffer). Stable: equal values keep their order. NaN sorts above everything,
    /// as in torch.sort: last when ascending, first when descending.
    /// </summary>
    void Sort(Storage x, int outer, int extent, int inner, bool descending, Storage values, Storage indices);
}
