using ConvKit.Autograd;

namespace ConvKit.Ops;

// Matrix products with torch.matmul's rules: 1-D operands are promoted and the added axis removed,
// leading (batch) axes broadcast.
public static partial class F
{
    /// <summary>a @ b. (…, m, k) @ (…, k, n) → (…, m, n) with broadcast batch axes; 1-D operands act as row/column vectors.</summary>
    public static Tensor MatMul(Tensor a, Tensor b)
    {
        if (a.Rank == 0 || b.Rank == 0)
            throw new ArgumentException($"MatMul: both operands need at least one axis, got shapes {a.ShapeString} and {b.ShapeString}.");
        if (a.Rank == 1 && b.Rank == 1) return Squeeze(Squeeze(MatMul(Unsqueeze(a, 0), Unsqueeze(b, 1)), -1), -1);
        if (a.Rank == 1) return Squeeze(MatMul(Unsqueeze(a, 0), b), -2);
        if (b.Rank == 1) return Squeeze(MatMul(a, Unsqueeze(b, 1)), -1);

        SameBackend(a, b, "MatMul");
        if (a.Dims[^1] != b.Dims[^2])
            throw new ArgumentException($"MatMul: shapes {a.ShapeString} and {b.ShapeString} cannot be multiplied ({a.Dims[^1]} vs {b.Dims[^2]}).");
        var y = BatchedGemm(a, false, b, false);
        // dA = dY·Bᵀ, dB = Aᵀ·dY, summed over any batch axes the operand was broadcast along.
        return Node.Record(y, "MatMul", [a, b], g =>
        [
            a.RequiresGrad ? SumTo(BatchedGemm(g, false, b, true), a.Dims) : null,
            b.RequiresGrad ? SumTo(BatchedGemm(a, true, g, false), b.Dims) : null,
        ]);
    }

    /// <summary>op(a) @ op(b) per broadcast batch, transposes folded into the GEMM. No graph recorded.</summary>
    static Tensor BatchedGemm(Tensor a, bool transA, Tensor b, bool transB)
    {
        int rows = a.Dims[^2], cols = a.Dims[^1];
        int m = transA ? cols : rows, k = transA ? rows : cols;
        int n = transB ? b.Dims[^2] : b.Dims[^1];
        int[] aBatch = a.Dims[..^2], bBatch = b.Dims[..^2];
        int[] batch = Shapes.Broadcast(aBatch, bBatch, "MatMul");
        var y = Tensor.Uninitialized([.. batch, m, n], a.Backend);
        int batches = Shapes.Numel(batch);
        // One matrix b for a whole stack of a's (a Linear layer on channels-last maps, as ConvNeXt's): the stacked
        // matrices are one tall (batches·m, k) matrix in memory, so one GEMM does them all, instead of many small ones.
        if (!transA && Shapes.Numel(bBatch) == 1 && aBatch.AsSpan().SequenceEqual(batch) && batches > 1)
        {
            a.Backend.Gemm(false, transB, batches * m, n, k, 1f, a.Storage, 0, a.Dims[^1], b.Storage, 0, b.Dims[^1], 0f, y.Storage, 0, n);
            return y;
        }
        int aMatrix = a.Dims[^2] * a.Dims[^1], bMatrix = b.Dims[^2] * b.Dims[^1];
        var aIndex = BatchIndexMap(aBatch, batch);
        var bIndex = BatchIndexMap(bBatch, batch);
        for (int i = 0; i < batches; i++)
            a.Backend.Gemm(transA, transB, m, n, k, 1f,
                a.Storage, aIndex[i] * aMatrix, a.Dims[^1],
                b.Storage, bIndex[i] * bMatrix, b.Dims[^1],
                0f, y.Storage, i * m * n, n);
        return y;
    }

    /// <summary>For each index of the broadcast batch, which matrix of the operand (with batch shape <paramref name="shape"/>) it uses.</summary>
    static int[] BatchIndexMap(int[] shape, int[] batch)
    {
        var map = new int[Shapes.Numel(batch)];
        int offset = batch.Length - shape.Length;
        for (int i = 0; i < map.Length; i++)
        {
            int rest = i, source = 0, stride = 1;
            for (int d = batch.Length - 1; d >= 0; d--)
            {
                int index = rest % batch[d];
                rest /= batch[d];
                if (d >= offset)
                {
                    int size = shape[d - offset];
                    if (size != 1) source += index * stride;
                    stride *= size;
                }
            }
            map[i] = source;
        }
        return map;
    }
}
