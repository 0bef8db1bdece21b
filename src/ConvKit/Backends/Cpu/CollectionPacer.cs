namespace ConvKit.Backends.Cpu;

/// <summary>
/// Runs a full garbage collection each time <see cref="CollectEvery"/> bytes of large arrays have been allocated since
/// the last one. A big network's activations and gradients live on the large-object heap, which only a full collection
/// reclaims, and the runtime's own pacing let spent ones pile up: a training step's forward pass ran none at all, so its
/// dropped activations (a ReLU's input, an evaluation pass's every layer) stayed resident until the backward walk, and
/// the backward walk's last, largest activations until the next step's forward. Paced by what is allocated, the garbage
/// on that heap stays below <see cref="CollectEvery"/> whatever runs (training, <c>NoGrad</c> evaluation, inference).
/// Arrays below the large-object threshold are the ordinary collections' business: small networks (LeNet-5 at batch 64)
/// never allocate one and pay nothing.
/// </summary>
static class CollectionPacer
{
    /// <summary>Bytes of large arrays between two collections (ResNet-18, batch 32 at 224×224: a collection every 5–10 layers).</summary>
    const long CollectEvery = 128L << 20;

    /// <summary>The runtime's large-object threshold (the convkit command asks for 32 MB; .NET 10 reported 4 MB, its region size).</summary>
    static readonly long LargeObjectBytes = GC.GetConfigurationVariables().TryGetValue("LOHThreshold", out var value)
        ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) : 85_000;

    static long allocated;
    static int fullCollections;

    /// <summary>Counts an array of <paramref name="length"/> floats about to be allocated, collecting first when it is due.</summary>
    public static void Allocating(int length)
    {
        long bytes = (long)length * sizeof(float);
        if (bytes < LargeObjectBytes) return;
        // A full collection the runtime ran by itself has reclaimed the garbage too.
        int collections = GC.CollectionCount(2);
        if (collections != Volatile.Read(ref fullCollections))
        {
            Volatile.Write(ref fullCollections, collections);
            Interlocked.Exchange(ref allocated, 0);
        }
        if (Interlocked.Add(ref allocated, bytes) < CollectEvery) return;
        Interlocked.Exchange(ref allocated, bytes);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: false);
        Volatile.Write(ref fullCollections, GC.CollectionCount(2));
    }
}
