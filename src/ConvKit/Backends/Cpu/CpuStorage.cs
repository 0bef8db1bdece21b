namespace ConvKit.Backends.Cpu;

/// <summary>Storage in a managed array: garbage-collected, no native memory to dispose.</summary>
public sealed class CpuStorage(float[] data) : Storage
{
    /// <summary>The values, row-major.</summary>
    public float[] Data { get; } = data;
    /// <inheritdoc/>
    public override int Length => Data.Length;
    /// <inheritdoc/>
    public override IBackend Backend => CpuBackend.Instance;
}

/// <summary>An int32 buffer in a managed array (<see cref="DType.Int32"/>): indices and class targets.</summary>
public sealed class CpuIndexStorage(int[] data) : Storage
{
    /// <summary>The values, row-major.</summary>
    public int[] Data { get; } = data;
    /// <inheritdoc/>
    public override int Length => Data.Length;
    /// <inheritdoc/>
    public override DType DType => DType.Int32;
    /// <inheritdoc/>
    public override IBackend Backend => CpuBackend.Instance;
}
