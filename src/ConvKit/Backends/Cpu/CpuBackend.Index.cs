using System.Buffers;

namespace ConvKit.Backends.Cpu;

// Index kernels: gather and its scatter-add, row selection, element-wise select and a stable sort.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public int Gather(Storage x, int outer, int extent, int inner, Storage index, int count, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        var (positions, rented) = WholeIndices(index, extent, null, out int bad);
        if (bad < 0)
            for (int o = 0; o < outer; o++)
                for (int c = 0; c < count; c++)
                {
                    int row = (o * count + c) * inner, source = o * extent * inner;
                    for (int i = 0; i < inner; i++) output[row + i] = input[source + positions[row + i] * inner + i];
                }
        if (rented) ArrayPool<int>.Shared.Return(positions);
        return bad;
    }

    /// <inheritdoc/>
    public void GatherBackward(Storage gradY, Storage index, int outer, int extent, int inner, int count, Storage gradX)
    {
        float[] outputGrad = Data(gradY), inputGrad = Data(gradX);
        var (positions, rented) = WholeIndices(index, extent, null, out _);
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < count; c++)
            {
                int row = (o * count + c) * inner, target = o * extent * inner;
                for (int i = 0; i < inner; i++) inputGrad[target + positions[row + i] * inner + i] += outputGrad[row + i];
            }
        if (rented) ArrayPool<int>.Shared.Return(positions);
    }

    /// <summary>
    /// The values of an index buffer (gather positions, class targets) as ints: an int32 buffer as it is, a float one
    /// converted into a pooled array (Rented: give it back). <paramref name="bad"/> is −1, or the first position that
    /// holds neither a whole number in [0, extent) nor <paramref name="ignore"/>.
    /// </summary>
    static (int[] Values, bool Rented) WholeIndices(Storage index, int extent, int? ignore, out int bad)
    {
        bad = -1;
        if (index.DType == DType.Int32)
        {
            var indices = Indices(index);
            for (int p = 0; p < indices.Length && bad < 0; p++)
                if ((uint)indices[p] >= (uint)extent && indices[p] != ignore) bad = p;
            return (indices, false);
        }
        var values = Data(index);
        var converted = ArrayPool<int>.Shared.Rent(values.Length);
        for (int p = 0; p < values.Length; p++)
        {
            if (!IsClassIndex(values[p], extent) && values[p] != ignore) { bad = p; break; }
            converted[p] = (int)values[p];
        }
        return (converted, true);
    }

    /// <inheritdoc/>
    public void IndexSelect(Storage x, int outer, int extent, int inner, int[] indices, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < indices.Length; c++)
                Array.Copy(input, (o * extent + indices[c]) * inner, output, (o * indices.Length + c) * inner, inner);
    }

    /// <inheritdoc/>
    public void IndexSelectBackward(Storage gradY, int outer, int extent, int inner, int[] indices, Storage gradX)
    {
        float[] outputGrad = Data(gradY), inputGrad = Data(gradX);
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < indices.Length; c++)
            {
                var target = inputGrad.AsSpan((o * extent + indices[c]) * inner, inner);
                System.Numerics.Tensors.TensorPrimitives.Add(target, outputGrad.AsSpan((o * indices.Length + c) * inner, inner), target);
            }
    }

    /// <inheritdoc/>
    public void Where(Storage condition, Storage a, Storage b, Storage y)
    {
        float[] mask = Data(condition), first = Data(a), second = Data(b), output = Data(y);
        for (int k = 0; k < output.Length; k++) output[k] = mask[k] != 0 ? first[k] : second[k];
    }

    /// <inheritdoc/>
    public void Sort(Storage x, int outer, int extent, int inner, bool descending, Storage values, Storage indices)
    {
        float[] input = Data(x), sorted = Data(values);
        int[] order = Indices(indices);
        AxisBlocks.Run(outer, extent, inner, (o, column, width) =>
        {
            var keys = ArrayPool<float>.Shared.Rent(extent);
            var positions = ArrayPool<int>.Shared.Rent(extent);
            for (int i = column; i < column + width; i++)
            {
                int start = o * extent * inner + i;
                for (int r = 0; r < extent; r++) (keys[r], positions[r]) = (input[start + r * inner], r);
                positions.AsSpan(0, extent).Sort(new LineOrder(keys, descending));
                for (int r = 0; r < extent; r++)
                {
                    sorted[start + r * inner] = keys[positions[r]];
                    order[start + r * inner] = positions[r];
                }
            }
            ArrayPool<int>.Shared.Return(positions);
            ArrayPool<float>.Shared.Return(keys);
        });
    }

    /// <summary>Orders positions of a line by their keys (NaN above everything), then by position: a stable order from an unstable sort.</summary>
    readonly struct LineOrder(float[] keys, bool descending) : IComparer<int>
    {
        public int Compare(int a, int b)
        {
            int byKey = Ascending(keys[a], keys[b]);
            return byKey != 0 ? (descending ? -byKey : byKey) : a.CompareTo(b);
        }

        static int Ascending(float a, float b) =>
            float.IsNaN(a) ? (float.IsNaN(b) ? 0 : 1) : float.IsNaN(b) ? -1 : a < b ? -1 : a > b ? 1 : 0;
    }
}
