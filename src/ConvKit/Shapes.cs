namespace ConvKit;

/// <summary>Shape arithmetic shared by ops: element counts, axis normalisation, broadcasting.</summary>
static class Shapes
{
    public static string Format(IReadOnlyList<int> shape) => "[" + string.Join(", ", shape) + "]";

    public static int Numel(int[] shape)
    {
        long count = 1;
        foreach (int size in shape)
        {
            if (size < 0) throw new ArgumentException($"Tensor: negative size in shape {Format(shape)}.");
            count *= size;
            if (count > Array.MaxLength) throw new ArgumentException($"Tensor: shape {Format(shape)} has too many elements.");
        }
        return (int)count;
    }

    /// <summary>Maps a possibly negative axis into [0, rank), naming the op on failure.</summary>
    public static int NormalizeDim(int dim, int rank, string op)
    {
        int d = dim < 0 ? dim + rank : dim;
        if ((uint)d >= (uint)rank)
            throw new ArgumentOutOfRangeException(nameof(dim), $"{op}: axis {dim} is out of range for a tensor of rank {rank}.");
        return d;
    }

    /// <summary>Distinct sorted axes; null means all axes.</summary>
    public static int[] NormalizeDims(int[]? dims, int rank, string op)
    {
        if (dims == null) return Enumerable.Range(0, rank).ToArray();
        var normalized = dims.Select(d => NormalizeDim(d, rank, op)).Distinct().Order().ToArray();
        return normalized;
    }

    /// <summary>NumPy broadcasting: align from the right; sizes must match or be 1.</summary>
    public static int[] Broadcast(int[] a, int[] b, string op)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 1; i <= rank; i++)
        {
            int x = i <= a.Length ? a[^i] : 1, y = i <= b.Length ? b[^i] : 1;
            if (x != y && x != 1 && y != 1)
                throw new ArgumentException($"{op}: shapes {Format(a)} and {Format(b)} cannot be broadcast together (axis -{i}: {x} vs {y}).");
            result[rank - i] = x == 1 ? y : x;
        }
        return result;
    }

    /// <summary>Whether <paramref name="shape"/> broadcasts to <paramref name="target"/>.</summary>
    public static bool BroadcastsTo(int[] shape, int[] target)
    {
        if (shape.Length > target.Length) return false;
        for (int i = 1; i <= shape.Length; i++)
            if (shape[^i] != 1 && shape[^i] != target[^i]) return false;
        return true;
    }
}
