using ConvKit.Autograd;
using ConvKit.Backends;

namespace ConvKit.Ops;

// Sorting along an axis: sort, argsort and the k largest or smallest. Indices come back as Int32 tensors (exact at
// any size), ready for Gather and IndexSelect.
public static partial class F
{
    /// <summary>
    /// Sorts along <paramref name="dim"/>, as torch.sort(stable=True): equal values keep their order, NaN sorts
    /// above every number. The values' gradient goes back to the position each value came from.
    /// </summary>
    /// <param name="x">any shape of rank ≥ 1</param>
    /// <returns>(values, indices), both x's shape; indices[..., r, ...] is where values[..., r, ...] was</returns>
    public static (Tensor Values, Tensor Indices) Sort(Tensor x, int dim = -1, bool descending = false)
    {
        int d = Shapes.NormalizeDim(dim, x.Rank, "Sort");
        var backend = x.Backend;
        var (outer, extent, inner) = Split(x.Dims, d, d + 1);
        var values = Tensor.Uninitialized(x.Dims, backend);
        var indices = Tensor.Indices(x.Dims, backend);
        backend.Sort(x.Storage, outer, extent, inner, descending, values.Storage, indices.OwnStorage);
        Node.Record(values, "Sort", x, g =>
        {
            var grad = Tensor.Empty(x.Dims, backend);
            backend.GatherBackward(g.Storage, indices.OwnStorage, outer, extent, inner, extent, grad.Storage);
            return grad;
        }, ("dim", d), ("descending", descending));
        // The indices are traced too (not differentiable), so an exporter cannot mistake them for a constant.
        Node.Record(indices, "SortIndices", x, null, ("dim", d), ("descending", descending));
        return (values, indices);
    }

    /// <summary>The indices that sort <paramref name="x"/> along <paramref name="dim"/> (stable; see <see cref="Sort"/>). Not differentiable.</summary>
    /// <returns>x's shape</returns>
    public static Tensor ArgSort(Tensor x, int dim = -1, bool descending = false)
    {
        using var _ = Tensor.NoGrad();
        return Sort(x, dim, descending).Indices;
    }

    /// <summary>
    /// The <paramref name="k"/> largest (or smallest) values along <paramref name="dim"/> and their positions, as
    /// torch.topk. ConvKit always returns them sorted (largest first, or smallest first when not
    /// <paramref name="largest"/>), and ties in the stable order of <see cref="Sort"/> — lower position first —
    /// where torch leaves the order of ties unspecified. <paramref name="sorted"/> is accepted for PyTorch parity.
    /// </summary>
    /// <param name="x">any shape of rank ≥ 1</param>
    /// <param name="k">0 ≤ k ≤ x.size(dim)</param>
    /// <returns>(values, indices), x's shape with k along <paramref name="dim"/></returns>
    public static (Tensor Values, Tensor Indices) TopK(Tensor x, int k, int dim = -1, bool largest = true, bool sorted = true)
    {
        int d = Shapes.NormalizeDim(dim, x.Rank, "TopK");
        if (k < 0 || k > x.Dims[d])
            throw new ArgumentOutOfRangeException(nameof(k), $"TopK: k = {k} is outside [0, {x.Dims[d]}] for axis {d} of input shape {x.ShapeString}.");
        var (values, indices) = Sort(x, d, descending: largest);
        return k == x.Dims[d] ? (values, indices) : (Narrow(values, d, 0, k), Narrow(indices, d, 0, k));
    }
}
