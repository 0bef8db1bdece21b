using System.Text.Json;
using ConvKit.Tests;

namespace ConvKit.Vision.Tests.Models;

/// <summary>
/// The closed-form weights of tools/fixtures/gen_zoo.py, so that a model and its torchvision twin hold identical
/// values without committing weights: entry k of a state dict, element i, gets s = lowbias32(i + k·0x9E3779B9)/2³¹ − 1
/// scaled by the entry's kind (see the generator's docstring). Inputs use the fixture's input key and s itself.
/// </summary>
static class TorchPattern
{
    public static JsonElement Fixture { get; } = Fixtures.Load("zoo.json");

    static double S(uint i, uint key)
    {
        uint x = unchecked(i + key * 0x9E3779B9u);
        x ^= x >> 16;
        x = unchecked(x * 0x7FEB352Du);
        x ^= x >> 15;
        x = unchecked(x * 0x846CA68Bu);
        x ^= x >> 16;
        return x * (1.0 / 2147483648.0) - 1.0;
    }

    /// <summary>The pattern s for key <paramref name="key"/>, element i, mapped through <paramref name="scale"/>.</summary>
    public static Tensor Pattern(int[] shape, uint key, Func<double, double> scale)
    {
        int numel = shape.Aggregate(1, (a, b) => a * b);
        var values = new float[numel];
        Parallel.For(0, numel, i => values[i] = (float)scale(S((uint)i, key)));
        return shape.Length == 0 ? Tensor.Scalar(values[0]) : Tensor.FromArray(values, shape);
    }

    static Tensor Entry(string name, int[] shape, uint key)
    {
        int fanIn = shape.Length >= 2 ? shape.Aggregate(1, (a, b) => a * b) / shape[0] : 0;
        return Pattern(shape, key,
            name.EndsWith("running_var") ? s => 1.0 + 0.5 * s
            : name.EndsWith("running_mean") ? s => 0.1 * s
            : name.EndsWith("num_batches_tracked") ? s => 0.0 * s
            : shape.Length >= 2 ? s => Math.Sqrt(6.0 / fanIn) * s
            : name.EndsWith("weight") ? s => 1.0 + 0.2 * s
            : s => 0.1 * s);
    }

    /// <summary>The (name, shape) list of PyTorch's state dict for <paramref name="model"/>, in its order.</summary>
    public static List<(string Name, int[] Shape)> StateEntries(string model) =>
        Fixture.GetProperty("models").GetProperty(model).GetProperty("state").EnumerateArray()
            .Select(e => (e[0].GetString()!, Fixtures.Ints(e[1]))).ToList();

    /// <summary>
    /// A state dict with PyTorch's names and shapes for <paramref name="model"/>, holding the pattern; only the entries
    /// <paramref name="include"/> picks, when given (keys stay those of the whole state dict).
    /// </summary>
    public static Dictionary<string, Tensor> StateDict(string model, Func<string, bool>? include = null) =>
        StateEntries(model).Select((e, k) => (e.Name, e.Shape, Key: (uint)k)).Where(e => include?.Invoke(e.Name) ?? true)
            .ToDictionary(e => e.Name, e => Entry(e.Name, e.Shape, e.Key));

    public static Tensor Input(int[] shape) => Pattern(shape, (uint)Fixture.GetProperty("input_key").GetInt32(), s => s);
}
