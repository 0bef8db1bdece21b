using ConvKit.Autograd;

namespace ConvKit.Ops;

// Normalisation: batch norm over (N, C) and (N, C, *) inputs, local response norm across channels (both read the
// input as (batch, channels, spatial), spatial being the product of the axes after C), and layer norm over the
// trailing axes (read as (rows, features)).
public static partial class F
{
    /// <summary>
    /// Batch normalisation: y = (x − mean)/√(var + eps)·weight + bias per channel (axis 1).
    /// In training the mean and biased variance come from this batch (over every axis but 1) and, when given,
    /// the running buffers are updated in place: running = (1 − momentum)·running + momentum·batch statistic,
    /// using the unbiased variance for runningVar (PyTorch's convention). In evaluation the running
    /// statistics are used and left alone.
    /// </summary>
    /// <param name="input">(N, C) or (N, C, *)</param>
    /// <param name="runningMean">(C) or null; updated in place in training</param>
    /// <param name="runningVar">(C) or null; given together with <paramref name="runningMean"/></param>
    /// <param name="weight">(C) or null (1)</param>
    /// <param name="bias">(C) or null (0)</param>
    /// <returns>input's shape</returns>
    public static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        bool training, float momentum = 0.1f, float eps = 1e-5f) =>
        BatchNormCore(input, runningMean, runningVar, weight, bias, training, momentum, eps, batchesTracked: null);

    /// <summary>
    /// <see cref="BatchNorm(Tensor, Tensor?, Tensor?, Tensor?, Tensor?, bool, float, float)"/>; with
    /// <paramref name="batchesTracked"/> (a one-element count on the input's backend) the running statistics are a
    /// cumulative average, momentum = 1/count computed there, so no value is read back to the host.
    /// </summary>
    internal static Tensor BatchNormCore(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        bool training, float momentum, float eps, Tensor? batchesTracked)
    {
        var (batch, channels, spatial) = BatchNormShape(input, runningMean, runningVar, weight, bias);
        if (!training && runningMean == null)
            throw new ArgumentException("BatchNorm: evaluation mode needs runningMean and runningVar.");
        long count = (long)batch * spatial;
        if (training && count <= 1)
            throw new ArgumentException($"BatchNorm: expected more than 1 value per channel when training, got input of shape {input.ShapeString}.");

        var backend = input.Backend;
        Tensor mean, invStd;
        using (Tensor.NoGrad())
        {
            if (training)
            {
                mean = Tensor.Empty([channels], backend);
                var variance = Tensor.Empty([channels], backend);
                backend.BatchNormStatistics(input.Storage, batch, channels, spatial, mean.Storage, variance.Storage);
                invStd = 1f / Sqrt(variance + eps);
                if (runningMean != null && runningVar != null && batchesTracked != null)
                {
                    var factor = 1f / batchesTracked;
                    runningMean.CopyFrom(runningMean * (1f - factor) + mean * factor);
                    runningVar.CopyFrom(runningVar * (1f - factor) + variance * (factor * count / (count - 1f)));
                }
                else if (runningMean != null && runningVar != null)
                {
                    runningMean.CopyFrom(runningMean * (1f - momentum) + mean * momentum);
                    runningVar.CopyFrom(runningVar * (1f - momentum) + variance * (momentum * count / (count - 1f)));
                }
            }
            else
            {
                // Copies, so the backward pass sees the statistics this forward pass used.
                mean = runningMean!.Detach().Clone();
                invStd = 1f / Sqrt(runningVar!.Detach() + eps);
            }
        }

        var y = Tensor.Uninitialized(input.Dims, backend); // every value is written below
        backend.BatchNormNormalize(input.Storage, batch, channels, spatial, mean.Storage, invStd.Storage, weight?.Storage, bias?.Storage, y.Storage);

        var inputs = new List<Tensor> { input };
        if (weight != null) inputs.Add(weight);
        if (bias != null) inputs.Add(bias);
        return Node.Record(y, "BatchNorm", [input, weight, bias, runningMean, runningVar], [.. inputs], g =>
        {
            var gradInput = input.RequiresGrad ? Tensor.Empty(input.Dims, backend) : null;
            var gradWeight = Tensor.Empty([channels], backend);
            var gradBias = Tensor.Empty([channels], backend);
            backend.BatchNormBackward(input.Storage, g.Storage, batch, channels, spatial, mean.Storage, invStd.Storage,
                weight?.Storage, training, gradInput?.Storage, gradWeight.Storage, gradBias.Storage);
            var grads = new List<Tensor?> { gradInput };
            if (weight != null) grads.Add(weight.RequiresGrad ? gradWeight : null);
            if (bias != null) grads.Add(bias.RequiresGrad ? gradBias : null);
            return [.. grads];
        }, ("training", training), ("momentum", momentum), ("eps", eps));
    }

    static (int Batch, int Channels, int Spatial) BatchNormShape(Tensor input, params Tensor?[] perChannel)
    {
        if (input.Rank < 2)
            throw new ArgumentException($"BatchNorm: expected an input of shape (N, C) or (N, C, *), got {input.ShapeString}.");
        int channels = input.Dims[1];
        string[] names = ["runningMean", "runningVar", "weight", "bias"];
        for (int i = 0; i < perChannel.Length; i++)
        {
            var t = perChannel[i];
            if (t == null) continue;
            if (!t.HasShape([channels]))
                throw new ArgumentException($"BatchNorm: {names[i]} must have shape [{channels}] for input of shape {input.ShapeString}, got {t.ShapeString}.");
            SameBackend(input, t, "BatchNorm");
        }
        if ((perChannel[0] == null) != (perChannel[1] == null))
            throw new ArgumentException("BatchNorm: runningMean and runningVar must be given together.");
        int spatial = input.Dims[2..].Aggregate(1, (a, b) => a * b);
        return (input.Dims[0], channels, spatial);
    }

    /// <summary>
    /// Local response normalisation across channels, as torch.nn.functional.local_response_norm:
    /// y = x / (k + alpha/size · Σ x²)^beta, the sum over channels c − size/2 … c + (size−1)/2 (zeros beyond the edges).
    /// </summary>
    /// <param name="input">(N, C, *) with at least one axis after C</param>
    /// <returns>input's shape</returns>
    public static Tensor LocalResponseNorm(Tensor input, int size, float alpha = 1e-4f, float beta = 0.75f, float k = 1f)
    {
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), $"LocalResponseNorm: size must be positive, got {size}.");
        if (input.Rank < 3)
            throw new ArgumentException($"LocalResponseNorm: expected an input of shape (N, C, *) with at least 3 axes, got {input.ShapeString}.");
        int batch = input.Dims[0], channels = input.Dims[1], spatial = input.Dims[2..].Aggregate(1, (a, b) => a * b);
        var backend = input.Backend;
        var y = Tensor.Empty(input.Dims, backend);
        var scale = backend.Allocate(input.Numel);
        backend.LocalResponseNorm(input.Storage, batch, channels, spatial, size, alpha, beta, k, y.Storage, scale);
        return Node.Record(y, "LocalResponseNorm", input, g =>
        {
            var gradInput = Tensor.Empty(input.Dims, backend);
            backend.LocalResponseNormBackward(input.Storage, y.Storage, scale, g.Storage, batch, channels, spatial, size, alpha, beta, gradInput.Storage);
            return gradInput;
        }, ("size", size), ("alpha", alpha), ("beta", beta), ("k", k));
    }

    /// <summary>
    /// Layer normalisation over the trailing axes, as torch.nn.functional.layer_norm: each slice of shape
    /// <paramref name="normalizedShape"/> is normalised by its own mean and biased variance,
    /// y = (x − mean)/√(var + eps)·weight + bias (ConvNeXt's and the transformers' normalisation; ONNX
    /// LayerNormalization with axis = −normalizedShape.Length).
    /// </summary>
    /// <param name="input">(*, normalizedShape)</param>
    /// <param name="normalizedShape">the trailing axes to normalise over (at least one)</param>
    /// <param name="weight">normalizedShape or null (1)</param>
    /// <param name="bias">normalizedShape or null (0)</param>
    /// <returns>input's shape</returns>
    public static Tensor LayerNorm(Tensor input, int[] normalizedShape, Tensor? weight = null, Tensor? bias = null, float eps = 1e-5f)
    {
        string expected = "[" + string.Join(", ", normalizedShape) + "]";
        if (normalizedShape.Length == 0 || normalizedShape.Any(d => d < 1))
            throw new ArgumentException($"LayerNorm: normalizedShape must list at least one positive size, got {expected}.");
        if (input.Rank < normalizedShape.Length || !input.Dims[^normalizedShape.Length..].SequenceEqual(normalizedShape))
            throw new ArgumentException($"LayerNorm: the trailing axes of input of shape {input.ShapeString} must be normalizedShape {expected}.");
        foreach (var (t, name) in new[] { (weight, "weight"), (bias, "bias") })
        {
            if (t == null) continue;
            if (!t.HasShape(normalizedShape))
                throw new ArgumentException($"LayerNorm: {name} must have shape {expected} (normalizedShape), got {t.ShapeString}.");
            SameBackend(input, t, "LayerNorm");
        }
        int features = normalizedShape.Aggregate(1, (a, b) => a * b), rows = input.Numel / features;
        var backend = input.Backend;
        var y = Tensor.Uninitialized(input.Dims, backend);
        var mean = backend.AllocateUninitialized(rows);
        var invStd = backend.AllocateUninitialized(rows);
        backend.LayerNorm(input.Storage, rows, features, weight?.Storage, bias?.Storage, eps, y.Storage, mean, invStd);

        var inputs = new List<Tensor> { input };
        if (weight != null) inputs.Add(weight);
        if (bias != null) inputs.Add(bias);
        return Node.Record(y, "LayerNorm", [input, weight, bias], [.. inputs], g =>
        {
            var gradInput = input.RequiresGrad ? Tensor.Uninitialized(input.Dims, backend) : null;
            var gradWeight = weight is { RequiresGrad: true } ? Tensor.Uninitialized(normalizedShape, backend) : null;
            var gradBias = bias is { RequiresGrad: true } ? Tensor.Uninitialized(normalizedShape, backend) : null;
            backend.LayerNormBackward(input.Storage, g.Storage, rows, features, mean, invStd, weight?.Storage,
                gradInput?.Storage, gradWeight?.Storage, gradBias?.Storage);
            var grads = new List<Tensor?> { gradInput };
            if (weight != null) grads.Add(gradWeight);
            if (bias != null) grads.Add(gradBias);
            return [.. grads];
        }, ("normalizedShape", normalizedShape.ToArray()), ("eps", eps));
    }
}
