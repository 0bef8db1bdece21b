namespace ConvKit.Backends.Reference;

/// <summary>Storage of the reference backend: a managed array, like the CPU backend's, but a distinct kind so the two never mix unnoticed.</summary>
public sealed class ReferenceStorage(float[] data) : Storage
{
    /// <summary>The values, row-major.</summary>
    public float[] Data { get; } = data;
    /// <inheritdoc/>
    public override int Length => Data.Length;
    /// <inheritdoc/>
    public override IBackend Backend => ReferenceBackend.Instance;
}

/// <summary>An int32 buffer of the reference backend (<see cref="DType.Int32"/>): indices and class targets.</summary>
public sealed class ReferenceIndexStorage(int[] data) : Storage
{
    /// <summary>The values, row-major.</summary>
    public int[] Data { get; } = data;
    /// <inheritdoc/>
    public override int Length => Data.Length;
    /// <inheritdoc/>
    public override DType DType => DType.Int32;
    /// <inheritdoc/>
    public override IBackend Backend => ReferenceBackend.Instance;
}
