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
    // Lanes: 0 for Wᵀ, minus the unit width for InConvBlocks, else the block size of InBlocks.
    sealed record Entry(int Version, int Lanes, float[] Values);

    static readonly ConditionalWeakTable<Storage, Entry> Cache = new();

    /// <summary>Wᵀ (columns × rows) of the rows × columns weights <paramref name="w"/> held by <paramref name="weight"/>.</summary>
    public static float[] Of(Storage weight, float[] w, int rows, int columns) =>
        Cached(weight, 0, rows * columns, (w, rows, columns), static (values, s) => BlockTranspose.Run(s.w, s.columns, s.rows, s.columns, values, s.rows));

    /// <summary>
    /// The rows × columns weights in blocks of <paramref name="lanes"/> rows, each block transposed (columns × lanes,
    /// the last block padded with zeros): a depthwise filter's taps, a vector of <paramref name="lanes"/> channels a tap.
    /// </summary>
    public static float[] InBlocks(Storage weight, float[] w, int rows, int columns, int lanes) =>
        Cached(weight, lanes, (rows + lanes - 1) / lanes * lanes * columns, (w, rows, columns, lanes), static (values, s) =>
        {
            Array.Clear(values);
            for (int block = 0; block * s.lanes < s.rows; block++)
                BlockTranspose.Run(s.w.AsSpan(block * s.lanes * s.columns), s.columns, Math.Min(s.lanes, s.rows - block * s.lanes), s.columns,
                    values.AsSpan(block * s.lanes * s.columns), s.lanes);
        });

    /// <summary>The (C_out, C_in/groups, kH, kW) weights in the order <see cref="BlockedConv"/>'s tiles read them (<see cref="BlockedConv.LayWeights"/>).</summary>
    public static float[] InConvBlocks(Storage weight, float[] w, in ConvGeometry g) =>
        Cached(weight, -BlockedConv.UnitWidth(g), g.OutChannels * g.ColumnRows, (w, g), static (values, s) => BlockedConv.LayWeights(s.w, s.g, values));

    // The copy of weight laid out as write lays it out (from the operands in state: no closure to allocate on a hit).
    static float[] Cached<TState>(Storage weight, int lanes, int length, TState state, Action<float[], TState> write)
    {
        int version = weight.Version;
        if (Cache.TryGetValue(weight, out var entry) && entry.Lanes == lanes && entry.Values.Length == length && entry.Version == version)
            return entry.Values;
        var values = entry?.Values.Length == length ? entry.Values : GC.AllocateUninitializedArray<float>(length);
        write(values, state);
        Cache.AddOrUpdate(weight, new Entry(version, lanes, values));
        return values;
    }
}
