using ILGPU;
using ILGPU.Runtime;

namespace ConvKit.Backends.Gpu;

// Index kernels: gather and its scatter-add, row selection, element-wise select and a stable sort. A tensor is read
// as (outer, extent, inner) around the indexed axis. An index buffer is int32 or float values holding integers: the
// kernels take both views and a flag saying which one holds the values (the other is empty).
public sealed partial class GpuBackend
{
    Action<AcceleratorStream, Index1D, Work, int, int, ArrayView<int>, ArrayView<float>, ArrayView<int>>? checkIndices;
    Action<AcceleratorStream, Index1D, Work, int, int, int, int, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>>? gather;
    Action<AcceleratorStream, Index1D, Work, int, int, int, int, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>>? gatherBackward;
    Action<AcceleratorStream, Index1D, Work, int, int, int, ArrayView<int>, ArrayView<float>, ArrayView<float>>? indexSelect;
    Action<AcceleratorStream, Index1D, Work, int, int, int, ArrayView<int>, ArrayView<float>, ArrayView<float>>? indexSelectBackward;
    Action<AcceleratorStream, Index1D, Work, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>? where;
    Action<AcceleratorStream, Index1D, Work, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<int>>? sort;

    /// <inheritdoc/>
    public override int Gather(Storage x, int outer, int extent, int inner, Storage index, int count, Storage y)
    {
        var (isInt, ints, floats) = IndexViews(index);
        // Bad positions are found on the device: each one raises the flag to n − p, so the flag ends at n − (the first
        // bad p), or 0 when every index is good. The gather reads the flag and writes nothing when it is raised, so
        // the host waits only once, for that one int.
        var flag = AllocateIndices(1);
        var (threads, work) = For(index.Length);
        Load(ref checkIndices, a => a.LoadAutoGroupedKernel<Index1D, Work, int, int, ArrayView<int>, ArrayView<float>, ArrayView<int>>(CheckIndicesKernel))(
            Stream, threads, work, extent, isInt, ints, floats, Indices(flag));
        (threads, work) = For(y.Length);
        Load(ref gather, a => a.LoadAutoGroupedKernel<Index1D, Work, int, int, int, int, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>>(GatherKernel))(
            Stream, threads, work, extent, count, inner, isInt, ints, floats, Data(x), Data(y), Indices(flag));
        return FirstBad(flag, index.Length);
    }

    static void CheckIndicesKernel(Index1D t, Work w, int extent, int isInt, ArrayView<int> ints, ArrayView<float> floats, ArrayView<int> flag)
    {
        for (int p = t; p < w.Count; p += w.Stride)
            if (IndexAt(isInt, ints, floats, p, extent) < 0) Atomic.Max(ref flag[0], w.Count - p);
    }

    static void GatherKernel(Index1D t, Work w, int extent, int count, int inner, int isInt, ArrayView<int> ints, ArrayView<float> floats,
        ArrayView<float> x, ArrayView<float> y, ArrayView<int> flag)
    {
        if (flag[0] != 0) return;
        for (int j = t; j < w.Count; j += w.Stride)
        {
            int o = j / (count * inner), i = j % inner;
            y[j] = x[(o * extent + IndexAt(isInt, ints, floats, j, extent)) * inner + i];
        }
    }

    /// <inheritdoc/>
    public override void GatherBackward(Storage gradY, Storage index, int outer, int extent, int inner, int count, Storage gradX)
    {
        var (isInt, ints, floats) = IndexViews(index);
        var (threads, work) = For(gradY.Length);
        Load(ref gatherBackward, a => a.LoadAutoGroupedKernel<Index1D, Work, int, int, int, int, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GatherBackwardKernel))(
            Stream, threads, work, extent, count, inner, isInt, ints, floats, Data(gradY), Data(gradX));
    }

    static void GatherBackwardKernel(Index1D t, Work w, int extent, int count, int inner, int isInt, ArrayView<int> ints, ArrayView<float> floats,
        ArrayView<float> gradY, ArrayView<float> gradX)
    {
        // gradX is zero-filled by the caller and accumulates: one index may repeat, so the adds are atomic.
        for (int j = t; j < w.Count; j += w.Stride)
        {
            int o = j / (count * inner), i = j % inner, r = IndexAt(isInt, ints, floats, j, extent);
            if (r >= 0) Atomic.Add(ref gradX[(o * extent + r) * inner + i], gradY[j]);
        }
    }

    /// <summary>Which view of an index buffer holds its values: (1, int32 values, empty) or (0, empty, float values).</summary>
    (int IsInt, ArrayView<int> Ints, ArrayView<float> Floats) IndexViews(Storage index) => index.DType == DType.Int32
        ? (1, Indices(index), ArrayView<float>.Empty) : (0, ArrayView<int>.Empty, Data(index));

    /// <summary>Index <paramref name="p"/> of an index buffer, or −1 where it is not an integer in [0, extent) (NaN included).</summary>
    static int IndexAt(int isInt, ArrayView<int> ints, ArrayView<float> floats, int p, int extent)
    {
        if (isInt != 0)
        {
            int v = ints[p];
            return v >= 0 && v < extent ? v : -1;
        }
        double f = floats[p];
        // In range first, so the conversion to int is exact exactly when f is whole.
        return f >= 0 && f < extent && f == (int)f ? (int)f : -1;
    }

    /// <summary>
    /// Reads the flag of <see cref="CheckIndicesKernel"/> (the one value these ops read back) and releases it: −1, or
    /// the first bad position of <paramref name="length"/>.
    /// </summary>
    int FirstBad(Storage flag, int length)
    {
        Span<int> value = stackalloc int[1];
        CopyIndicesTo(flag, value);
        Release(flag);
        return value[0] == 0 ? -1 : length - value[0];
    }

    /// <inheritdoc/>
    public override void IndexSelect(Storage x, int outer, int extent, int inner, int[] indices, Storage y)
    {
        if (y.Length == 0) return;
        var rows = FromIndices(indices);
        var (threads, work) = For(y.Length);
        Load(ref indexSelect, a => a.LoadAutoGroupedKernel<Index1D, Work, int, int, int, ArrayView<int>, ArrayView<float>, ArrayView<float>>(IndexSelectKernel))(
            Stream, threads, work, extent, indices.Length, inner, Indices(rows), Data(x), Data(y));
        Release(rows);
    }

    static void IndexSelectKernel(Index1D t, Work w, int extent, int count, int inner, ArrayView<int> rows, ArrayView<float> x, ArrayView<float> y)
    {
        for (int j = t; j < w.Count; j += w.Stride)
        {
            int i = j % inner, c = j / inner % count, o = j / (count * inner);
            y[j] = x[(o * extent + rows[c]) * inner + i];
        }
    }

    /// <inheritdoc/>
    public override void IndexSelectBackward(Storage gradY, int outer, int extent, int inner, int[] indices, Storage gradX)
    {
        if (gradY.Length == 0) return;
        var rows = FromIndices(indices);
        var (threads, work) = For(gradY.Length);
        Load(ref indexSelectBackward, a => a.LoadAutoGroupedKernel<Index1D, Work, int, int, int, ArrayView<int>, ArrayView<float>, ArrayView<float>>(IndexSelectBackwardKernel))(
            Stream, threads, work, extent, indices.Length, inner, Indices(rows), Data(gradY), Data(gradX));
        Release(rows);
    }

    static void IndexSelectBackwardKernel(Index1D t, Work w, int extent, int count, int inner, ArrayView<int> rows, ArrayView<float> gradY, ArrayView<float> gradX)
    {
        // gradX is zero-filled by the caller; repeated rows accumulate, so the adds are atomic.
        for (int j = t; j < w.Count; j += w.Stride)
        {
            int i = j % inner, c = j / inner % count, o = j / (count * inner);
            Atomic.Add(ref gradX[(o * extent + rows[c]) * inner + i], gradY[j]);
        }
    }

    /// <inheritdoc/>
    public override void Where(Storage condition, Storage a, Storage b, Storage y)
    {
        var (threads, work) = For(y.Length);
        Load(ref where, acc => acc.LoadAutoGroupedKernel<Index1D, Work, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(WhereKernel))(
            Stream, threads, work, Data(condition), Data(a), Data(b), Data(y));
    }

    static void WhereKernel(Index1D t, Work w, ArrayView<float> condition, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y)
    {
        // NaN ≠ 0, so NaN selects a.
        for (int k = t; k < w.Count; k += w.Stride) y[k] = condition[k] != 0 ? a[k] : b[k];
    }

    /// <inheritdoc/>
    public override void Sort(Storage x, int outer, int extent, int inner, bool descending, Storage values, Storage indices)
    {
        var (threads, work) = For(x.Length);
        Load(ref sort, a => a.LoadAutoGroupedKernel<Index1D, Work, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<int>>(SortKernel))(
            Stream, threads, work, extent, inner, descending ? 1 : 0, Data(x), Data(values), Indices(indices));
    }

    /// <summary>
    /// Rank by counting: each element's place in its line is the number of elements that sort before it, those that
    /// compare equal counting only from earlier positions (which makes the order stable). Each thread writes the one
    /// place its element lands on, so no two threads write one place; the work is extent² per line.
    /// </summary>
    static void SortKernel(Index1D t, Work w, int extent, int inner, int descending, ArrayView<float> x, ArrayView<float> values, ArrayView<int> indices)
    {
        for (int j = t; j < w.Count; j += w.Stride)
        {
            int i = j % inner, r = j / inner % extent, start = j / (extent * inner) * extent * inner + i;
            float v = x[j];
            int rank = 0;
            for (int k = 0; k < extent; k++)
            {
                float u = x[start + k * inner];
                if (ComesBefore(u, v, descending) || (k < r && !ComesBefore(v, u, descending))) rank++;
            }
            values[start + rank * inner] = v;
            indices[start + rank * inner] = r;
        }
    }

    /// <summary>Whether <paramref name="a"/> sorts strictly before <paramref name="b"/>; NaN is above every number, as in torch.sort.</summary>
    static bool ComesBefore(float a, float b, int descending)
    {
        bool aAbove = float.IsNaN(a) ? !float.IsNaN(b) : !float.IsNaN(b) && a > b;
        bool bAbove = float.IsNaN(b) ? !float.IsNaN(a) : !float.IsNaN(a) && b > a;
        return descending != 0 ? aAbove : bAbove;
    }
}
