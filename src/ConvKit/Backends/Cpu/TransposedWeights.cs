using System.Runtime.CompilerServices;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// Convolution weights kept transposed beside their storage, as ONNX Runtime packs its weights once at load: the
/// turned product of a lone image (<see cref="CpuBackend"/>'s ConvForwardTurned) then reads Wᵀ in place, where it
/// transposed all of W into the GEMM's panels on every call (ResNet-50's 3×3 convolution at 7×7, 9.4 MB of weights:
/// 1.86 → 1.57 ms on one thread, Zen 5). The copy follows the storage's <see cref="Storage.Version"/>: after an optimiser
/// step, or any other in-place write, the next call transposes again into the same array, so a training step costs
/// what it did before and repeated inference nothing. The copy lives as long as the storage.
/// </summary>
static class TransposedWeights
{
    sealed record Entry(int Version, float[] Values);

    static readonly ConditionalWeakTable<Storage, Entry> Cache = new();

    /// <summary>Wᵀ (columns × rows) of the rows × columns weights <paramref name="w"/> held by <paramref name="weight"/>.</summary>
    public static float[] Of(Storage weight, float[] w, int rows, int columns)
    {
        int version = weight.Version, length = rows * columns;
        if (Cache.TryGetValue(weight, out var entry) && entry.Values.Length == length && entry.Version == version) return entry.Values;
        var values = entry?.Values.Length == length ? entry.Values : GC.AllocateUninitializedArray<float>(length);
        BlockTranspose.Run(w, columns, rows, columns, values, rows);
        Cache.AddOrUpdate(weight, new Entry(version, values));
        return values;
    }
}
