using ConvKit.Backends;
using ConvKit.Backends.Cpu;
using ConvKit.Backends.Gpu;
using ConvKit.Backends.Reference;

namespace ConvKit.Tests;

/// <summary>
/// The backends the op, fixture and gradient-check tests run on, by name (names make readable theory cases). A test
/// takes the name as its first parameter and runs its body inside <see cref="Use"/>, so every tensor it creates lives
/// on that backend. A new backend is one more entry in <see cref="All"/>.
/// </summary>
static class TestBackends
{
    /// <summary>
    /// The GPU backend: its kernels on ILGPU's CPU accelerator, so they run without a GPU, or on the first NVIDIA GPU when
    /// the environment variable CONVKIT_TEST_GPU is <c>cuda</c> (the GPU check, bench/ConvKit.GpuCheck). One for the
    /// whole test run: each accelerator compiles its kernels once.
    /// </summary>
    public static readonly GpuBackend Gpu = Environment.GetEnvironmentVariable("CONVKIT_TEST_GPU") == "cuda" ? GpuBackend.Cuda() : GpuBackend.CpuAccelerator();

    /// <summary>Every backend: the fast ones, and the reference they are held to.</summary>
    public static readonly IBackend[] All = [CpuBackend.Instance, ReferenceBackend.Instance, Gpu];

    /// <summary>The backends with fast kernels, each checked against <see cref="ReferenceBackend"/> by the kernel tests.</summary>
    public static IEnumerable<IBackend> Fast => All.Where(b => b != ReferenceBackend.Instance);

    /// <summary>The backend called <paramref name="name"/>.</summary>
    public static IBackend Named(string name) => All.Single(b => b.Name == name);

    /// <summary>Creates tensors on the backend called <paramref name="name"/> until disposed.</summary>
    public static Backend.Scope Use(string name) => Backend.Use(Named(name));

    /// <summary>The name of every backend, for <c>[MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]</c>.</summary>
    public static TheoryData<string> Names() => new(All.Select(b => b.Name));

    /// <summary>The names of the fast backends.</summary>
    public static TheoryData<string> FastNames() => new(Fast.Select(b => b.Name));

    /// <summary>Each case of <paramref name="cases"/> once per backend, the backend's name first.</summary>
    public static IEnumerable<object[]> Each(IEnumerable<object[]> cases) => Cross(All, cases);

    /// <summary>Each case of <paramref name="cases"/> once per fast backend, the backend's name first.</summary>
    public static IEnumerable<object[]> EachFast(IEnumerable<object[]> cases) => Cross(Fast, cases);

    static IEnumerable<object[]> Cross(IEnumerable<IBackend> backends, IEnumerable<object[]> cases)
    {
        var rows = cases.ToList();
        return backends.SelectMany(b => rows.Select(row => (object[])[b.Name, .. row])).ToList();
    }

    /// <summary>The values of a storage of any backend.</summary>
    public static float[] Read(Storage storage)
    {
        var values = new float[storage.Length];
        storage.Backend.CopyTo(storage, values);
        return values;
    }
}
