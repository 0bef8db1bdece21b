namespace ConvKit.Ops;

/// <summary>What <see cref="F.Pad"/> puts in the new positions.</summary>
public enum PadMode
{
    /// <summary>A constant value (torch's 'constant'); negative pads crop.</summary>
    Constant,
    /// <summary>The mirror image without repeating the edge: … 2 1 | 0 1 2 … (torch's 'reflect').</summary>
    Reflect,
    /// <summary>Copies of the edge value: … 0 0 | 0 1 2 … (torch's 'replicate').</summary>
    Replicate,
}

// Padding, as torch.nn.functional.pad: built from narrowing and concatenation (constant) or index selection
// (reflect, replicate) one axis at a time, so the gradient comes from those ops.
public static partial class F
{
    /// <summary>
    /// Pads the last pads.Length/2 axes of <paramref name="x"/>. <paramref name="pads"/> runs last axis first, as in
    /// PyTorch: (left, right) pads the last axis, (left, right, top, bottom) the last two, and so on. Constant
    /// padding takes negative amounts, which crop; reflect pads must be smaller than the axis they extend and
    /// replicate needs a non-empty axis. Unlike torch 1.13, reflect and replicate work on any rank.
    /// </summary>
    /// <param name="x">any shape with at least pads.Length/2 axes</param>
    /// <param name="pads">(before, after) per axis, last axis first; an even count</param>
    /// <returns>x's shape with each padded axis grown by before + after</returns>
    public static Tensor Pad(Tensor x, int[] pads, PadMode mode = PadMode.Constant, float value = 0)
    {
        if (pads.Length % 2 != 0 || pads.Length / 2 > x.Rank)
            throw new ArgumentException($"Pad: {Shapes.Format(pads)} must hold a (before, after) pair for each of at most {x.Rank} axes of input shape {x.ShapeString}.");
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), $"Pad: unknown mode {mode}.");
        for (int i = 0; i < pads.Length / 2; i++)
        {
            int d = x.Rank - 1 - i, size = x.Dims[d], before = pads[2 * i], after = pads[2 * i + 1];
            string where = $"on axis {d} of input shape {x.ShapeString}";
            if (mode == PadMode.Constant && size + before + after < 0)
                throw new ArgumentException($"Pad: pads ({before}, {after}) {where} would leave a negative size {size + before + after}.");
            if (mode != PadMode.Constant && (before < 0 || after < 0))
                throw new ArgumentException($"Pad: {mode} pads ({before}, {after}) {where} must not be negative.");
            if (mode == PadMode.Reflect && (before >= size || after >= size))
                throw new ArgumentException($"Pad: reflect pads ({before}, {after}) {where} must be smaller than its size {size}.");
            if (mode == PadMode.Replicate && size == 0 && before + after > 0)
                throw new ArgumentException($"Pad: replicate pads ({before}, {after}) {where} need a non-empty axis.");
        }
        for (int i = 0; i < pads.Length / 2; i++)
        {
            int d = x.Rank - 1 - i, before = pads[2 * i], after = pads[2 * i + 1];
            if (before == 0 && after == 0) continue;
            x = mode == PadMode.Constant ? PadConstant(x, d, before, after, value)
                : IndexSelect("Pad", x, d, PadSources(x.Dims[d], before, after, mode));
        }
        return x;
    }

    static Tensor PadConstant(Tensor x, int d, int before, int after, float value)
    {
        int from = Math.Max(0, -before), to = x.Dims[d] - Math.Max(0, -after);
        if (from > 0 || to < x.Dims[d]) x = Narrow(x, d, from, to - from);
        if (before <= 0 && after <= 0) return x;
        var parts = new List<Tensor>();
        if (before > 0) parts.Add(Filled(x, d, before, value));
        parts.Add(x);
        if (after > 0) parts.Add(Filled(x, d, after, value));
        return Concat(parts, d);
    }

    static Tensor Filled(Tensor like, int d, int count, float value)
    {
        var dims = (int[])like.Dims.Clone();
        dims[d] = count;
        var filled = Tensor.Uninitialized(dims, like.Backend);
        like.Backend.Fill(filled.Storage, value);
        return filled;
    }

    /// <summary>The input position each output position copies along an axis of <paramref name="size"/>.</summary>
    static int[] PadSources(int size, int before, int after, PadMode mode)
    {
        var sources = new int[size + before + after];
        for (int k = 0; k < sources.Length; k++)
        {
            int i = k - before;
            sources[k] = mode == PadMode.Replicate ? Math.Clamp(i, 0, size - 1) : i < 0 ? -i : i >= size ? 2 * (size - 1) - i : i;
        }
        return sources;
    }
}
