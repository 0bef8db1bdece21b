using ConvKit.Onnx.Import;
using ConvKit.Ops;

namespace ConvKit.Onnx.Ops;

// BatchNormalization (inference form) and LRN.
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
