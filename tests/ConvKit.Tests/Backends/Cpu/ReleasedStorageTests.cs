using ConvKit.Backends.Cpu;

namespace ConvKit.Tests.Backends.Cpu;

/// <summary>Memory handed back with Release is reused only by an uninitialised allocation of its length on the same thread.</summary>
public class ReleasedStorageTests
{
    static readonly CpuBackend Backend = CpuBackend.Instance;

    static float[] Array(ConvKit.Backends.Storage storage) => ((CpuStorage)storage).Data;

    [Fact]
    public void AnUninitialisedAllocationOfTheSameLengthReusesIt()
    {
        var storage = Backend.AllocateUninitialized(5000);
        Backend.Release(storage);
        Assert.Same(Array(storage), Array(Backend.AllocateUninitialized(5000)));
        Assert.NotSame(Array(storage), Array(Backend.AllocateUninitialized(5000))); // handed out once only
    }

    [Fact]
    public void OtherLengthsZeroedAllocationsAndOtherThreadsGetNewMemory()
    {
        var storage = Backend.AllocateUninitialized(6000);
        Backend.Fill(storage, 7f);
        Backend.Release(storage);
        Assert.NotSame(Array(storage), Array(Backend.AllocateUninitialized(6001)));
        var zeroed = Backend.Allocate(6000);
        Assert.NotSame(Array(storage), Array(zeroed));
        Assert.All(Array(zeroed), v => Assert.Equal(0f, v));
        float[]? elsewhere = null;
        var thread = new Thread(() => elsewhere = Array(Backend.AllocateUninitialized(6000)));
        thread.Start();
        thread.Join();
        Assert.NotSame(Array(storage), elsewhere);
        Assert.Same(Array(storage), Array(Backend.AllocateUninitialized(6000)));
    }

    [Fact]
    public void SmallArraysAreLeftToTheCollector()
    {
        var storage = Backend.AllocateUninitialized(100);
        Backend.Release(storage);
        Assert.NotSame(Array(storage), Array(Backend.AllocateUninitialized(100)));
    }
}
