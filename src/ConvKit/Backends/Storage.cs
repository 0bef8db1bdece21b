namespace ConvKit.Backends;

/// <summary>
/// A flat buffer owned by one backend: float32 values, or int32 values (<see cref="DType.Int32"/>: indices and class
/// targets, exact beyond float32's 2²⁴). Tensors share storage for cheap views.
/// </summary>
public abstract class Storage
{
    /// <summary>
    /// The count of in-place writes, in an object of its own so that a graph node can check it without holding the
    /// values: a node keeps its operands' counters, and their storages go once nothing that needs the values holds them.
    /// </summary>
    internal sealed class VersionCounter
    {
        int value;
        internal int Value => Volatile.Read(ref value);
        internal void Increment() => Interlocked.Increment(ref value);
    }

    internal readonly VersionCounter Versions = new();

    /// <summary>Number of elements.</summary>
    public abstract int Length { get; }

    /// <summary>What each element is: float32 unless the backend made an index buffer (<see cref="IBackend.AllocateIndices"/>).</summary>
    public virtual DType DType => DType.Float32;

    /// <summary>The backend whose kernels can read and write this storage.</summary>
    public abstract IBackend Backend { get; }

    /// <summary>
    /// How many times values already here were overwritten in place (optimiser steps, <c>AddInPlace</c>, <c>CopyFrom</c>,
    /// in-place ReLU, the indexer, initialisers, loading a state dict). Backward compares it with the version an op saw,
    /// and a kernel may keep data derived from these values (packed weights) for as long as it is unchanged.
    /// </summary>
    public int Version => Versions.Value;

    /// <summary>Counts one in-place write; every write into storage that may already be in use must call it.</summary>
    internal void BumpVersion() => Versions.Increment();
}
