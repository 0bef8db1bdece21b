using ConvKit.Autograd;

namespace ConvKit.Ops;

// Softmax and log-softmax along one axis: any shape, normalised along dim. Each has its own fused backward
// (one kernel pass) rather than the chain of exp, sum and divide nodes a composition would record.
public static partial class F
{
    /// <summary>exp(x) / Σ exp(x) along <paramref name="dim"/>, computed stably (the maximum is subtracted first).</summary>
    public static Tensor Softmax(Tensor x, int dim = -1) => SoftmaxFamily(x, dim, log: false);

    /// <summary>x − log Σ exp(x) along <paramref name="dim"/>: the log of <see cref="Softmax"/>, without its underflow.</summary>
    public static Tensor LogSoftmax(Tensor x, int dim = -1) => SoftmaxFamily(x, dim, log: true);

    static Tensor SoftmaxFamily(Tensor x, int dim, bool log)
    {
        string name = log ? "LogSoftmax" : "Softmax";
        if (x.Rank == 0) return SoftmaxFamily(x.Reshape(1), dim, log).Reshape();
        int axis = Shapes.NormalizeDim(dim, x.Rank, name);
        var (outer, extent, inner) = Split(x.Dims, axis, axis + 1);
        var backend = x.Backend;
        var y = Tensor.Uninitialized(x.Dims, backend);
        if (log) backend.LogSoftmax(x.Storage, outer, extent, inner, y.Storage);
        else backend.Softmax(x.Storage, outer, extent, inner, y.Storage);
        // softmax: dx = y ⊙ (g − Σ g⊙y);  log-softmax: dx = g − softmax · Σ g
        return Node.Record(y, name, x, g =>
        {
            var dx = Tensor.Uninitialized(x.Dims, backend);
            if (log) backend.LogSoftmaxBackward(y.Storage, g.Storage, outer, extent, inner, dx.Storage);
            else backend.SoftmaxBackward(y.Storage, g.Storage, outer, extent, inner, dx.Storage);
            return dx;
        }, ("dim", axis));
    }
}
