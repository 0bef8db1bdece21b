namespace ConvKit.Optim;

/// <summary>Reads the one-element entries (hyper-parameters, counters) of optimiser and schedule state dicts.</summary>
static class StateNumbers
{
    /// <summary>The number stored under <paramref name="key"/>; <paramref name="invalid"/> builds the exception for a missing or non-scalar entry.</summary>
    public static double Read(IReadOnlyDictionary<string, Tensor> state, string key, Func<string, Exception> invalid)
    {
        if (!state.TryGetValue(key, out var tensor)) throw invalid($"the entry '{key}' is missing");
        if (tensor.Numel != 1) throw invalid($"'{key}' should hold one number but has shape {tensor.ShapeString}");
        return tensor.Item();
    }

    /// <summary>A count: a whole number ≥ 0 (stored as float32, so exact below 2²⁴).</summary>
    public static long ReadCount(IReadOnlyDictionary<string, Tensor> state, string key, Func<string, Exception> invalid)
    {
        double value = Read(state, key, invalid);
        return value >= 0 && value <= int.MaxValue && value == Math.Floor(value) ? (long)value
            : throw invalid($"'{key}' should be a whole number ≥ 0, not {value}");
    }
}
