using System.Numerics.Tensors;

namespace ConvKit.Backends.Cpu;

// Broadcasting element-wise kernels and axis permutation. Shapes are first aligned to the output's rank
// (stride 0 on broadcast axes) and adjacent axes that stay contiguous for every operand are merged, so
// the innermost loop is as long as possible and runs through TensorPrimitives' SIMD code.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Binary(BinaryOp op, Storage a, int[] aShape, Storage b, int[] bShape, Storage y, int[] yShape)
    {
        float[] left = Data(a), right = Data(b), output = Data(y);
        if (left.Length == output.Length && right.Length == output.Length) { Row(op, left, false, right, false, output); return; }
        if (right.Length == 1 && left.Length == output.Length) { Row(op, left, false, right, true, output); return; }
        if (left.Length == 1 && right.Length == output.Length) { Row(op, left, true, right, false, output); return; }

        var (sizes, strides) = Coalesce(yShape, BroadcastStrides(aShape, yShape), BroadcastStrides(bShape, yShape));
        int[] aStrides = strides[0], bStrides = strides[1];
        int last = sizes.Length - 1, n = sizes[last];
        bool aScalar = aStrides[last] == 0, bScalar = bStrides[last] == 0;
        ForEachRow(sizes, strides, (offsets, yOffset) =>
            Row(op, left.AsSpan(offsets[0], aScalar ? 1 : n), aScalar, right.AsSpan(offsets[1], bScalar ? 1 : n), bScalar,
                output.AsSpan(yOffset, n)));
    }

    /// <inheritdoc/>
    public void Expand(Storage x, int[] xShape, Storage y, int[] yShape)
    {
        float[] input = Data(x), output = Data(y);
        if (input.Length == output.Length) { input.AsSpan().CopyTo(output); return; }
        var (sizes, strides) = Coalesce(yShape, BroadcastStrides(xShape, yShape));
        int last = sizes.Length - 1, n = sizes[last];
        bool scalar = strides[0][last] == 0;
        ForEachRow(sizes, strides, (offsets, yOffset) =>
        {
            if (scalar) output.AsSpan(yOffset, n).Fill(input[offsets[0]]);
            else input.AsSpan(offsets[0], n).CopyTo(output.AsSpan(yOffset));
        });
    }

    /// <inheritdoc/>
    public void Permute(Storage x, int[] xShape, int[] dims, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        int rank = xShape.Length;
        var xStrides = Strides(xShape);
        var ySizes = new int[rank];
        var permutedStrides = new int[rank];
        for (int i = 0; i < rank; i++) { ySizes[i] = xShape[dims[i]]; permutedStrides[i] = xStrides[dims[i]]; }
        var (sizes, strides) = Coalesce(ySizes, permutedStrides);
        int last = sizes.Length - 1, n = sizes[last], step = strides[0][last];
        if (last >= 1 && strides[0][last - 1] == 1 && step == sizes[last - 1])
        {
            // The last two merged axes swap (NCHW ↔ NHWC: a channels × positions matrix per image): 8×8 blocks in
            // registers instead of a strided read per value, a third of the time on ConvNeXt's permutes.
            int rows = sizes[last - 1];
            ForEachRow([.. sizes[..(last - 1)], rows * n], [[.. strides[0][..(last - 1)], 1]], (offsets, yOffset) =>
                BlockTranspose.Run(input.AsSpan(offsets[0]), rows, n, rows, output.AsSpan(yOffset), n));
            return;
        }
        ForEachRow(sizes, strides, (offsets, yOffset) =>
        {
            int source = offsets[0];
            if (step == 1) input.AsSpan(source, n).CopyTo(output.AsSpan(yOffset));
            else for (int j = 0; j < n; j++) output[yOffset + j] = input[source + j * step];
        });
    }

    /// <summary>Row-major strides of a dense shape.</summary>
    internal static int[] Strides(int[] shape)
    {
        var strides = new int[shape.Length];
        for (int i = shape.Length - 1, stride = 1; i >= 0; i--) { strides[i] = stride; stride *= shape[i]; }
        return strides;
    }

    /// <summary>Strides of <paramref name="shape"/> read as <paramref name="outShape"/>: 0 on broadcast and missing leading axes.</summary>
    static int[] BroadcastStrides(int[] shape, int[] outShape)
    {
        var strides = new int[outShape.Length];
        for (int i = shape.Length - 1, j = outShape.Length - 1, stride = 1; i >= 0; i--, j--)
        {
            strides[j] = shape[i] == 1 ? 0 : stride;
            stride *= shape[i];
        }
        return strides;
    }

    /// <summary>
    /// Drops size-1 axes and merges neighbours that are contiguous for every operand. The output is
    /// dense, so its own strides follow from the merged sizes. Always returns at least one axis.
    /// </summary>
    static (int[] Sizes, int[][] Strides) Coalesce(int[] shape, params int[][] operandStrides)
    {
        var sizes = new List<int>();
        var strides = operandStrides.Select(_ => new List<int>()).ToArray();
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            if (shape[d] == 1) continue;
            bool merge = sizes.Count > 0;
            for (int k = 0; k < operandStrides.Length && merge; k++)
                merge = operandStrides[k][d] == strides[k][0] * sizes[0];
            if (merge)
            {
                sizes[0] *= shape[d];
                continue;
            }
            sizes.Insert(0, shape[d]);
            for (int k = 0; k < operandStrides.Length; k++) strides[k].Insert(0, operandStrides[k][d]);
        }
        if (sizes.Count == 0)
        {
            sizes.Add(1);
            foreach (var s in strides) s.Add(0);
        }
        return (sizes.ToArray(), strides.Select(s => s.ToArray()).ToArray());
    }

    /// <summary>Calls <paramref name="row"/> for every innermost row, with each operand's offset and the output's offset.</summary>
    static void ForEachRow(int[] sizes, int[][] strides, Action<int[], int> row)
    {
        int rank = sizes.Length, n = sizes[rank - 1];
        int rows = 1;
        for (int d = 0; d < rank - 1; d++) rows *= sizes[d];
        var index = new int[rank];
        var offsets = new int[strides.Length];
        for (int r = 0; r < rows; r++)
        {
            row(offsets, r * n);
            // Odometer over the outer axes, updating every operand's offset incrementally.
            for (int d = rank - 2; d >= 0; d--)
            {
                for (int k = 0; k < offsets.Length; k++) offsets[k] += strides[k][d];
                if (++index[d] < sizes[d]) break;
                for (int k = 0; k < offsets.Length; k++) offsets[k] -= strides[k][d] * sizes[d];
                index[d] = 0;
            }
        }
    }

    /// <summary>One row of a binary op; a "scalar" side is a single value repeated.</summary>
    static void Row(BinaryOp op, ReadOnlySpan<float> a, bool aScalar, ReadOnlySpan<float> b, bool bScalar, Span<float> y)
    {
        if (aScalar && bScalar) { y.Fill(Apply(op, a[0], b[0])); return; }
        switch (op)
        {
            case BinaryOp.Add when aScalar: TensorPrimitives.Add(b, a[0], y); return;
            case BinaryOp.Add when bScalar: TensorPrimitives.Add(a, b[0], y); return;
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); return;
            case BinaryOp.Sub when aScalar: TensorPrimitives.Subtract(a[0], b, y); return;
            case BinaryOp.Sub when bScalar: TensorPrimitives.Subtract(a, b[0], y); return;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); return;
            case BinaryOp.Mul when aScalar: TensorPrimitives.Multiply(b, a[0], y); return;
            case BinaryOp.Mul when bScalar: TensorPrimitives.Multiply(a, b[0], y); return;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); return;
            case BinaryOp.Div when aScalar: TensorPrimitives.Divide(a[0], b, y); return;
            case BinaryOp.Div when bScalar: TensorPrimitives.Divide(a, b[0], y); return;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); return;
            case BinaryOp.Pow when aScalar: TensorPrimitives.Pow(a[0], b, y); return;
            case BinaryOp.Pow when bScalar: TensorPrimitives.Pow(a, b[0], y); return;
            case BinaryOp.Pow: TensorPrimitives.Pow(a, b, y); return;
            case BinaryOp.Maximum when aScalar: TensorPrimitives.Max(b, a[0], y); return;
            case BinaryOp.Maximum when bScalar: TensorPrimitives.Max(a, b[0], y); return;
            case BinaryOp.Maximum: TensorPrimitives.Max(a, b, y); return;
            case BinaryOp.Minimum when aScalar: TensorPrimitives.Min(b, a[0], y); return;
            case BinaryOp.Minimum when bScalar: TensorPrimitives.Min(a, b[0], y); return;
            case BinaryOp.Minimum: TensorPrimitives.Min(a, b, y); return;
        }
        for (int i = 0; i < y.Length; i++)
            y[i] = Apply(op, a[aScalar ? 0 : i], b[bScalar ? 0 : i]);
    }

    static float Apply(BinaryOp op, float a, float b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Pow => MathF.Pow(a, b),
        BinaryOp.Maximum => float.IsNaN(a) || float.IsNaN(b) ? float.NaN : MathF.Max(a, b),
        BinaryOp.Minimum => float.IsNaN(a) || float.IsNaN(b) ? float.NaN : MathF.Min(a, b),
        BinaryOp.Equal => a == b ? 1 : 0,
        BinaryOp.NotEqual => a != b ? 1 : 0,
        BinaryOp.Less => a < b ? 1 : 0,
        BinaryOp.LessEqual => a <= b ? 1 : 0,
        BinaryOp.Greater => a > b ? 1 : 0,
        BinaryOp.GreaterEqual => a >= b ? 1 : 0,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
    };
}
