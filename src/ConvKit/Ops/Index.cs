using ConvKit.Autograd;
using ConvKit.Backends;

namespace ConvKit.Ops;

// Indexing: gather along an axis, select whole slices, choose element-wise between two tensors. Index tensors are
// Int32 (exact at any size, as PyTorch's long indices) or float tensors holding integers; anything else is an error
// naming the value.
public static partial class F
{
    /// <summary>
    /// Values of <paramref name="x"/> along <paramref name="dim"/> at <paramref name="index"/>, as torch.gather:
    /// y[i][j][k] = x[index[i][j][k]][j][k] for dim 0, and likewise for the other axes. The gradient adds back into
    /// the gathered positions (repeats accumulate).
    /// </summary>
    /// <param name="x">any shape of rank ≥ 1</param>
    /// <param name="index">same rank as x, no larger than x on any axis but <paramref name="dim"/>; integers in [0, x.size(dim))</param>
    /// <returns>index's shape</returns>
    public static Tensor Gather(Tensor x, int dim, Tensor index)
    {
        int d = Shapes.NormalizeDim(dim, x.Rank, "Gather");
        if (index.Rank != x.Rank || Enumerable.Range(0, x.Rank).Any(a => a != d && index.Dims[a] > x.Dims[a]))
            throw new ArgumentException(
                $"Gather: index shape {index.ShapeString} must have the rank of input shape {x.ShapeString} and be no larger outside axis {d}.");
        var backend = SameBackend(x, index, "Gather");
        // Only the part of x that the index covers outside the gathered axis takes part.
        var source = x;
        for (int a = 0; a < x.Rank; a++)
            if (a != d && index.Dims[a] < x.Dims[a]) source = Narrow(source, a, 0, index.Dims[a]);
        var (outer, extent, inner) = Split(source.Dims, d, d + 1);
        int count = index.Dims[d];
        var y = Tensor.Uninitialized(index.Dims, backend);
        int bad = backend.Gather(source.Storage, outer, extent, inner, index.OwnStorage, count, y.Storage);
        if (bad >= 0) throw BadIndex("Gather", index, bad, d, x);
        return Node.Record(y, "Gather", source, g =>
        {
            var grad = Tensor.Empty(source.Dims, backend);
            backend.GatherBackward(g.Storage, index.OwnStorage, outer, extent, inner, count, grad.Storage);
            return grad;
        });
    }

    /// <summary>
    /// The slices of <paramref name="x"/> at <paramref name="indices"/> along <paramref name="dim"/>, in that order
    /// (repeats allowed), as torch.index_select. The gradient adds each slice's gradient back to where it came from.
    /// </summary>
    /// <param name="x">any shape of rank ≥ 1</param>
    /// <param name="indices">(K) or a scalar: integers in [0, x.size(dim))</param>
    /// <returns>x's shape with K along <paramref name="dim"/></returns>
    public static Tensor IndexSelect(Tensor x, int dim, Tensor indices)
    {
        int d = Shapes.NormalizeDim(dim, x.Rank, "IndexSelect");
        if (indices.Rank > 1)
            throw new ArgumentException($"IndexSelect: indices must have shape (K), got {indices.ShapeString} (input shape {x.ShapeString}).");
        return IndexSelect("IndexSelect", x, d, CheckedIndices("IndexSelect", indices, d, x));
    }

    /// <summary>
    /// <paramref name="condition"/> ≠ 0 ? <paramref name="x"/> : <paramref name="y"/>, element-wise with NumPy
    /// broadcasting of all three, as torch.where. The gradient goes to x where the condition holds and to y elsewhere.
    /// </summary>
    /// <param name="condition">broadcastable; nonzero (NaN included) selects x</param>
    /// <returns>the broadcast shape of the three</returns>
    public static Tensor Where(Tensor condition, Tensor x, Tensor y)
    {
        // Numbers written for x or y join the condition's backend, as in Binary.
        (x, y) = (x.WithBackendOf(condition), y.WithBackendOf(condition));
        SameBackend(condition, x, "Where");
        var backend = SameBackend(x, y, "Where");
        int[] shape;
        try { shape = Shapes.Broadcast(Shapes.Broadcast(condition.Dims, x.Dims, "Where"), y.Dims, "Where"); }
        catch (ArgumentException)
        {
            throw new ArgumentException(
                $"Where: condition shape {condition.ShapeString}, x shape {x.ShapeString} and y shape {y.ShapeString} cannot be broadcast together.");
        }
        var result = Tensor.Uninitialized(shape, backend);
        backend.Where(Broadcast(condition, shape), Broadcast(x, shape), Broadcast(y, shape), result.Storage);
        return Node.Record(result, "Where", [condition, x, y], [x, y], g =>
        [
            x.RequiresGrad ? SumTo(Where(condition, g, 0f), x.Dims) : null,
            y.RequiresGrad ? SumTo(Where(condition, 0f, g), y.Dims) : null,
        ]);
    }

    /// <summary>x's storage broadcast to <paramref name="shape"/> (the storage itself when the shape already matches); records nothing.</summary>
    static Storage Broadcast(Tensor x, int[] shape)
    {
        if (x.HasShape(shape)) return x.Storage;
        var expanded = x.Backend.AllocateUninitialized(Shapes.Numel(shape));
        x.Backend.Expand(x.Storage, x.Dims, expanded, shape);
        return expanded;
    }

    /// <summary>Slices at checked <paramref name="indices"/> along axis <paramref name="d"/>; reflect and replicate padding use it too.</summary>
    static Tensor IndexSelect(string op, Tensor x, int d, int[] indices)
    {
        var backend = x.Backend;
        var (outer, extent, inner) = Split(x.Dims, d, d + 1);
        var dims = (int[])x.Dims.Clone();
        dims[d] = indices.Length;
        var y = Tensor.Uninitialized(dims, backend);
        backend.IndexSelect(x.Storage, outer, extent, inner, indices, y.Storage);
        return Node.Record(y, op, x, g =>
        {
            var grad = Tensor.Empty(x.Dims, backend);
            backend.IndexSelectBackward(g.Storage, outer, extent, inner, indices, grad.Storage);
            return grad;
        });
    }

    /// <summary>
    /// The indices as ints, each checked to lie in [0, x.size(d)). A host read, whatever the backend: the row-selecting
    /// kernels take the rows as an int[] (as padding computes them), and a bad index is named before any kernel runs.
    /// </summary>
    static int[] CheckedIndices(string op, Tensor index, int d, Tensor x)
    {
        if (index.DType == DType.Int32)
        {
            var positions = index.ToInt32Array();
            for (int i = 0; i < positions.Length; i++)
                if ((uint)positions[i] >= (uint)x.Dims[d]) throw BadIndex(op, index, i, d, x);
            return positions;
        }
        var values = index.ToArray();
        var indices = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (!(v >= 0 && v < x.Dims[d] && v == MathF.Floor(v))) throw BadIndex(op, index, i, d, x);
            indices[i] = (int)v;
        }
        return indices;
    }

    /// <summary>The error for the index at <paramref name="position"/>, its value read back exactly (an error path: one host read).</summary>
    static ArgumentException BadIndex(string op, Tensor index, int position, int d, Tensor x)
    {
        string value;
        bool whole = true;
        if (index.DType == DType.Int32) value = index.ToInt32Array()[position].ToString();
        else
        {
            float v = index.Backend.GetItem(index.Storage, position);
            (value, whole) = ($"{v}", v == MathF.Floor(v));
        }
        return new(
            $"{op}: index {value} at position {position} " +
            (whole ? $"is out of range for axis {d} of size {x.Dims[d]}" : "is not an integer") +
            $" (input shape {x.ShapeString}, index shape {index.ShapeString}).");
    }
}
