namespace ConvKit.Backends.Cpu;

/// <summary>How many cores the CPU kernels may use.</summary>
public static class Threading
{
    static int numThreads = Environment.ProcessorCount;

    /// <summary>Threads used by parallel kernels (GEMM, convolution); defaults to the processor count.</summary>
    public static int NumThreads
    {
        get => numThreads;
        set => numThreads = value >= 1 ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "NumThreads must be at least 1.");
    }
}
