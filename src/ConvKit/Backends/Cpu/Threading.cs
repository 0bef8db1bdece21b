using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace ConvKit.Backends.Cpu;

/// <summary>How many cores the CPU kernels may use, and the threads they run on.</summary>
/// <remarks>
/// The kernels run their parallel steps on the calling thread and <see cref="NumThreads"/> − 1 background workers of
/// their own. After each step a worker spins for about 2 ms before it sleeps, as ONNX Runtime's and OpenMP's workers
/// do, so a model's next layer finds it awake. On a 2-vCPU virtual machine (Zen 3) a spinning worker joined a step
/// within 0.4–3 µs, where a sleeping thread-pool thread often joined a 0.5 ms step only as it ended; in ResNet-50 at
/// batch 1 the layers' fastest times summed 2–3% lower than with Parallel.For, the ReLU passes' (hundreds of 1024-value
/// items) 18% lower. The cost is up to 2 ms of one core after the last step, given up to any other thread ready to run.
/// </remarks>
public static class Threading
{
    static int numThreads = Environment.ProcessorCount;

    /// <summary>Threads used by parallel kernels (GEMM, convolution); defaults to the processor count.</summary>
    public static int NumThreads
    {
        get => numThreads;
        set => numThreads = value >= 1 ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "NumThreads must be at least 1.");
    }

    /// <summary>
    /// Runs body(0) … body(count − 1) on up to <paramref name="threads"/> threads, the caller and the workers, each
    /// taking a share of the items left until none is, and returns when all are done; the first exception an item threw
    /// is then rethrown. A call made while the workers are busy (from inside an item, or from another thread) runs its
    /// items on the calling thread.
    /// </summary>
    internal static void For(int count, int threads, Action<int> body)
    {
        threads = Math.Min(threads, count);
        if (threads <= 1 || isWorker || Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        try
        {
            var job = new Job(++jobs, count, threads, body);
            var workers = Workers(threads - 1);
            Volatile.Write(ref current, job);
            for (int w = 0; w < threads - 1; w++) workers[w].Wake();
            job.Work();
            // The items left are in the workers' hands.
            var spin = new SpinWait();
            while (!job.Finished) spin.SpinOnce(sleep1Threshold: -1);
            job.Error?.Throw();
        }
        finally
        {
            // Unpublished, so the job's closure (and the tensors it holds) can be collected.
            Volatile.Write(ref current, null);
            Volatile.Write(ref busy, 0);
        }
    }

    // How long a worker looks for the next job before it sleeps: 2 ms.
    static readonly long SpinTicks = Stopwatch.Frequency / 500;

    static int busy;
    static long jobs;
    static Job? current;
    static Worker[] workers = [];
    [ThreadStatic] static bool isWorker;

    /// <summary>At least <paramref name="count"/> workers (only the caller holding <c>busy</c> adds them).</summary>
    static Worker[] Workers(int count)
    {
        if (workers.Length < count)
            workers = [.. workers, .. Enumerable.Range(workers.Length, count - workers.Length).Select(i => new Worker(i))];
        return workers;
    }

    /// <summary>One call's items: the next to take, how many are done, and the seats left for workers.</summary>
    sealed class Job(long id, int count, int threads, Action<int> body)
    {
        int next, done, seats = threads - 1;
        public readonly long Id = id;
        public ExceptionDispatchInfo? Error;

        public bool Finished => Volatile.Read(ref done) == count;

        /// <summary>Whether a worker may join: at most threads − 1 do.</summary>
        public bool TakeSeat() => Interlocked.Decrement(ref seats) >= 0;

        /// <summary>
        /// Takes items until none is left. Each claim is a share of what is left (guided self-scheduling): a thousand
        /// small items cost a dozen claims rather than a thousand contended ones, and a late worker still finds some.
        /// </summary>
        public void Work()
        {
            for (int start = Volatile.Read(ref next); start < count;)
            {
                int size = Math.Max(1, (count - start) / (2 * threads));
                int seen = Interlocked.CompareExchange(ref next, start + size, start);
                if (seen != start) { start = seen; continue; }
                for (int i = start; i < start + size; i++)
                {
                    try { body(i); }
                    catch (Exception e) { Interlocked.CompareExchange(ref Error, ExceptionDispatchInfo.Capture(e), null); }
                }
                Interlocked.Add(ref done, size);
                start = Volatile.Read(ref next);
            }
        }
    }

    /// <summary>A background thread that joins each new job, spinning between jobs for a while, then sleeping.</summary>
    sealed class Worker
    {
        readonly SemaphoreSlim sleep = new(0);
        int sleeping;

        public Worker(int index) => new Thread(Loop) { IsBackground = true, Name = $"ConvKit worker {index + 1}" }.Start();

        /// <summary>Wakes the worker if it sleeps (a spinning one sees the new job by itself).</summary>
        public void Wake()
        {
            if (Interlocked.Exchange(ref sleeping, 0) == 1) sleep.Release();
        }

        void Loop()
        {
            isWorker = true;
            long last = 0;
            while (true)
            {
                long deadline = Stopwatch.GetTimestamp() + SpinTicks;
                Job? job;
                while ((job = Volatile.Read(ref current)) == null || job.Id == last)
                {
                    if (Stopwatch.GetTimestamp() < deadline)
                    {
                        // Another thread ready to run on this core (a test's, the caller's own next) goes first.
                        if (!Thread.Yield()) Thread.SpinWait(20);
                        continue;
                    }
                    // Say so, then look once more: a job published in between is run, unless its caller has already
                    // seen the flag and released the semaphore (whoever clears the flag owns the wake-up).
                    Interlocked.Exchange(ref sleeping, 1);
                    if (Volatile.Read(ref current) is not { } published || published.Id == last || Interlocked.Exchange(ref sleeping, 0) == 0) sleep.Wait();
                    deadline = Stopwatch.GetTimestamp() + SpinTicks;
                }
                last = job.Id;
                if (job.TakeSeat()) job.Work();
            }
        }
    }
}
