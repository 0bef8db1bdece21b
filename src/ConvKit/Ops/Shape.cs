using ConvKit.Autograd;
using ConvKit.Backends;

namespace ConvKit.Ops;

// Shape ops: views (reshape family, shares storage) and copies (permute, slice, concat, split, expand).
public static partial class F
{
    /// <summary>The same values in a new shape (one axis may be -1, inferred); shares storage.</summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        var dims = (int[])shape.Clone();
        int inferred = Array.IndexOf(dims, -1);
        if (inferred >= 0 && Array.IndexOf(dims, -1, inferred + 1) >= 0)
            throw new ArgumentException($"Reshape: only one axis can be -1 in {Shapes.Format(shape)}.");
        if (dims.Any(d => d < -1)) throw new ArgumentException($"Reshape: negative size in {Shapes.Format(shape)}.");
        if (inferred >= 0)
        {
            int known = dims.Where(d => d != -1).Aggregate(1, (a, b) => a * b);
            if (known == 0 || x.Numel % known != 0)
                throw new ArgumentException($"Reshape: cannot view shape {x.ShapeString} ({x.Numel} elements) as {Shapes.Format(shape)}.");
            dims[inferred] = x.Numel / known;
        }
        if (Shapes.Numel(dims) != x.Numel)
            throw new ArgumentException($"Reshape: cannot view shape {x.ShapeString} ({x.Numel} elements) as {Shapes.Format(shape)}.");
        var y = new Tensor(x.OwnStorage, dims); // an Int32 tensor's view stays Int32
        return Node.Record(y, "Reshape", x, g => Reshape(g, x.Dims));
    }

    /// <summary>Merges axes startDim..endDim into one.</summary>
    public static Tensor Flatten(Tensor x, int startDim = 0, int endDim = -1)
    {
        if (x.Rank == 0) return Reshape(x, 1);
        int start = Shapes.NormalizeDim(startDim, x.Rank, "Flatten"), end = Shapes.NormalizeDim(endDim, x.Rank, "Flatten");
        if (start > end) throw new ArgumentException($"Flatten: startDim {startDim} comes after endDim {endDim}.");
        var dims = x.Dims[..start].Append(x.Dims[start..(end + 1)].Aggregate(1, (a, b) => a * b)).Concat(x.Dims[(end + 1)..]);
        return Reshape(x, dims.ToArray());
    }

    /// <summary>Inserts an axis of size 1 at <paramref name="dim"/>.</summary>
    public static Tensor Unsqueeze(Tensor x, int dim)
    {
        int d = Shapes.NormalizeDim(dim, x.Rank + 1, "Unsqueeze");
        return Reshape(x, [.. x.Dims[..d], 1, .. x.Dims[d..]]);
    }

    /// <summary>Removes axis <paramref name="dim"/> if it has size 1, or every size-1 axis when null.</summary>
    public static Tensor Squeeze(Tensor x, int? dim = null)
    {
        if (dim == null) return Reshape(x, x.Dims.Where(s => s != 1).ToArray());
        int d = Shapes.NormalizeDim(dim.Value, x.Rank, "Squeeze");
        return x.Dims[d] != 1 ? x : Reshape(x, [.. x.Dims[..d], .. x.Dims[(d + 1)..]]);
    }

    /// <summary>Broadcasts to <paramref name="shape"/> (NumPy rules; -1 keeps an axis), copying values.</summary>
    public static Tensor Expand(Tensor x, params int[] shape)
    {
        var dims = (int[])shape.Clone();
        for (int i = 1; i <= Math.Min(dims.Length, x.Rank); i++)
            if (dims[^i] == -1) dims[^i] = x.Dims[^i];
        if (!Shapes.BroadcastsTo(x.Dims, dims) || dims.Any(d => d < 0))
            throw new ArgumentException($"Expand: shape {x.ShapeString} cannot be broadcast to {Shapes.Format(shape)}.");
        if (x.HasShape(dims)) return x;
        var y = Tensor.Uninitialized(dims, x.Backend);
        x.Backend.Expand(x.Storage, x.Dims, y.Storage, dims);
        return Node.Record(y, "Expand", x, g => SumTo(g, x.Dims), ("shape", dims));
    }

    /// <summary>Reorders axes: output axis i is input axis dims[i].</summary>
    public static Tensor Permute(Tensor x, params int[] dims)
    {
        if (dims.Length != x.Rank)
            throw new ArgumentException($"Permute: {dims.Length} axes given for a tensor of shape {x.ShapeString}.");
        var order = dims.Select(d => Shapes.NormalizeDim(d, x.Rank, "Permute")).ToArray();
        if (order.Distinct().Count() != order.Length)
            throw new ArgumentException($"Permute: {Shapes.Format(dims)} repeats an axis.");
        var y = Tensor.Uninitialized(order.Select(d => x.Dims[d]).ToArray(), x.Backend);
        x.Backend.Permute(x.Storage, x.Dims, order, y.Storage);
        var inverse = new int[order.Length];
        for (int i = 0; i < order.Length; i++) inverse[order[i]] = i;
        return Node.Record(y, "Permute", x, g => Permute(g, inverse), ("dims", order));
    }

    /// <summary>Swaps two axes.</summary>
    public static Tensor Transpose(Tensor x, int dim0, int dim1)
    {
        var order = Enumerable.Range(0, x.Rank).ToArray();
        int a = Shapes.NormalizeDim(dim0, x.Rank, "Transpose"), b = Shapes.NormalizeDim(dim1, x.Rank, "Transpose");
        (order[a], order[b]) = (order[b], order[a]);
        return Permute(x, order);
    }

    /// <summary>Elements start, start+step, ... below end along <paramref name="dim"/>; Python slice rules (negative and out-of-range bounds clip).</summary>
    public static Tensor Slice(Tensor x, int dim, int start, int end, int step = 1)
    {
        int d = Shapes.NormalizeDim(dim, x.Rank, "Slice"), size = x.Dims[d];
        if (step <= 0) throw new ArgumentException($"Slice: step must be positive, got {step}.");
        start = Math.Clamp(start < 0 ? start + size : start, 0, size);
        end = Math.Clamp(end < 0 ? end + size : end, 0, size);
        int count = Math.Max(0, (end - start + step - 1) / step);
        var (outer, _, inner) = Split(x.Dims, d, d + 1);
        var dims = (int[])x.Dims.Clone();
        dims[d] = count;
        var copy = new BlockCopy(outer, count, inner,
            start * inner, size * inner, step * inner,
            0, count * inner, inner);
        // A slice of an Int32 tensor stays Int32 (TopK's indices).
        var y = x.DType == DType.Int32 ? Tensor.Indices(dims, x.Backend) : Tensor.Uninitialized(dims, x.Backend);
        x.Backend.CopyBlocks(x.OwnStorage, y.OwnStorage, copy);
        return Node.Record(y, "Slice", x, g =>
        {
            var grad = Tensor.Empty(x.Dims, x.Backend);
            g.Backend.CopyBlocks(g.Storage, grad.Storage, Reverse(copy));
            return grad;
        }, ("dim", d), ("start", start), ("end", end), ("step", step));
    }

    /// <summary><paramref name="length"/> elements from <paramref name="start"/> along <paramref name="dim"/>; out-of-range is an error.</summary>
    public static Tensor Narrow(Tensor x, int dim, int start, int length)
    {
        int d = Shapes.NormalizeDim(dim, x.Rank, "Narrow");
        if (start < 0) start += x.Dims[d];
        if (start < 0 || length < 0 || start + length > x.Dims[d])
            throw new ArgumentOutOfRangeException(nameof(start),
                $"Narrow: [{start}, {start + length}) is outside axis {d} of shape {x.ShapeString}.");
        return Slice(x, d, start, start + length);
    }

    /// <summary>Joins tensors along an existing axis; all other sizes must agree.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("Concat: no tensors given.");
        var first = tensors[0];
        int d = Shapes.NormalizeDim(dim, first.Rank, "Concat");
        foreach (var t in tensors)
        {
            SameBackend(first, t, "Concat");
            bool compatible = t.Rank == first.Rank;
            for (int i = 0; i < t.Rank && compatible; i++) compatible = i == d || t.Dims[i] == first.Dims[i];
            if (!compatible)
                throw new ArgumentException($"Concat: shapes {first.ShapeString} and {t.ShapeString} differ outside axis {d}.");
        }
        var dims = (int[])first.Dims.Clone();
        dims[d] = tensors.Sum(t => t.Dims[d]);
        var y = Tensor.Uninitialized(dims, first.Backend);
        var (outer, total, inner) = Split(dims, d, d + 1);
        int offset = 0;
        foreach (var t in tensors)
        {
            int block = t.Dims[d] * inner;
            first.Backend.CopyBlocks(t.Storage, y.Storage, new BlockCopy(outer, 1, block, 0, block, 0, offset * inner, total * inner, 0));
            offset += t.Dims[d];
        }
        var inputs = tensors.ToArray();
        return Node.Record(y, "Concat", inputs, g =>
        {
            var grads = new Tensor?[inputs.Length];
            for (int i = 0, start = 0; i < inputs.Length; start += inputs[i].Dims[d], i++)
                if (inputs[i].RequiresGrad) grads[i] = Narrow(g, d, start, inputs[i].Dims[d]);
            return grads;
        }, ("dim", d));
    }

    /// <summary>Joins equal-shaped tensors along a new axis.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("Stack: no tensors given.");
        foreach (var t in tensors)
            if (!t.HasShape(tensors[0].Dims))
                throw new ArgumentException($"Stack: shapes {tensors[0].ShapeString} and {t.ShapeString} differ.");
        int d = Shapes.NormalizeDim(dim, tensors[0].Rank + 1, "Stack");
        return Concat(tensors.Select(t => Unsqueeze(t, d)).ToArray(), d);
    }

    /// <summary>
    /// Cuts <paramref name="x"/> along <paramref name="dim"/> into pieces of <paramref name="splitSize"/> (the last one
    /// smaller when the size does not divide), as torch.split with an int. Each piece is a copy; gradients flow back.
    /// </summary>
    /// <returns>⌈size / splitSize⌉ tensors (one empty tensor for an empty axis)</returns>
    public static Tensor[] Split(Tensor x, int splitSize, int dim = 0)
    {
        int d = Shapes.NormalizeDim(dim, x.Rank, "Split"), size = x.Dims[d];
        if (splitSize < 1 && !(splitSize == 0 && size == 0))
            throw new ArgumentOutOfRangeException(nameof(splitSize), $"Split: splitSize must be positive, got {splitSize} (input shape {x.ShapeString}).");
        if (size == 0) return [Narrow(x, d, 0, 0)];
        var pieces = new Tensor[(size + splitSize - 1) / splitSize];
        for (int p = 0; p < pieces.Length; p++) pieces[p] = Narrow(x, d, p * splitSize, Math.Min(splitSize, size - p * splitSize));
        return pieces;
    }

    /// <summary>Cuts <paramref name="x"/> along <paramref name="dim"/> into pieces of the given sizes, which must add up to the axis's size (torch.split with a list).</summary>
    /// <returns>one tensor per section</returns>
    public static Tensor[] Split(Tensor x, int[] sections, int dim = 0)
    {
        int d = Shapes.NormalizeDim(dim, x.Rank, "Split");
        if (sections.Any(s => s < 0) || sections.Sum() != x.Dims[d])
            throw new ArgumentException($"Split: sections {Shapes.Format(sections)} must be non-negative and add up to {x.Dims[d]}, the size of axis {d} of input shape {x.ShapeString}.");
        var pieces = new Tensor[sections.Length];
        for (int p = 0, start = 0; p < pieces.Length; start += sections[p], p++) pieces[p] = Narrow(x, d, start, sections[p]);
        return pieces;
    }

    /// <summary>
    /// Cuts <paramref name="x"/> along <paramref name="dim"/> into pieces of ⌈size / chunks⌉, as torch.chunk: the last
    /// piece may be smaller, and there may be fewer than <paramref name="chunks"/> pieces (size 5 in 4 chunks gives 2, 2, 1).
    /// </summary>
    public static Tensor[] Chunk(Tensor x, int chunks, int dim = 0)
    {
        int d = Shapes.NormalizeDim(dim, x.Rank, "Chunk");
        if (chunks < 1) throw new ArgumentOutOfRangeException(nameof(chunks), $"Chunk: chunks must be positive, got {chunks} (input shape {x.ShapeString}).");
        int size = x.Dims[d];
        return size == 0 ? Enumerable.Range(0, chunks).Select(_ => Narrow(x, d, 0, 0)).ToArray() : Split(x, (size + chunks - 1) / chunks, d);
    }

    static BlockCopy Reverse(BlockCopy c) => new(c.Outer, c.Count, c.BlockLength,
        c.DstOffset, c.DstOuterStride, c.DstStride, c.SrcOffset, c.SrcOuterStride, c.SrcStride);
}
