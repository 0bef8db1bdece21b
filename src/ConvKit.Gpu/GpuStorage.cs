using ILGPU;
using ILGPU.Runtime;

namespace ConvKit.Backends.Gpu;

/// <summary>
/// Storage of a <see cref="GpuBackend"/>: a buffer in the accelerator's memory. Its values stay there; they reach the
/// host only through the backend's copies (<see cref="IBackend.CopyTo"/>, <see cref="IBackend.GetItem"/>).
/// </summary>
public sealed class GpuStorage : Storage
{
    readonly GpuBackend backend;

    // ILGPU has no empty buffers, so an empty storage holds one unused value; its view is empty.
    internal GpuStorage(GpuBackend backend, MemoryBuffer1D<float, Stride1D.Dense> buffer, int length)
    {
        this.backend = backend;
        Buffer = buffer;
        View = buffer.View.BaseView.SubView(0, length);
    }

    internal MemoryBuffer1D<float, Stride1D.Dense> Buffer { get; }
    internal ArrayView<float> View { get; }
    /// <inheritdoc/>
    public override int Length => (int)View.Length;
    /// <inheritdoc/>
    public override IBackend Backend => backend;
}

/// <summary>An int32 buffer of a <see cref="GpuBackend"/> (<see cref="DType.Int32"/>): indices and class targets.</summary>
public sealed class GpuIndexStorage : Storage
{
    readonly GpuBackend backend;

    internal GpuIndexStorage(GpuBackend backend, MemoryBuffer1D<int, Stride1D.Dense> buffer, int length)
    {
        this.backend = backend;
        Buffer = buffer;
        View = buffer.View.BaseView.SubView(0, length);
    }

    internal MemoryBuffer1D<int, Stride1D.Dense> Buffer { get; }
    internal ArrayView<int> View { get; }
    /// <inheritdoc/>
    public override int Length => (int)View.Length;
    /// <inheritdoc/>
    public override DType DType => DType.Int32;
    /// <inheritdoc/>
    public override IBackend Backend => backend;
}
