using System.Numerics.Tensors;

namespace ConvKit.Backends.Cpu;

/// <summary>The managed CPU backend: SIMD kernels over spans, multi-threaded GEMM.</summary>
public sealed partial class CpuBackend : IBackend
{
    /// <summary>The one CPU backend, shared by every tensor that lives in main memory.</summary>
    public static CpuBackend Instance { get; } = new();
    CpuBackend() { }

    /// <inheritdoc/>
    public string Name => "cpu";

    static float[] Data(Storage storage) => storage is CpuStorage cpu ? cpu.Data : throw Foreign(storage, DType.Float32);
    static int[] Indices(Storage storage) => storage is CpuIndexStorage cpu ? cpu.Data : throw Foreign(storage, DType.Int32);
    static ArgumentException Foreign(Storage storage, DType wanted) => new(storage.Backend is CpuBackend && storage.DType != wanted
        ? $"the CPU backend expected {wanted} storage, got {storage.DType}"
        : $"the CPU backend cannot use storage from backend '{storage.Backend.Name}'");

    /// <inheritdoc/>
    public Storage Allocate(int length)
    {
        if (length == 0) return new CpuStorage([]);
        CollectionPacer.Allocating(length);
        return new CpuStorage(new float[length]);
    }

    /// <inheritdoc/>
    public Storage AllocateUninitialized(int length)
    {
        if (released != null && released.TryGetValue(length, out var arrays) && arrays.TryPop(out var reused)) return new CpuStorage(reused);
        CollectionPacer.Allocating(length);
        return new CpuStorage(GC.AllocateUninitializedArray<float>(length));
    }

    /// <inheritdoc/>
    public void Release(Storage storage)
    {
        var array = Data(storage);
        if (array.Length < MinReleasedLength) return;
        released ??= [];
        if (!released.TryGetValue(array.Length, out var arrays)) released[array.Length] = arrays = new();
        if (arrays.Count < ReleasedPerLength) arrays.Push(array);
    }

    // Released arrays by length, per thread (ops allocate on the calling thread), a few of each length: a network
    // reuses a handful of activation sizes, and a chain such as ConvNeXt's exact GELU (Div, Erf, Add, Mul, Mul) has
    // three of one size alive at once (with two kept, ConvNeXt-T still allocated 37 MB a run; with four, under 1 MB).
    // Small arrays are cheap to allocate and are left to the GC.
    [ThreadStatic] static Dictionary<int, Stack<float[]>>? released;
    const int ReleasedPerLength = 4, MinReleasedLength = 4096;
    /// <inheritdoc/>
    public Storage FromArray(ReadOnlySpan<float> values)
    {
        CollectionPacer.Allocating(values.Length);
        return new CpuStorage(values.ToArray());
    }
    /// <inheritdoc/>
    public void CopyTo(Storage source, Span<float> destination) => Data(source).CopyTo(destination);
    /// <inheritdoc/>
    public float GetItem(Storage storage, int index) => Data(storage)[index];
    /// <inheritdoc/>
    public void SetItem(Storage storage, int index, float value) => Data(storage)[index] = value;
    /// <inheritdoc/>
    public void Fill(Storage storage, float value) => Array.Fill(Data(storage), value);
    /// <inheritdoc/>
    public void Copy(Storage source, Storage destination) => Data(source).AsSpan().CopyTo(Data(destination));

    /// <inheritdoc/>
    public Storage AllocateIndices(int length)
    {
        CollectionPacer.Allocating(length); // as many bytes as floats: max-pool argmax buffers come every training step
        return new CpuIndexStorage(new int[length]);
    }
    /// <inheritdoc/>
    public Storage FromIndices(ReadOnlySpan<int> values) => new CpuIndexStorage(values.ToArray());
    /// <inheritdoc/>
    public void CopyIndicesTo(Storage source, Span<int> destination) => Indices(source).CopyTo(destination);
    /// <inheritdoc/>
    public void IndicesToFloat(Storage indices, Storage values) => TensorPrimitives.ConvertTruncating<int, float>(Indices(indices), Data(values));

    /// <inheritdoc/>
    public void Unary(UnaryOp op, Storage x, Storage y)
    {
        ReadOnlySpan<float> input = Data(x);
        Span<float> output = Data(y);
        switch (op)
        {
            case UnaryOp.Neg: TensorPrimitives.Negate(input, output); break;
            case UnaryOp.Exp: TensorPrimitives.Exp(input, output); break;
            case UnaryOp.Log: TensorPrimitives.Log(input, output); break;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(input, output); break;
            case UnaryOp.Abs: TensorPrimitives.Abs(input, output); break;
            case UnaryOp.Square: TensorPrimitives.Multiply(input, input, output); break;
            case UnaryOp.Erf:
                // Polynomials and an exponential per element: worth the cores on large tensors, as the activations.
                float[] source = Data(x), destination = Data(y);
                AxisBlocks.Run(1, 1, source.Length, (_, start, length) => ErrorFunction.Compute(source.AsSpan(start, length), destination.AsSpan(start, length)));
                break;
            case UnaryOp.Sign:
                for (int i = 0; i < input.Length; i++) output[i] = input[i] > 0 ? 1 : input[i] < 0 ? -1 : 0;
                break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
    }

    /// <inheritdoc/>
    public void PowScalar(Storage x, float exponent, Storage y)
    {
        if (exponent == 2) Unary(UnaryOp.Square, x, y);
        else TensorPrimitives.Pow(Data(x), exponent, Data(y));
    }

    /// <inheritdoc/>
    public void Clamp(Storage x, float min, float max, Storage y)
    {
        TensorPrimitives.Max(Data(x), min, Data(y));
        TensorPrimitives.Min(Data(y), max, Data(y));
    }

    /// <inheritdoc/>
    public void Reduce(ReduceOp op, Storage x, int outer, int extent, int inner, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        for (int o = 0; o < outer; o++)
        {
            var source = input.AsSpan(o * extent * inner, extent * inner);
            if (inner == 1)
            {
                output[o] = op switch
                {
                    ReduceOp.Sum => TensorPrimitives.Sum(source),
                    ReduceOp.Max => TensorPrimitives.Max(source),
                    _ => TensorPrimitives.Min(source),
                };
                continue;
            }
            // Accumulate whole rows so the inner axis stays contiguous and vectorised.
            var accumulator = output.AsSpan(o * inner, inner);
            source[..inner].CopyTo(accumulator);
            for (int r = 1; r < extent; r++)
            {
                var row = source.Slice(r * inner, inner);
                switch (op)
                {
                    case ReduceOp.Sum: TensorPrimitives.Add(accumulator, row, accumulator); break;
                    case ReduceOp.Max: TensorPrimitives.Max(accumulator, row, accumulator); break;
                    default: TensorPrimitives.Min(accumulator, row, accumulator); break;
                }
            }
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
                int baseIndex = o * extent * inner + i, best = 0;
                float bestValue = input[baseIndex];
                for (int r = 1; r < extent; r++)
                {
                    float value = input[baseIndex + r * inner];
                    if (value > bestValue || (float.IsNaN(value) && !float.IsNaN(bestValue))) { bestValue = value; best = r; }
                }
                output[o * inner + i] = best;
            }
    }

    /// <inheritdoc/>
    public void CopyBlocks(Storage source, Storage destination, BlockCopy copy)
    {
        Array src = source.DType == DType.Int32 ? Indices(source) : Data(source);
        Array dst = source.DType == DType.Int32 ? Indices(destination) : Data(destination);
        for (int o = 0; o < copy.Outer; o++)
            for (int c = 0; c < copy.Count; c++)
                Array.Copy(src, copy.SrcOffset + o * copy.SrcOuterStride + c * copy.SrcStride,
                    dst, copy.DstOffset + o * copy.DstOuterStride + c * copy.DstStride, copy.BlockLength);
    }

    /// <inheritdoc/>
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        Storage a, int aOffset, int lda, Storage b, int bOffset, int ldb, float beta, Storage c, int cOffset, int ldc)
        => Cpu.Gemm.Sgemm(transA, transB, m, n, k, alpha, Data(a).AsSpan(aOffset), lda, Data(b).AsSpan(bOffset), ldb,
            beta, Data(c).AsSpan(cOffset), ldc);
}
