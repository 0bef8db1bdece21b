using ConvKit.NN;

namespace ConvKit.Vision.Faces;

/// <summary>
/// The tensors of a TF.js model (<see cref="IO.TfjsWeights"/>) put into ConvKit layers: TF.js keeps filters as HWIO
/// (kh, kw, in, out), depthwise filters as (kh, kw, C, 1) and dense weights as (in, out); ConvKit wants OIHW,
/// (C, 1, kh, kw) and (out, in), so W[o, i, y, x] = file[y, x, i, o]. Every tensor taken is checked for its name and
/// shape, and the model must use every tensor of the file.
/// </summary>
sealed class TfjsWeightMap(IReadOnlyDictionary<string, Tensor> tensors, string model)
{
    readonly HashSet<string> used = [];

    /// <summary>The tensor <paramref name="name"/>, checked to have <paramref name="shape"/>.</summary>
    public Tensor Take(string name, params int[] shape)
    {
        if (!tensors.TryGetValue(name, out var tensor))
            throw new InvalidDataException($"{model}: the weights have no tensor '{name}' {Format(shape)}; they are not this model's.");
        if (!tensor.Shape.SequenceEqual(shape))
            throw new InvalidDataException($"{model}: tensor '{name}' has shape {Format([.. tensor.Shape])}, expected {Format(shape)}.");
        used.Add(name);
        return tensor;
    }

    /// <summary>A (kh, kw, in, out) filter as (out, in, kh, kw).</summary>
    public Tensor Filter(string name, int kernel, int inChannels, int outChannels) =>
        Take(name, kernel, kernel, inChannels, outChannels).Permute(3, 2, 0, 1);

    /// <summary>A depthwise (kh, kw, C, 1) filter as (C, 1, kh, kw).</summary>
    public Tensor DepthwiseFilter(string name, int kernel, int channels) =>
        Take(name, kernel, kernel, channels, 1).Permute(2, 3, 0, 1);

    /// <summary>Copies <paramref name="weight"/> (and <paramref name="bias"/>) into <paramref name="conv"/>.</summary>
    public static void Load(Conv2d conv, Tensor weight, Tensor? bias)
    {
        using var _ = Tensor.NoGrad();
        conv.Weight.CopyFrom(weight);
        if (bias != null) conv.Bias!.CopyFrom(bias);
    }

    static string Format(IEnumerable<int> shape) => $"[{string.Join(", ", shape)}]";

    /// <summary>Throws when the file holds tensors the model did not take (the file is for another configuration).</summary>
    public void CheckAllUsed()
    {
        var unused = tensors.Keys.Where(name => !used.Contains(name)).Order(StringComparer.Ordinal).ToList();
        if (unused.Count > 0)
            throw new InvalidDataException($"{model}: the weights hold tensors this model does not use: {string.Join(", ", unused.Take(5))}{(unused.Count > 5 ? ", ..." : "")}.");
    }
}
