namespace ConvKit.NN;

/// <summary>
/// The shape arithmetic of the functional ops a model's <c>ForwardCore</c> calls between its layers (flatten,
/// concatenation, broadcast sums), for its <c>OutputShapeCore</c>; errors carry the op's own message.
/// </summary>
public static class ShapeInference
{
    /// <summary>The shape <see cref="Ops.F.Flatten"/> gives: axes <paramref name="startDim"/>..<paramref name="endDim"/> merged into one.</summary>
    public static int[] Flatten(int[] shape, int startDim = 0, int endDim = -1)
    {
        if (shape.Length == 0) return [1];
        int start = Shapes.NormalizeDim(startDim, shape.Length, "Flatten"), end = Shapes.NormalizeDim(endDim, shape.Length, "Flatten");
        if (start > end) throw new ArgumentException($"Flatten: startDim {startDim} comes after endDim {endDim}.");
        long merged = 1;
        for (int i = start; i <= end; i++) merged *= shape[i];
        if (merged > int.MaxValue) throw new ArgumentException($"Flatten: shape {Shapes.Format(shape)} merges into more than {int.MaxValue} values along one axis.");
        return [.. shape[..start], (int)merged, .. shape[(end + 1)..]];
    }

    /// <summary>The shape <see cref="Ops.F.Concat"/> gives: the shapes joined along <paramref name="dim"/>, equal elsewhere.</summary>
    public static int[] Concat(IReadOnlyList<int[]> shapes, int dim = 0)
    {
        if (shapes.Count == 0) throw new ArgumentException("Concat: no tensors given.");
        var first = shapes[0];
        int d = Shapes.NormalizeDim(dim, first.Length, "Concat");
        long total = 0;
        foreach (var shape in shapes)
        {
            bool compatible = shape.Length == first.Length;
            for (int i = 0; i < shape.Length && compatible; i++) compatible = i == d || shape[i] == first[i];
            if (!compatible)
                throw new ArgumentException($"Concat: shapes {Shapes.Format(first)} and {Shapes.Format(shape)} differ outside axis {d}.");
            total += shape[d];
        }
        var result = (int[])first.Clone();
        result[d] = checked((int)total);
        return result;
    }

    /// <summary>The shape of an element-wise op on <paramref name="a"/> and <paramref name="b"/> (NumPy broadcasting); <paramref name="op"/> names it in errors.</summary>
    public static int[] Broadcast(int[] a, int[] b, string op = "Add") => Shapes.Broadcast(a, b, op);
}
