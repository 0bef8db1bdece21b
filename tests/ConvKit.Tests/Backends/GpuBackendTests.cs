using ConvKit.Backends;
using ConvKit.Backends.Cpu;
using ConvKit.Backends.Gpu;
using ConvKit.Backends.Reference;
using ConvKit.Ops;

namespace ConvKit.Tests.Backends;

/// <summary>
/// What the GPU backend has beyond the kernels the backend-parameterised suite checks (there as <c>ilgpu-cpu</c>): the
/// GPU's tiled GEMM, run here on a CPU accelerator whose groups are as large as the kernel's; its memory pool; its errors.
/// </summary>
public class GpuBackendTests
{
    static readonly Lazy<GpuBackend> Tiled = new(() => GpuBackend.CpuAccelerator(useTiledGemm: true));

    static float[] RandomValues(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => random.NextSingle() * 2 - 1).ToArray();
    }

    // One block with a partial tile on every axis; several blocks on both axes with k past two 16-deep slices; a thin one.
    public static IEnumerable<object[]> TiledShapes() => GemmTests.WithTransposes([[7, 13, 5], [70, 130, 37], [1, 65, 16]]);

    [Theory, MemberData(nameof(TiledShapes))]
    public void TiledGemmAtOffsetsMatchesReference(int m, int n, int k, bool transA, bool transB)
    {
        const int offset = 3, pad = 2;
        int lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad;
        float[] a = RandomValues(offset + (transA ? k : m) * lda, 1), b = RandomValues(offset + (transB ? n : k) * ldb, 2);
        float[] c = RandomValues(offset + m * ldc, 3);
        float[] Product(IBackend on, float beta)
        {
            var result = on.FromArray(c);
            on.Gemm(transA, transB, m, n, k, 0.5f, on.FromArray(a), offset, lda, on.FromArray(b), offset, ldb, beta, result, offset, ldc);
            return TestBackends.Read(result);
        }
        // C's padding and the values before the offset come back unchanged; beta = 0 ignores C, NaN included.
        foreach (float beta in new[] { -1.5f, 0f })
            Close.All(Product(ReferenceBackend.Instance, beta).Select(v => (double)v).ToArray(), Product(Tiled.Value, beta), 1e-5, 1e-5, $"beta {beta}");
    }

    [Fact]
    public void ReleasedBuffersAreReusedForTheSameLength()
    {
        var gpu = TestBackends.Gpu;
        var first = (GpuStorage)gpu.AllocateUninitialized(1234);
        gpu.Release(first);
        var second = (GpuStorage)gpu.AllocateUninitialized(1234);
        Assert.Same(first.Buffer, second.Buffer);
        var other = (GpuStorage)gpu.AllocateUninitialized(1234);
        Assert.NotSame(second.Buffer, other.Buffer); // the pool held one
        gpu.Release(second);
        gpu.Release(second); // a second release of one storage is no second buffer in the pool
        Assert.Same(second.Buffer, ((GpuStorage)gpu.AllocateUninitialized(1234)).Buffer);
        Assert.NotSame(second.Buffer, ((GpuStorage)gpu.AllocateUninitialized(1234)).Buffer);
        // A zeroed allocation from the pool is zeroed.
        gpu.Fill(other, 7);
        gpu.Release(other);
        Assert.All(TestBackends.Read(gpu.Allocate(1234)), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ACollectedStoragesBufferGoesBackToThePool()
    {
        var gpu = TestBackends.Gpu;
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        ILGPU.Runtime.MemoryBuffer BufferOfADeadStorage() => ((GpuStorage)gpu.AllocateUninitialized(4321)).Buffer;
        var buffer = BufferOfADeadStorage();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.Same(buffer, ((GpuStorage)gpu.AllocateUninitialized(4321)).Buffer);
    }

    [Fact]
    public void StorageOfAnotherBackendIsRefusedByName()
    {
        var gpu = TestBackends.Gpu;
        var error = Assert.Throws<ArgumentException>(() => gpu.Fill(CpuBackend.Instance.Allocate(3), 1));
        Assert.Contains("cannot use storage from backend 'cpu'", error.Message);
        error = Assert.Throws<ArgumentException>(() => gpu.IndicesToFloat(gpu.Allocate(3), gpu.Allocate(3)));
        Assert.Contains("expected Int32 storage, got Float32", error.Message);
    }

    [Fact]
    public void TensorsMoveToTheGpuAndBack()
    {
        var x = Tensor.FromArray([1f, -2, 3, -4, 5, -6], [2, 3]);
        var onGpu = x.To(TestBackends.Gpu);
        Assert.Same(TestBackends.Gpu, onGpu.Storage.Backend);
        Assert.Equal(new[] { 1f, 0, 3, 0, 5, 0 }, F.Relu(onGpu).To(CpuBackend.Instance).ToArray());
    }

    [Fact]
    public void CudaIsACudaDeviceOrAnErrorThatSaysWhatIsMissing()
    {
        GpuBackend cuda;
        try
        {
            cuda = GpuBackend.Cuda();
        }
        catch (InvalidOperationException e)
        {
            Assert.Matches("CUDA|NVIDIA", e.Message); // this machine has no GPU (or no driver): the error says which
            return;
        }
        using (cuda)
        {
            Assert.Equal("cuda", cuda.Name);
            var sum = cuda.AllocateUninitialized(1);
            cuda.Reduce(ReduceOp.Sum, cuda.FromArray([1f, 2, 3]), 1, 3, 1, sum);
            Assert.Equal(6f, cuda.GetItem(sum, 0));
        }
    }
}
