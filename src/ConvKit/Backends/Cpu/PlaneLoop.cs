namespace ConvKit.Backends.Cpu;

/// <summary>
/// Runs a kernel over independent items (image planes, channels, chunks of a flat array), in parallel over
/// <see cref="Threading.NumThreads"/> cores when there is enough work to repay the hand-off.
/// </summary>
static class PlaneLoop
{
    // Below this many values in all, one thread is faster than waking others (memory-bound loops run ~1 ns per value).
    const long ParallelThreshold = 1 << 16;
    const int ChunkLength = 1 << 15;

    public static void For(int count, long valuesPerItem, Action<int> body)
    {
        int threads = Math.Min(Threading.NumThreads, count);
        if (threads <= 1 || count * valuesPerItem < ParallelThreshold)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, body);
    }

    /// <summary>Calls body(start, length) on consecutive chunks covering [0, <paramref name="length"/>).</summary>
    public static void ForChunks(int length, Action<int, int> body)
    {
        int chunks = (length + ChunkLength - 1) / ChunkLength;
        For(chunks, ChunkLength, i => body(i * ChunkLength, Math.Min(ChunkLength, length - i * ChunkLength)));
    }
}
