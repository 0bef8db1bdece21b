namespace ConvKit.Backends.Reference;

/// <summary>
/// The plain twin of every kernel: each method is the definition of its op written as the most direct loop, one
/// element at a time, with no vectorisation, threading, blocking or special cases, and sums carried in float64. It is
/// slow on purpose: it is what the fast backends are tested against (on small shapes) and the page to read to learn
/// what a kernel computes. Buffers it hands out uninitialised are filled with NaN, so an op that reads a value no
/// kernel wrote shows up as NaN instead of a plausible zero.
/// </summary>
public sealed partial class ReferenceBackend : IBackend
{
    /// <summary>The one reference backend.</summary>
    public static ReferenceBackend Instance { get; } = new();
    ReferenceBackend() { }

    /// <inheritdoc/>
    public string Name => "reference";

    static float[] Data(Storage storage) => storage is ReferenceStorage reference ? reference.Data : throw Foreign(storage, DType.Float32);
    static int[] Indices(Storage storage) => storage is ReferenceIndexStorage reference ? reference.Data : throw Foreign(storage, DType.Int32);
    static ArgumentException Foreign(Storage storage, DType wanted) => new(storage.Backend is ReferenceBackend && storage.DType != wanted
        ? $"the reference backend expected {wanted} storage, got {storage.DType}"
        : $"the reference backend cannot use storage from backend '{storage.Backend.Name}'");

    /// <inheritdoc/>
    public Storage Allocate(int length) => new ReferenceStorage(new float[length]);

    /// <inheritdoc/>
    public Storage AllocateUninitialized(int length)
    {
        var values = new float[length];
        Array.Fill(values, float.NaN);
        return new ReferenceStorage(values);
    }

    /// <inheritdoc/>
    public void Release(Storage storage) => Data(storage); // nothing is pooled; only the kind is checked

    /// <inheritdoc/>
    public Storage FromArray(ReadOnlySpan<float> values) => new ReferenceStorage(values.ToArray());
    /// <inheritdoc/>
    public void CopyTo(Storage source, Span<float> destination) => Data(source).CopyTo(destination);
    /// <inheritdoc/>
    public float GetItem(Storage storage, int index) => Data(storage)[index];
    /// <inheritdoc/>
    public void SetItem(Storage storage, int index, float value) => Data(storage)[index] = value;

    /// <inheritdoc/>
    public void Fill(Storage storage, float value)
    {
        var values = Data(storage);
        for (int i = 0; i < values.Length; i++) values[i] = value;
    }

    /// <inheritdoc/>
    public void Copy(Storage source, Storage destination)
    {
        float[] from = Data(source), to = Data(destination);
        for (int i = 0; i < from.Length; i++) to[i] = from[i];
    }

    /// <inheritdoc/>
    public Storage AllocateIndices(int length) => new ReferenceIndexStorage(new int[length]);
    /// <inheritdoc/>
    public Storage FromIndices(ReadOnlySpan<int> values) => new ReferenceIndexStorage(values.ToArray());
    /// <inheritdoc/>
    public void CopyIndicesTo(Storage source, Span<int> destination) => Indices(source).CopyTo(destination);

    /// <inheritdoc/>
    public void IndicesToFloat(Storage indices, Storage values)
    {
        int[] from = Indices(indices);
        float[] to = Data(values);
        for (int i = 0; i < from.Length; i++) to[i] = from[i];
    }

    /// <inheritdoc/>
    public void Unary(UnaryOp op, Storage x, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        for (int i = 0; i < input.Length; i++)
        {
            double v = input[i];
            output[i] = (float)(op switch
            {
                UnaryOp.Neg => -v,
                UnaryOp.Exp => Math.Exp(v),
                UnaryOp.Log => Math.Log(v),
                UnaryOp.Sqrt => Math.Sqrt(v),
                UnaryOp.Abs => Math.Abs(v),
                UnaryOp.Sign => v > 0 ? 1 : v < 0 ? -1 : 0, // NaN gives 0, as torch.sign
                UnaryOp.Square => v * v,
                UnaryOp.Erf => Erf(v),
                _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
            });
        }
    }

    /// <summary>
    /// erf x = 2/√π Σₙ (−1)ⁿ x²ⁿ⁺¹ / (n!·(2n + 1)), the Maclaurin series, summed until the terms vanish. Below |x| = 4
    /// the largest term is under e^16 ≈ 10⁷, so double keeps about nine digits, more than float needs; beyond, erf is
    /// ±1 to float precision (1 − erf 4 ≈ 1.5·10⁻⁸).
    /// </summary>
    static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        if (Math.Abs(x) >= 4) return Math.Sign(x);
        double term = x, sum = x;
        for (int n = 1; Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
        {
            term *= -x * x / n;
            sum += term / (2 * n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    /// <inheritdoc/>
    public void PowScalar(Storage x, float exponent, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        for (int i = 0; i < input.Length; i++) output[i] = MathF.Pow(input[i], exponent);
    }

    /// <inheritdoc/>
    public void Clamp(Storage x, float min, float max, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        for (int i = 0; i < input.Length; i++)
            output[i] = float.IsNaN(input[i]) ? input[i] : input[i] < min ? min : input[i] > max ? max : input[i];
    }

    /// <inheritdoc/>
    public void Binary(BinaryOp op, Storage a, int[] aShape, Storage b, int[] bShape, Storage y, int[] yShape)
    {
        float[] left = Data(a), right = Data(b), output = Data(y);
        for (int i = 0; i < output.Length; i++)
        {
            float l = left[BroadcastSource(i, yShape, aShape)], r = right[BroadcastSource(i, yShape, bShape)];
            output[i] = op switch
            {
                BinaryOp.Add => l + r,
                BinaryOp.Sub => l - r,
                BinaryOp.Mul => l * r,
                BinaryOp.Div => l / r,
                BinaryOp.Pow => MathF.Pow(l, r),
                // torch.maximum and torch.minimum propagate NaN.
                BinaryOp.Maximum => float.IsNaN(l) || float.IsNaN(r) ? float.NaN : l > r ? l : r,
                BinaryOp.Minimum => float.IsNaN(l) || float.IsNaN(r) ? float.NaN : l < r ? l : r,
                BinaryOp.Equal => l == r ? 1 : 0,
                BinaryOp.NotEqual => l != r ? 1 : 0,
                BinaryOp.Less => l < r ? 1 : 0,
                BinaryOp.LessEqual => l <= r ? 1 : 0,
                BinaryOp.Greater => l > r ? 1 : 0,
                BinaryOp.GreaterEqual => l >= r ? 1 : 0,
                _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
            };
        }
    }

    /// <inheritdoc/>
    public void Expand(Storage x, int[] xShape, Storage y, int[] yShape)
    {
        float[] input = Data(x), output = Data(y);
        for (int i = 0; i < output.Length; i++) output[i] = input[BroadcastSource(i, yShape, xShape)];
    }

    /// <summary>
    /// The flat index in an operand of shape <paramref name="source"/> that broadcasts to element
    /// <paramref name="flat"/> of <paramref name="target"/>: shapes align at their last axes, and an axis of size 1
    /// (or a missing one) always reads index 0.
    /// </summary>
    static int BroadcastSource(int flat, int[] target, int[] source)
    {
        int index = 0, stride = 1;
        for (int d = 1; d <= target.Length; d++)
        {
            int coordinate = flat % target[^d];
            flat /= target[^d];
            if (d > source.Length) continue;
            if (source[^d] != 1) index += coordinate * stride;
            stride *= source[^d];
        }
        return index;
    }

    /// <inheritdoc/>
    public void Reduce(ReduceOp op, Storage x, int outer, int extent, int inner, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double result = input[o * extent * inner + i];
                for (int r = 1; r < extent; r++)
                {
                    double v = input[(o * extent + r) * inner + i];
                    result = op switch
                    {
                        ReduceOp.Sum => result + v,
                        // torch.max and torch.min propagate NaN.
                        ReduceOp.Max => double.IsNaN(result) ? result : double.IsNaN(v) || v > result ? v : result,
                        ReduceOp.Min => double.IsNaN(result) ? result : double.IsNaN(v) || v < result ? v : result,
                        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
                    };
                }
                output[o * inner + i] = (float)result;
            }
    }

    /// <inheritdoc/>
    public void ArgMax(Storage x, int outer, int extent, int inner, Storage y)
    {
        float[] input = Data(x);
        int[] output = Indices(y);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                // The first maximum; NaN counts as the largest value, as in torch.argmax.
                int best = 0;
                for (int r = 1; r < extent; r++)
                {
                    float value = input[(o * extent + r) * inner + i], bestValue = input[(o * extent + best) * inner + i];
                    if (!float.IsNaN(bestValue) && (value > bestValue || float.IsNaN(value))) best = r;
                }
                output[o * inner + i] = best;
            }
    }

    /// <inheritdoc/>
    public void Permute(Storage x, int[] xShape, int[] dims, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        int rank = xShape.Length;
        var coordinate = new int[rank];
        for (int i = 0; i < output.Length; i++)
        {
            // Output axis k is input axis dims[k]: unravel i over the output's sizes, then ravel over the input's.
            int rest = i;
            for (int k = rank - 1; k >= 0; k--)
            {
                coordinate[dims[k]] = rest % xShape[dims[k]];
                rest /= xShape[dims[k]];
            }
            int source = 0;
            for (int d = 0; d < rank; d++) source = source * xShape[d] + coordinate[d];
            output[i] = input[source];
        }
    }

    /// <inheritdoc/>
    public void CopyBlocks(Storage source, Storage destination, BlockCopy copy)
    {
        if (source.DType == DType.Int32) CopyBlocks(Indices(source), Indices(destination), copy);
        else CopyBlocks(Data(source), Data(destination), copy);
    }

    static void CopyBlocks<T>(T[] src, T[] dst, BlockCopy copy)
    {
        for (int o = 0; o < copy.Outer; o++)
            for (int c = 0; c < copy.Count; c++)
                for (int j = 0; j < copy.BlockLength; j++)
                    dst[copy.DstOffset + o * copy.DstOuterStride + c * copy.DstStride + j] =
                        src[copy.SrcOffset + o * copy.SrcOuterStride + c * copy.SrcStride + j];
    }

    /// <inheritdoc/>
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        Storage a, int aOffset, int lda, Storage b, int bOffset, int ldb, float beta, Storage c, int cOffset, int ldc)
    {
        float[] left = Data(a), right = Data(b), result = Data(c);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                    sum += (double)left[aOffset + (transA ? p * lda + i : i * lda + p)] * right[bOffset + (transB ? j * ldb + p : p * ldb + j)];
                int at = cOffset + i * ldc + j;
                // beta = 0 ignores C's old values, NaN included, as BLAS does.
                result[at] = (float)(alpha * sum + (beta == 0 ? 0 : (double)beta * result[at]));
            }
    }
}
