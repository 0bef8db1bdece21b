using ConvKit.Onnx.Import;
using ConvKit.Ops;

namespace ConvKit.Onnx.Ops;

// BatchNormalization (inference form), LayerNormalization and LRN.
static partial class Operators
{
    // Always the inference form y = (x − mean)/√(var + ε)·scale + B with the stored statistics: an imported graph
    // is an inference graph, so fine-tuning keeps the statistics frozen while scale and B learn.
    static OpKernel BatchNormalization(NodeContext node)
    {
        float epsilon = node.Float("epsilon", 1e-5f);
        if (node.Opset < 9 && node.Int("spatial", 1) != 1) throw node.Unsupported("spatial = 0 (per-element statistics) is not supported");
        if (node.Int("training_mode", 0) != 0) throw node.Unsupported("training_mode = 1 is not supported (only inference batch normalization)");
        for (int i = 1; i < node.OutputCount; i++)
            if (node.HasOutput(i)) throw node.Unsupported("the training outputs (running mean/variance, saved statistics) are not supported");
        return (inputs, _) =>
        {
            var x = node.FloatInput(inputs, 0);
            var (scale, bias, mean, variance) = (node.FloatInput(inputs, 1), node.FloatInput(inputs, 2), node.FloatInput(inputs, 3), node.FloatInput(inputs, 4));
            return [OnnxValue.Of(F.BatchNorm(x, mean, variance, scale, bias, training: false, eps: epsilon))];
        };
    }

    // LayerNormalization (opset 17): normalises over axes [axis, rank) with the biased variance; Scale and B have the
    // normalised shape (or broadcast to it). The optional outputs are the mean and 1/√(var + ε) with those axes kept as
    // size 1. stash_type (the precision of the statistics) is float32 or better here, always.
    static OpKernel LayerNormalization(NodeContext node)
    {
        long axis = node.Int("axis", -1);
        float epsilon = node.Float("epsilon", 1e-5f);
        return (inputs, _) =>
        {
            var x = node.FloatInput(inputs, 0);
            int first = Values.Axis(axis, x.Rank, node);
            int[] normalized = [.. x.Shape.Skip(first)];
            var scale = node.FloatInput(inputs, 1);
            var bias = node.HasInput(2) ? node.FloatInput(inputs, 2) : null;
            bool Broadcasts(Tensor t) => t.Rank <= normalized.Length && Enumerable.Range(1, t.Rank).All(d => t.Shape[^d] == 1 || t.Shape[^d] == normalized[^d]);
            bool Exact(Tensor t) => t.Shape.SequenceEqual(normalized);
            foreach (var (t, name) in new[] { (scale, "Scale"), (bias, "B") })
                if (t != null && !Broadcasts(t))
                    throw node.Invalid($"{name} of shape {Values.Format(t.Shape.ToArray())} does not broadcast to the normalised shape {Values.Format(normalized)} of input {Values.Format(x.Shape.ToArray())}.");
            // The fused op takes per-feature parameters of exactly the normalised shape; others are applied after it.
            bool exact = Exact(scale) && (bias == null || Exact(bias));
            var y = exact ? F.LayerNorm(x, normalized, scale, bias, epsilon) : F.LayerNorm(x, normalized, eps: epsilon) * scale;
            if (!exact && bias != null) y += bias;
            if (!node.HasOutput(1) && !node.HasOutput(2)) return [OnnxValue.Of(y)];
            int[] axes = [.. Enumerable.Range(first, x.Rank - first)];
            var mean = F.Mean(x, axes, keepDim: true);
            var invStd = 1f / F.Sqrt(F.Var(x, axes, correction: 0, keepDim: true) + epsilon);
            return [OnnxValue.Of(y), node.HasOutput(1) ? OnnxValue.Of(mean) : null, node.HasOutput(2) ? OnnxValue.Of(invStd) : null];
        };
    }

    static OpKernel Lrn(NodeContext node)
    {
        long size = node.Int("size", 0);
        float alpha = node.Float("alpha", 1e-4f), beta = node.Float("beta", 0.75f), bias = node.Float("bias", 1f);
        if (size < 1) throw new InvalidDataException($"ONNX LRN node '{node.Name}': size must be a positive integer, got {size}.");
        // ONNX sums channels c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉; ConvKit (as PyTorch) c − ⌊size/2⌋ … — the same window only for odd sizes.
        if (size % 2 == 0) throw node.Unsupported($"an even size ({size}) is not supported");
        return FloatUnary(node, x => F.LocalResponseNorm(x, (int)size, alpha, beta, bias));
    }
}
