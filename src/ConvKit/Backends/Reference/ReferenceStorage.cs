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
