using System.Runtime.CompilerServices;
using ConvKit.Backends.Cpu;

namespace ConvKit.Tests.Backends;

/// <summary>
/// The kernels' own workers (<see cref="Threading.For"/>): every item runs once, on several threads at once when asked,
/// woken from sleep; an item's exception reaches the caller as it was thrown; calls from inside an item or from other
/// threads still run all their items; and a finished job holds nothing alive. In the process-wide collection, which
/// runs alone: a call made while another test's kernels hold the workers runs on its caller, and the test that needs
/// two threads at once would wait for nothing.
/// </summary>
[Collection(nameof(ProcessWideSettings))]
public class ThreadingTests
{
    [Theory]
    [InlineData(0, 2)]
    [InlineData(1, 2)]
    [InlineData(2, 2)]
    [InlineData(17, 3)]
    [InlineData(1000, 2)]
    [InlineData(1000, 4)]
    [InlineData(5, 1)]
    public void EveryItemRunsOnce(int count, int threads)
    {
        var runs = new int[count];
        Threading.For(count, threads, i => Interlocked.Increment(ref runs[i]));
        Assert.All(runs, r => Assert.Equal(1, r));
    }

    /// <summary>
    /// Two items that each wait for the other to start can only finish on two threads: the caller and a worker, woken
    /// from sleep the second time (the pause outlasts the workers' 2 ms of spinning).
    /// </summary>
    [Fact]
    public void TwoThreadsRunAtOnceAndAWorkerWakesFromSleep()
    {
        for (int round = 0; round < 2; round++)
        {
            if (round == 1) Thread.Sleep(100);
            int started = 0;
            var threadIds = new int[2];
            Threading.For(2, 2, i =>
            {
                threadIds[i] = Environment.CurrentManagedThreadId;
                Interlocked.Increment(ref started);
                Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref started) == 2, TimeSpan.FromSeconds(10)),
                    $"round {round}: item {i} waited 10 s for the other item to start");
            });
            Assert.NotEqual(threadIds[0], threadIds[1]);
        }
    }

    [Fact]
    public void AnItemsExceptionReachesTheCallerAsThrownAndTheOtherItemsStillRun()
    {
        int runs = 0;
        var e = Assert.Throws<InvalidOperationException>(() => Threading.For(100, 2, i =>
        {
            Interlocked.Increment(ref runs);
            if (i == 37) throw new InvalidOperationException("item 37 failed");
        }));
        Assert.Equal("item 37 failed", e.Message);
        Assert.Equal(100, runs);
        // The workers are free again.
        var again = new int[50];
        Threading.For(50, 2, i => again[i]++);
        Assert.All(again, r => Assert.Equal(1, r));
    }

    [Fact]
    public void CallsFromInsideAnItemAndFromOtherThreadsRunAllTheirItems()
    {
        var nested = new int[4 * 300];
        Threading.For(4, 2, i => Threading.For(300, 2, j => Interlocked.Increment(ref nested[i * 300 + j])));
        Assert.All(nested, r => Assert.Equal(1, r));

        var fromCallers = new int[6 * 500];
        var callers = Enumerable.Range(0, 6).Select(c => new Thread(() =>
            Threading.For(500, 2, i => Interlocked.Increment(ref fromCallers[c * 500 + i])))).ToList();
        callers.ForEach(t => t.Start());
        callers.ForEach(t => t.Join());
        Assert.All(fromCallers, r => Assert.Equal(1, r));
    }

    [Fact]
    public void AFinishedJobHoldsNothingAlive()
    {
        var captured = RunWithCapturedArray();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(captured.IsAlive, "the last job's closure still holds its array");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static WeakReference RunWithCapturedArray()
    {
        var array = new float[1000];
        Threading.For(8, 2, i => array[i] = i);
        return new WeakReference(array);
    }
}
