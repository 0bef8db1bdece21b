using ConvKit.Backends;
using ConvKit.Backends.Cpu;
using ConvKit.Backends.Reference;

namespace ConvKit.Tests.Backends;

/// <summary>
/// <see cref="Backend.Use"/>: tensors are created on the scope's backend, nested scopes restore their predecessor, the
/// scope follows its code across awaits and never reaches a flow that did not open it; storages of two backends are
/// never mixed silently.
/// </summary>
public class BackendScopeTests
{
    static readonly ReferenceBackend Reference = ReferenceBackend.Instance;

    [Fact]
    public void UseCreatesTensorsOnItsBackendAndRestoresThePreviousOne()
    {
        Assert.Same(CpuBackend.Instance, Tensor.Zeros(2).Backend);
        using (Backend.Use(Reference))
        {
            Assert.Same(Reference, Tensor.Zeros(2).Backend);
            Assert.Same(Reference, Tensor.FromArray([1f, 2f]).Backend);
            Assert.Same(Reference, ((Tensor)3f).Backend); // scalars too, so x * 3f stays on one backend
            using (Backend.Use(CpuBackend.Instance)) Assert.Same(CpuBackend.Instance, Tensor.Ones(1).Backend);
            Assert.Same(Reference, Tensor.Ones(1).Backend);
            var y = (Tensor.FromArray([1f, -2f]) * 3f).Abs().Sum();
            Assert.Same(Reference, y.Backend);
            Assert.Equal(9f, y.Item());
        }
        Assert.Same(CpuBackend.Instance, Tensor.Zeros(2).Backend);
    }

    [Fact]
    public async Task TheScopeFollowsItsCodeAcrossAwaitsAndStaysOutOfOtherFlows()
    {
        var inside = new TaskCompletionSource();
        var checkedOutside = new TaskCompletionSource();
        var scoped = Task.Run(async () =>
        {
            using var scope = Backend.Use(Reference);
            inside.SetResult();
            await checkedOutside.Task; // resumes on whatever thread-pool thread
            Assert.Same(Reference, Tensor.Zeros(1).Backend);
        });
        var other = Task.Run(async () =>
        {
            await inside.Task; // the first flow is inside its scope now
            Assert.Same(CpuBackend.Instance, Tensor.Zeros(1).Backend);
            checkedOutside.SetResult();
        });
        await Task.WhenAll(scoped, other);
        Assert.Same(CpuBackend.Instance, Tensor.Zeros(1).Backend);
    }

    [Fact]
    public void StoragesOfAnotherBackendAreRefusedByName()
    {
        var error = Assert.Throws<ArgumentException>(() => Reference.Copy(CpuBackend.Instance.FromArray([1f]), Reference.Allocate(1)));
        Assert.Contains("reference backend cannot use storage from backend 'cpu'", error.Message);
        error = Assert.Throws<ArgumentException>(() => CpuBackend.Instance.Copy(Reference.FromArray([1f]), CpuBackend.Instance.Allocate(1)));
        Assert.Contains("'reference'", error.Message);

        var onCpu = Tensor.Ones(2);
        Tensor onReference;
        using (Backend.Use(Reference)) onReference = Tensor.Ones(2);
        error = Assert.Throws<ArgumentException>(() => onCpu + onReference);
        Assert.Contains("cpu", error.Message);
        Assert.Contains("reference", error.Message);
    }

    [Fact]
    public void TheReferenceFillsUninitialisedBuffersWithNaN()
    {
        // An op that read a value no kernel wrote would then give NaN on the reference backend, not a plausible zero.
        Assert.All(TestBackends.Read(Reference.AllocateUninitialized(5)), v => Assert.True(float.IsNaN(v)));
        Assert.All(TestBackends.Read(Reference.Allocate(5)), v => Assert.Equal(0f, v));
    }
}
