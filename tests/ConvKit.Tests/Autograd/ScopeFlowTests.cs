using System.Runtime.ExceptionServices;
using ConvKit.Autograd;

namespace ConvKit.Tests.Autograd;

// NoGrad, Generator.Use and OpTrace follow the code across await, not the thread it happens to run on.
public class ScopeFlowTests
{
    /// <summary>
    /// Runs <paramref name="body"/> from a thread of its own with no synchronisation context, so every
    /// continuation after an await runs on a thread-pool thread, never on the one that opened the scope.
    /// </summary>
    static void RunOnOwnThread(Func<Task> body, Action? afterwards = null)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                body().GetAwaiter().GetResult();
                afterwards?.Invoke();
            }
            catch (Exception e) { failure = e; }
        });
        thread.Start();
        thread.Join();
        if (failure != null) ExceptionDispatchInfo.Throw(failure);
    }

    [Fact]
    public void NoGradFlowsAcrossAwaitAndEndsWithItsScope()
    {
        var x = Tensor.Ones(3).RequireGrad();
        bool recorded = true, enabledAfterwards = false;
        RunOnOwnThread(async () =>
        {
            using (Tensor.NoGrad())
            {
                await Task.Yield();
                recorded = (x * 2f).RequiresGrad;
            }
        }, () => enabledAfterwards = GradMode.IsEnabled);
        Assert.True(enabledAfterwards);
        Assert.False(recorded);
    }

    [Fact]
    public void AParallelLoopInsideNoGradRecordsNothing()
    {
        var x = Tensor.Ones(3).RequireGrad();
        var recorded = new bool[64];
        using (Tensor.NoGrad())
            Parallel.For(0, recorded.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => recorded[i] = (x * 2f).RequiresGrad);
        Assert.DoesNotContain(true, recorded);
        Assert.True((x * 2f).RequiresGrad);
    }

    [Fact]
    public void GeneratorUseFlowsAcrossAwait()
    {
        float drawn = 0;
        bool sharedAfterwards = false;
        RunOnOwnThread(async () =>
        {
            using (Generator.Use(new Generator(42)))
            {
                await Task.Yield();
                drawn = Generator.Current.NextSingle();
            }
        }, () => sharedAfterwards = Generator.Current == Random.Shared);
        Assert.True(sharedAfterwards);
        Assert.Equal(new Generator(42).NextSingle(), drawn);
    }

    [Fact]
    public void OpTraceFlowsAcrossAwait()
    {
        string? producer = null;
        bool activeAfterwards = true;
        RunOnOwnThread(async () =>
        {
            using var trace = OpTrace.Start();
            await Task.Yield();
            producer = trace.ProducerOf(Tensor.Ones(2) + 1f)?.Op;
        }, () => activeAfterwards = OpTrace.IsActive);
        Assert.False(activeAfterwards);
        Assert.Equal("Add", producer);
    }
}
