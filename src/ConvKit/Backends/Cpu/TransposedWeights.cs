using System.Runtime.CompilerServices;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// Convolution weights kept transposed beside their storage, as ONNX Runtime packs its weights once at load: the
/// turned product of a lone image (<see cref="CpuBackend"/>'s ConvForwardTurned) then reads Wᵀ in place, where it
/// transposed all of W into the GEMM's panels on every call (ResNet-50's 3×3 convolution at 7×7, 9.4 MB of weights:
/// 1.86 → 1.57 ms on one thread, Zen 5). The copy follows the storage's <see cref="Storage.Version"/>: after an optimiser
/// step, or any other in-place write, the next call transposes again into the same array, so a training step costs
/// what it did before and repeated inference nothing. The copy lives as long as the storage. Depthwise filters are kept
/// the same way in blocks of channels (<see cref="InBlocks"/>; laying them out cost 20–50 µs a call, up to half of a
/// 7×7 layer's time).
/// </summary>
static class TransposedWeights
{
    sealed record Entry(int Version, int Blocks, float[] Values);

    static readonly ConditionalWeakTable<Storage, Entry> Cache = new();

    /// <summary>Wᵀ (columns × rows) of the rows × columns weights <paramref name="w"/> held by <paramref name="weight"/>.</summary>
    public static float[] Of(Storage weight, float[] w, int rows, int columns) =>
        Cached(weight, 0, rows * columns, values => BlockTranspose.Run(w, columns, rows, columns, values, rows));

    /// <summary>
    /// The rows × columns weights in blocks of <paramref name="lanes"/> rows, each block transposed (columns × lanes,
    /// the last block padded with zeros): a depthwise filter's taps, a vector of <paramref name="lanes"/> channels a tap.
    /// </summary>
    public static float[] InBlocks(Storage weight, float[] w, int rows, int columns, int lanes) =>
        Cached(weight, lanes, (rows + lanes - 1) / lanes * lanes * columns, values =>
        {
            Array.Clear(values);
            for (int block = 0; block * lanes < rows; block++)
                BlockTranspose.Run(w.AsSpan(block * lanes * columns), columns, Math.Min(lanes, rows - block * lanes), columns,
                    values.AsSpan(block * lanes * columns), lanes);
        });

    static float[] Cached(Storage weight, int blocks, int length, Action<float[]> write)
    {
        int version = weight.Version;
        if (Cache.TryGetValue(weight, out var entry) && entry.Blocks == blocks && entry.Values.Length == length && entry.Version == version)
            return entry.Values;
        var values = entry?.Values.Length == length ? entry.Values : GC.AllocateUninitializedArray<float>(length);
        write(values);
        Cache.AddOrUpdate(weight, new Entry(version, blocks, values));
        return values;
    }
}
