using ConvKit.Autograd;

namespace ConvKit.Ops;

// Fully connected layer: input (*, in), weight (out, in) as in PyTorch, bias (out) → (*, out).
// All leading axes are folded into the rows of one GEMM; the weight is read transposed in place.
public static partial class F
{
    /// <summary>y = x·Wᵀ + b. <paramref name="input"/> (*, in), <paramref name="weight"/> (out, in), <paramref name="bias"/> (out) → (*, out).</summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null)
    {
        if (weight.Rank != 2)
            throw new ArgumentException($"Linear: weight must have shape (out, in), got {weight.ShapeString}.");
        int outFeatures = weight.Dims[0], inFeatures = weight.Dims[1];
        if (input.Rank == 0 || input.Dims[^1] != inFeatures)
            throw new ArgumentException(
                $"Linear: input shape {input.ShapeString} does not match weight shape {weight.ShapeString} (expected the last axis to be {inFeatures}).");
        if (bias != null && !bias.HasShape([outFeatures]))
            throw new ArgumentException($"Linear: bias shape {bias.ShapeString} does not match weight shape {weight.ShapeString} (expected [{outFeatures}]).");
        var backend = SameBackend(input, weight, "Linear");
        if (bias != null) SameBackend(input, bias, "Linear");

        int rows = Shapes.Numel(input.Dims[..^1]);
        var y = Tensor.Empty([.. input.Dims[..^1], outFeatures], backend);
        // The bias is broadcast into the output first and the GEMM accumulates onto it (beta = 1).
        if (bias != null) backend.Expand(bias.Storage, bias.Dims, y.Storage, [rows, outFeatures]);
        backend.Gemm(false, true, rows, outFeatures, inFeatures, 1f, input.Storage, 0, inFeatures,
            weight.Storage, 0, inFeatures, bias != null ? 1f : 0f, y.Storage, 0, outFeatures);

        Tensor[] inputs = bias != null ? [input, weight, bias] : [input, weight];
        return Node.Record(y, "Linear", [input, weight, bias], inputs, g =>
        {
            Tensor? dInput = null, dWeight = null, dBias = null;
            if (input.RequiresGrad)
            {
                // dX (rows, in) = G (rows, out) · W (out, in)
                dInput = Tensor.Empty(input.Dims, backend);
                backend.Gemm(false, false, rows, inFeatures, outFeatures, 1f, g.Storage, 0, outFeatures,
                    weight.Storage, 0, inFeatures, 0f, dInput.Storage, 0, inFeatures);
            }
            if (weight.RequiresGrad)
            {
                // dW (out, in) = Gᵀ (out, rows) · X (rows, in)
                dWeight = Tensor.Empty(weight.Dims, backend);
                backend.Gemm(true, false, outFeatures, inFeatures, rows, 1f, g.Storage, 0, outFeatures,
                    input.Storage, 0, inFeatures, 0f, dWeight.Storage, 0, inFeatures);
            }
            if (bias is { RequiresGrad: true }) dBias = Sum(g.Reshape(rows, outFeatures), [0]);
            return bias != null ? [dInput, dWeight, dBias] : [dInput, dWeight];
        });
    }
}
