using ConvKit.Autograd;
using ConvKit.Backends;

namespace ConvKit.Ops;

// Reductions over any set of axes (null = all), with keepDim as in PyTorch.
public static partial class F
{
    /// <summary>Sum over <paramref name="dims"/> (all axes when null).</summary>
    public static Tensor Sum(Tensor x, int[]? dims = null, bool keepDim = false)
    {
        var axes = Shapes.NormalizeDims(dims, x.Rank, "Sum");
        var y = ReduceKeepDim(ReduceOp.Sum, "Sum", x, axes);
        // Every input element contributed once: the gradient is the output's, broadcast back.
        Node.Record(y, "Sum", x, g => Expand(g, x.Dims), ("dims", axes));
        return keepDim ? y : DropAxes(y, axes);
    }

    /// <summary>The mean over <paramref name="dims"/> (all dimensions when null), kept as size 1 when <paramref name="keepDim"/>.</summary>
    public static Tensor Mean(Tensor x, int[]? dims = null, bool keepDim = false)
    {
        var axes = Shapes.NormalizeDims(dims, x.Rank, "Mean");
        return Sum(x, axes, keepDim) / Count(x, axes);
    }

    /// <summary>
    /// Largest value over <paramref name="dims"/>. The gradient is shared equally among tied maxima
    /// (PyTorch's amax rule).
    /// </summary>
    public static Tensor Max(Tensor x, int[]? dims = null, bool keepDim = false) => Extreme(ReduceOp.Max, "Max", x, dims, keepDim);

    /// <summary>The minimum over <paramref name="dims"/> (all dimensions when null), kept as size 1 when <paramref name="keepDim"/>; ties share the gradient.</summary>
    public static Tensor Min(Tensor x, int[]? dims = null, bool keepDim = false) => Extreme(ReduceOp.Min, "Min", x, dims, keepDim);

    static Tensor Extreme(ReduceOp op, string name, Tensor x, int[]? dims, bool keepDim)
    {
        var axes = Shapes.NormalizeDims(dims, x.Rank, name);
        var y = ReduceKeepDim(op, name, x, axes);
        Node.Record(y, name, x, g =>
        {
            var winners = Eq(x, y);
            return winners * g / Sum(winners, axes, keepDim: true);
        }, ("dims", axes));
        return keepDim ? y : DropAxes(y, axes);
    }

    /// <summary>
    /// Index of the first maximum along <paramref name="dim"/> (of the flattened tensor when null), an
    /// <see cref="Backends.DType.Int32"/> tensor (exact at any size; float ops read it as float32). Not differentiable.
    /// </summary>
    public static Tensor ArgMax(Tensor x, int? dim = null, bool keepDim = false)
    {
        if (dim == null)
        {
            var flat = ArgMax(x.Reshape(x.Numel), 0);
            return keepDim ? flat.Reshape(Enumerable.Repeat(1, x.Rank).ToArray()) : flat;
        }
        int axis = Shapes.NormalizeDim(dim.Value, x.Rank, "ArgMax");
        if (x.Dims[axis] == 0) throw new ArgumentException($"ArgMax: cannot take the maximum over empty axis {axis} of shape {x.ShapeString}.");
        var (outer, extent, inner) = Split(x.Dims, axis, axis + 1);
        var y = Tensor.Indices(WithOnes(x.Dims, axis, axis + 1), x.Backend);
        x.Backend.ArgMax(x.Storage, outer, extent, inner, y.OwnStorage);
        Node.Record(y, "ArgMax", x, null, ("dim", axis));
        return keepDim ? y : DropAxes(y, [axis]);
    }

    /// <summary>Variance over <paramref name="dims"/> divided by N − <paramref name="correction"/> (1: unbiased, as torch.var).</summary>
    public static Tensor Var(Tensor x, int[]? dims = null, int correction = 1, bool keepDim = false)
    {
        var axes = Shapes.NormalizeDims(dims, x.Rank, "Var");
        var centered = x - Mean(x, axes, keepDim: true);
        return Sum(centered * centered, axes, keepDim) / Math.Max(0, Count(x, axes) - correction);
    }

    static int Count(Tensor x, int[] axes) => axes.Aggregate(1, (n, d) => n * x.Dims[d]);

    /// <summary>Reduces sorted <paramref name="axes"/>, keeping them as size 1. Runs of adjacent axes go in one kernel call.</summary>
    static Tensor ReduceKeepDim(ReduceOp op, string name, Tensor x, int[] axes)
    {
        var storage = x.Storage;
        var dims = (int[])x.Dims.Clone();
        for (int i = axes.Length - 1; i >= 0;)
        {
            int end = axes[i] + 1, start = axes[i];
            while (i > 0 && axes[i - 1] == start - 1) { i--; start--; }
            i--;
            var (outer, extent, inner) = Split(dims, start, end);
            var reducedDims = WithOnes(dims, start, end);
            // An empty axis sums to zero, so only then does the output need zero-filling.
            var reduced = extent > 0 ? x.Backend.AllocateUninitialized(outer * inner) : x.Backend.Allocate(outer * inner);
            if (extent > 0) x.Backend.Reduce(op, storage, outer, extent, inner, reduced);
            else if (op != ReduceOp.Sum && outer * inner > 0)
                throw new ArgumentException($"{name}: cannot reduce over an empty axis of shape {x.ShapeString}.");
            storage = reduced;
            dims = reducedDims;
        }
        return new Tensor(storage == x.Storage ? Copy(x).Storage : storage, dims);
    }

    static Tensor Copy(Tensor x)
    {
        var copy = Tensor.Uninitialized(x.Dims, x.Backend);
        x.Backend.Copy(x.Storage, copy.Storage);
        return copy;
    }

    /// <summary>The shape read as (outer, extent, inner) around axes [start, end).</summary>
    static (int Outer, int Extent, int Inner) Split(int[] dims, int start, int end)
    {
        int outer = 1, extent = 1, inner = 1;
        for (int d = 0; d < dims.Length; d++)
        {
            if (d < start) outer *= dims[d];
            else if (d < end) extent *= dims[d];
            else inner *= dims[d];
        }
        return (outer, extent, inner);
    }

    static int[] WithOnes(int[] dims, int start, int end)
    {
        var result = (int[])dims.Clone();
        for (int d = start; d < end; d++) result[d] = 1;
        return result;
    }

    static Tensor DropAxes(Tensor y, int[] axes) =>
        y.Reshape(y.Dims.Where((_, d) => !axes.Contains(d)).ToArray());
}
