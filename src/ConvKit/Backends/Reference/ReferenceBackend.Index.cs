namespace ConvKit.Backends.Reference;

// Index kernels: gather and its scatter-add, row selection, element-wise select, and a stable sort by insertion.
public sealed partial class ReferenceBackend
{
    /// <inheritdoc/>
    public int Gather(Storage x, int outer, int extent, int inner, Storage index, int count, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        double[] positions = IndexValues(index);
        for (int p = 0; p < positions.Length; p++)
            if (!IsClassIndex(positions[p], extent)) return p;
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < count; c++)
                for (int i = 0; i < inner; i++)
                    output[At(o, c, i, count, inner)] = input[At(o, (int)positions[At(o, c, i, count, inner)], i, extent, inner)];
        return -1;
    }

    /// <inheritdoc/>
    public void GatherBackward(Storage gradY, Storage index, int outer, int extent, int inner, int count, Storage gradX)
    {
        float[] outputGrad = Data(gradY), inputGrad = Data(gradX);
        double[] positions = IndexValues(index);
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < count; c++)
                for (int i = 0; i < inner; i++)
                    inputGrad[At(o, (int)positions[At(o, c, i, count, inner)], i, extent, inner)] += outputGrad[At(o, c, i, count, inner)];
    }

    static bool IsClassIndex(double value, int classes) => value >= 0 && value < classes && value == Math.Floor(value);

    /// <summary>An index buffer's values (gather positions, class targets) as doubles: int32 exactly, float as they are.</summary>
    static double[] IndexValues(Storage index) => index.DType == DType.Int32
        ? Array.ConvertAll(Indices(index), v => (double)v) : Array.ConvertAll(Data(index), v => (double)v);

    /// <inheritdoc/>
    public void IndexSelect(Storage x, int outer, int extent, int inner, int[] indices, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < indices.Length; c++)
                for (int i = 0; i < inner; i++)
                    output[At(o, c, i, indices.Length, inner)] = input[At(o, indices[c], i, extent, inner)];
    }

    /// <inheritdoc/>
    public void IndexSelectBackward(Storage gradY, int outer, int extent, int inner, int[] indices, Storage gradX)
    {
        float[] outputGrad = Data(gradY), inputGrad = Data(gradX);
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < indices.Length; c++)
                for (int i = 0; i < inner; i++)
                    inputGrad[At(o, indices[c], i, extent, inner)] += outputGrad[At(o, c, i, indices.Length, inner)];
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
        var line = new int[extent];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                // Insertion sort of positions: each one moves left past those that must come after it, and never past
                // an equal one, so the sort is stable by construction.
                for (int r = 0; r < extent; r++)
                {
                    int k = r;
                    for (; k > 0 && ComesBefore(input[At(o, r, i, extent, inner)], input[At(o, line[k - 1], i, extent, inner)], descending); k--)
                        line[k] = line[k - 1];
                    line[k] = r;
                }
                for (int r = 0; r < extent; r++)
                {
                    sorted[At(o, r, i, extent, inner)] = input[At(o, line[r], i, extent, inner)];
                    order[At(o, r, i, extent, inner)] = line[r];
                }
            }
    }

    /// <summary>Whether <paramref name="a"/> sorts strictly before <paramref name="b"/>; NaN is above every number, as in torch.sort.</summary>
    static bool ComesBefore(float a, float b, bool descending)
    {
        bool aAbove = float.IsNaN(a) ? !float.IsNaN(b) : !float.IsNaN(b) && a > b;
        bool bAbove = float.IsNaN(b) ? !float.IsNaN(a) : !float.IsNaN(a) && b > a;
        return descending ? aAbove : bAbove;
    }
}
