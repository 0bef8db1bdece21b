using ILGPU;
using ILGPU.Runtime;

namespace ConvKit.Backends.Gpu;

/// <summary>
/// Storage of a <see cref="GpuBackend"/>: a buffer in the accelerator's memory, of float32 values or of int32 ones
/// (<see cref="DType.Int32"/>). Its values stay there; they reach the host only through the backend's copies
/// (<see cref="IBackend.CopyTo"/>, <see cref="IBackend.GetItem"/>). When the storage is released
/// (<see cref="IBackend.Release"/>) or collected, its buffer goes back to the backend's pool instead of being freed, as
/// a caching allocator does: the garbage collector decides when a tensor is dead, the pool makes the next allocation
/// of that length free of a driver call.
/// </summary>
public sealed class GpuStorage : Storage
{
    readonly GpuBackend backend;
    int returned;

    // ILGPU has no empty buffers, so an empty storage holds one unused value; its view is empty.
    internal GpuStorage(GpuBackend backend, MemoryBuffer buffer, DType type, int length)
    {
        this.backend = backend;
        Buffer = buffer;
        DType = type;
        if (type == DType.Int32) Ints = ((MemoryBuffer1D<int, Stride1D.Dense>)buffer).View.BaseView.SubView(0, length);
        else Floats = ((MemoryBuffer1D<float, Stride1D.Dense>)buffer).View.BaseView.SubView(0, length);
    }

    /// <summary>Hands the buffer to the pool when the storage is collected.</summary>
    ~GpuStorage() => Return();

    internal MemoryBuffer Buffer { get; }
    /// <summary>The values of a float32 storage (empty for an int32 one).</summary>
    internal ArrayView<float> Floats { get; }
    /// <summary>The values of an int32 storage (empty for a float32 one).</summary>
    internal ArrayView<int> Ints { get; }

    /// <inheritdoc/>
    public override int Length => (int)(DType == DType.Int32 ? Ints.Length : Floats.Length);
    /// <inheritdoc/>
    public override DType DType { get; }
    /// <inheritdoc/>
    public override IBackend Backend => backend;

    /// <summary>Hands the buffer to the pool, once: when released (a second release does nothing) or collected.</summary>
    internal void Return()
    {
        if (Interlocked.Exchange(ref returned, 1) != 0) return;
        GC.SuppressFinalize(this);
        backend.Recycle(Buffer, DType, Length);
    }
}
