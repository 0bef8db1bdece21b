using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace ConvKit.Backends.Gpu;

/// <summary>
/// The GPU backend: every kernel an ILGPU kernel, compiled at run time for the accelerator it was made for, an NVIDIA
/// GPU (<see cref="Cuda"/>) or ILGPU's CPU accelerator (<see cref="CpuAccelerator()"/>: the same kernels run on the host,
/// which is how they are tested on any machine). Work is queued on one stream in order and runs asynchronously; the
/// host waits only when it reads values back. Composite ops (normalisation, optimisers, the softmax family's
/// gradients) come from <see cref="CompositeBackend"/>, built from these kernels on the accelerator's memory.
/// </summary>
/// <remarks>
/// Kernels loop over their elements with a stride of the launch width (a "grid-stride loop"), so one launch covers
/// any length: on a GPU the width fills every multiprocessor, on the CPU accelerator it is a few threads, for there
/// each simulated GPU thread costs a context switch.
/// Memory is cached: the buffer of a released or collected storage goes to a pool by length, and an allocation of
/// that length takes it back without a driver call, so a training loop allocates nothing on the device once its
/// first step has run. Past 1 GiB pooled, or when the device is full, the pool is freed.
/// </remarks>
public sealed partial class GpuBackend : CompositeBackend, IDisposable
{
    readonly Context context;
    readonly int launchWidth;
    readonly object gate = new();
    // Buffers of released and of collected storages by length, reused by later allocations: one stream runs
    // everything in order, so a buffer handed out again is written only after every kernel queued before has read it.
    readonly Dictionary<(DType, int), Stack<MemoryBuffer>> pool = [];
    readonly HashSet<MemoryBuffer> allocated = [];
    bool disposed, trimRequested;
    long pooledBytes, freshBytes;
    const long PoolLimitBytes = 1L << 30, CollectAfterBytes = 64L << 20;

    readonly bool useTiledGemm;

    GpuBackend(Context context, Accelerator accelerator, string name, int launchWidth, bool useTiledGemm)
    {
        this.context = context;
        Accelerator = accelerator;
        Name = name;
        this.launchWidth = launchWidth;
        this.useTiledGemm = useTiledGemm;
    }

    /// <summary>The ILGPU accelerator the kernels run on.</summary>
    public Accelerator Accelerator { get; }

    /// <inheritdoc/>
    public override string Name { get; }

    /// <summary>The stream everything is queued on, with the accelerator bound to the calling thread (a CUDA context is
    /// per thread: a data loader's thread that makes batches needs it as much as the main one).</summary>
    AcceleratorStream Stream => Bound().DefaultStream;

    [ThreadStatic] static Accelerator? boundHere;

    Accelerator Bound()
    {
        if (boundHere != Accelerator)
        {
            Accelerator.Bind();
            boundHere = Accelerator;
        }
        return Accelerator;
    }

    /// <summary>
    /// A backend on NVIDIA GPU <paramref name="device"/> (0 is the first). Throws <see cref="InvalidOperationException"/>
    /// naming what is missing when there is no NVIDIA driver or no such GPU.
    /// </summary>
    public static GpuBackend Cuda(int device = 0)
    {
        Context context;
        try
        {
            context = Context.Create(builder => builder.Cuda().EnableAlgorithms().Optimize(OptimizationLevel.O1));
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or NotSupportedException)
        {
            throw new InvalidOperationException($"no CUDA driver could be loaded (libcuda.so from the NVIDIA driver): {e.Message}", e);
        }
        var devices = context.GetCudaDevices();
        if (devices.Count == 0)
        {
            context.Dispose();
            throw new InvalidOperationException("no NVIDIA GPU found: the CUDA driver reports no devices (is the NVIDIA driver installed and the GPU visible?)");
        }
        if (device < 0 || device >= devices.Count)
        {
            context.Dispose();
            throw new InvalidOperationException($"no CUDA device {device}: {devices.Count} found (0 to {devices.Count - 1})");
        }
        var accelerator = devices[device].CreateAccelerator(context); // and binds its context to this thread, as cuBLAS needs
        return new GpuBackend(context, accelerator, "cuda", accelerator.NumMultiprocessors * accelerator.MaxNumThreadsPerMultiprocessor, useTiledGemm: true)
        {
            cuBlas = CuBlas.TryLoad(),
        };
    }

    /// <summary>
    /// A backend on ILGPU's CPU accelerator: the GPU kernels, compiled for and run on the host's cores. Slow (it
    /// simulates GPU threads), but it runs every kernel of this backend on any machine, so tests need no GPU.
    /// </summary>
    public static GpuBackend CpuAccelerator() => CpuAccelerator(useTiledGemm: false);

    /// <summary>
    /// The CPU accelerator, optionally with the GPU's tiled GEMM (groups of 256 threads, each simulated by an OS
    /// thread: slow, for testing that kernel).
    /// </summary>
    internal static GpuBackend CpuAccelerator(bool useTiledGemm)
    {
        int cores = Math.Max(1, Environment.ProcessorCount);
        var device = useTiledGemm ? new CPUDevice(TileThreads * TileThreads / 8, 8, 1) : new CPUDevice(4, 4, cores);
        var context = Context.Create(builder => builder.CPU(device).EnableAlgorithms().Optimize(OptimizationLevel.O1));
        var accelerator = context.CreateCPUAccelerator(0, CPUAcceleratorMode.Parallel);
        return new GpuBackend(context, accelerator, useTiledGemm ? "ilgpu-cpu-tiled" : "ilgpu-cpu", 4 * cores, useTiledGemm);
    }

    /// <summary>Waits until every queued kernel has run (timing, or before the host touches values some other way).</summary>
    public void Synchronize() => Stream.Synchronize();

    /// <summary>Frees the accelerator and everything allocated on it.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            disposed = true; // the accelerator frees every buffer; storages collected later recycle nothing
            foreach (var buffer in allocated) GC.RemoveMemoryPressure(buffer.LengthInBytes);
            allocated.Clear();
            pool.Clear();
        }
        cuBlas?.Dispose();
        Accelerator.Dispose();
        context.Dispose();
    }

    // ----- storage ---------------------------------------------------------------------------------------------

    internal ArrayView<float> Data(Storage storage) =>
        storage is GpuStorage { DType: DType.Float32 } gpu && gpu.Backend == this ? InUse(gpu).Floats : throw Foreign(storage, DType.Float32);
    internal ArrayView<int> Indices(Storage storage) =>
        storage is GpuStorage { DType: DType.Int32 } gpu && gpu.Backend == this ? InUse(gpu).Ints : throw Foreign(storage, DType.Int32);

    // The last storages whose views this thread took, kept alive: a call holds a view (which references the buffer,
    // not the storage) from the moment it takes it until its kernel is queued, and a storage collected in between would
    // lend its buffer to that call's own next allocation. Every call queues its kernel within a few views of taking one.
    [ThreadStatic] static GpuStorage?[]? recent;
    [ThreadStatic] static int recentNext;

    static GpuStorage InUse(GpuStorage storage)
    {
        var ring = recent ??= new GpuStorage?[256];
        ring[recentNext++ & (ring.Length - 1)] = storage;
        return storage;
    }

    ArgumentException Foreign(Storage storage, DType wanted) => new(storage.Backend == this && storage.DType != wanted
        ? $"the GPU backend expected {wanted} storage, got {storage.DType}"
        : $"the GPU backend '{Name}' cannot use storage from backend '{storage.Backend.Name}' (move the tensor with To(backend))");

    /// <inheritdoc/>
    public override Storage Allocate(int length)
    {
        var storage = (GpuStorage)AllocateUninitialized(length);
        if (length > 0) storage.Floats.MemSetToZero(Stream); // ILGPU refuses empty views
        return storage;
    }

    /// <inheritdoc/>
    public override Storage AllocateUninitialized(int length) => new GpuStorage(this, Rent<float>(DType.Float32, length), DType.Float32, length);

    /// <summary>
    /// A buffer for <paramref name="length"/> values (at least one: ILGPU has no empty buffers): a pooled one of that
    /// length, else a new one; when the device is full, dead storages are collected, the pool is freed and the
    /// allocation tried once more.
    /// </summary>
    MemoryBuffer1D<T, Stride1D.Dense> Rent<T>(DType type, int length) where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (trimRequested) TrimPool();
        if (TryTakePooled<T>(type, length) is { } pooled) return pooled;
        // Dead storages give their buffers back only when collected: after every 64 MiB of new buffers a collection
        // (milliseconds: the managed heap of a GPU program is small) refills the pool before the device is asked for more.
        if (freshBytes >= CollectAfterBytes)
        {
            freshBytes = 0;
            GC.Collect();
            GC.WaitForPendingFinalizers();
            if (TryTakePooled<T>(type, length) is { } recycled) return recycled;
        }
        MemoryBuffer1D<T, Stride1D.Dense> buffer;
        try
        {
            buffer = Bound().Allocate1D<T>(Math.Max(length, 1));
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            TrimPool();
            buffer = Bound().Allocate1D<T>(Math.Max(length, 1));
        }
        // Held here until freed: a storage's finalizer hands its buffer to the pool, and a buffer (or the native one
        // inside it) collected with its storage would be freed by ILGPU's own finalizer in that same collection.
        lock (gate) allocated.Add(buffer);
        freshBytes += buffer.LengthInBytes;
        // Device memory the collector cannot see, counted so that it collects dead tensors, whose buffers come back to
        // the pool, as often as if their values were managed memory. Pool hits add nothing: steady state adds none.
        GC.AddMemoryPressure(buffer.LengthInBytes);
        return buffer;
    }

    MemoryBuffer1D<T, Stride1D.Dense>? TryTakePooled<T>(DType type, int length) where T : unmanaged
    {
        lock (gate)
        {
            if (!pool.TryGetValue((type, length), out var free) || !free.TryPop(out var reused)) return null;
            pooledBytes -= reused.LengthInBytes;
            return (MemoryBuffer1D<T, Stride1D.Dense>)reused;
        }
    }

    /// <inheritdoc/>
    public override void Release(Storage storage)
    {
        if (storage is not GpuStorage gpu || gpu.Backend != this) throw Foreign(storage, storage.DType);
        gpu.Return();
    }

    /// <summary>
    /// Takes the buffer of a released or collected storage into the pool. It may run on the finalizer thread, so it
    /// frees nothing: past the pool's limit, the next allocation empties the pool first.
    /// </summary>
    internal void Recycle(MemoryBuffer buffer, DType type, int length)
    {
        lock (gate)
        {
            if (disposed) return; // freed with the accelerator
            if (!pool.TryGetValue((type, length), out var free)) pool[(type, length)] = free = new();
            free.Push(buffer);
            pooledBytes += buffer.LengthInBytes;
            trimRequested |= pooledBytes > PoolLimitBytes;
        }
    }

    /// <summary>Frees every pooled buffer, once the kernels queued before have run (they may still read one).</summary>
    public void TrimPool()
    {
        Stream.Synchronize();
        lock (gate)
        {
            foreach (var free in pool.Values)
                while (free.TryPop(out var buffer))
                {
                    allocated.Remove(buffer);
                    GC.RemoveMemoryPressure(buffer.LengthInBytes);
                    buffer.Dispose();
                }
            pooledBytes = 0;
            trimRequested = false;
        }
    }

    /// <inheritdoc/>
    public override Storage FromArray(ReadOnlySpan<float> values)
    {
        var storage = (GpuStorage)AllocateUninitialized(values.Length);
        if (values.Length > 0) storage.Floats.CopyFromCPU(Stream, values);
        Stream.Synchronize(); // the copy may read the caller's memory until it is done
        return storage;
    }

    /// <inheritdoc/>
    public override void CopyTo(Storage source, Span<float> destination)
    {
        var view = Data(source);
        if (view.Length > 0) view.CopyToCPU(Stream, destination[..(int)view.Length]);
        Stream.Synchronize();
    }

    /// <inheritdoc/>
    public override float GetItem(Storage storage, int index)
    {
        Span<float> value = stackalloc float[1];
        Data(storage).SubView(index, 1).CopyToCPU(Stream, value);
        Stream.Synchronize();
        return value[0];
    }

    /// <inheritdoc/>
    public override void SetItem(Storage storage, int index, float value)
    {
        Data(storage).SubView(index, 1).CopyFromCPU(Stream, [value]);
        Stream.Synchronize();
    }

    /// <inheritdoc/>
    public override Storage AllocateIndices(int length)
    {
        var storage = new GpuStorage(this, Rent<int>(DType.Int32, length), DType.Int32, length);
        if (length > 0) storage.Ints.MemSetToZero(Stream);
        return storage;
    }

    /// <inheritdoc/>
    public override Storage FromIndices(ReadOnlySpan<int> values)
    {
        var storage = new GpuStorage(this, Rent<int>(DType.Int32, values.Length), DType.Int32, values.Length);
        if (values.Length > 0) storage.Ints.CopyFromCPU(Stream, values);
        Stream.Synchronize();
        return storage;
    }

    /// <inheritdoc/>
    public override void CopyIndicesTo(Storage source, Span<int> destination)
    {
        var view = Indices(source);
        if (view.Length > 0) view.CopyToCPU(Stream, destination[..(int)view.Length]);
        Stream.Synchronize();
    }

    /// <summary>Small int32 tables a kernel reads (shapes and strides), uploaded once per distinct content.</summary>
    ArrayView<int> Table(ReadOnlySpan<int> values)
    {
        string key = string.Join(',', values.ToArray());
        // Not under `gate`: the upload may collect, and collected storages' finalizers take `gate`.
        lock (tables)
        {
            if (!tables.TryGetValue(key, out var table)) tables[key] = table = (GpuStorage)FromIndices(values);
            return table.Ints;
        }
    }
    readonly Dictionary<string, GpuStorage> tables = [];

    // ----- launching ---------------------------------------------------------------------------------------------

    /// <summary>How a grid-stride kernel covers <see cref="Count"/> items: thread t takes t, t + Stride, t + 2·Stride, ...</summary>
    internal readonly record struct Work(int Count, int Stride);

    /// <summary>The launch for <paramref name="count"/> items: its thread count and the loop it passes to the kernel.</summary>
    (Index1D Threads, Work Work) For(long count)
    {
        if (count > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(count), count, "a GPU kernel covers at most 2³¹ − 1 items");
        int threads = (int)Math.Clamp(count, 1, launchWidth);
        return (threads, new Work((int)count, threads));
    }

    /// <summary>⌈n / d⌉ for d &gt; 0 and any n (C# division truncates toward zero, which is the ceiling below zero).</summary>
    static int CeilDiv(int n, int d) => n > 0 ? (n + d - 1) / d : n / d;

    /// <summary>Loads a kernel once per backend: the cache slot is a field of the caller's.</summary>
    TDelegate Load<TDelegate>(ref TDelegate? slot, Func<Accelerator, TDelegate> load) where TDelegate : Delegate =>
        slot ??= load(Accelerator);
}
