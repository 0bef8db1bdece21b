using System.Diagnostics;
using System.Runtime.Intrinsics;

namespace ConvKit.Bench;

/// <summary>What the benchmark ran on, and how to run a Python peer in the same run.</summary>
static class Machine
{
    public static string CpuModel =>
        File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "unknown"
            : "unknown";

    /// <summary>The 1-, 5- and 15-minute load averages (Linux), or "unknown".</summary>
    public static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ')[..3]) : "unknown";

    /// <summary>Runs a peer script with Debian's Python (numpy, torch) and returns its stdout lines.</summary>
    public static string[] RunPython(string script, string arguments, IDictionary<string, string>? environment = null)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "peers", script);
        var start = new ProcessStartInfo("/usr/bin/python3", $"\"{path}\" {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start /usr/bin/python3");
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"peer {script} failed ({process.ExitCode}): {error}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Median wall time of <paramref name="repeats"/> runs after <paramref name="warmup"/> runs, in seconds.</summary>
    public static double MedianSeconds(Action action, int warmup, int repeats)
    {
        for (int i = 0; i < warmup; i++) action();
        var times = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        Array.Sort(times);
        return times[repeats / 2];
    }

    /// <summary>
    /// The FP32 peak this machine reaches, in GFLOP/s: every core running independent fused multiply-adds of the
    /// widest accelerated vector back to back (eight accumulators hide the FMA latency). Measured rather than
    /// computed from the nominal clock, since the cores boost above it.
    /// </summary>
    public static double PeakGflops()
    {
        const long Iterations = 10_000_000;
        int threads = Environment.ProcessorCount, lanes = Vector512.IsHardwareAccelerated ? 16 : 8;
        FmaLoop(1_000_000); // JIT and wake the cores
        double best = 0;
        for (int trial = 0; trial < 5; trial++) // the best of a few, as other work on the machine only slows it
        {
            long start = Stopwatch.GetTimestamp();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ => FmaLoop(Iterations));
            best = Math.Max(best, threads * Iterations * 8.0 * lanes * 2 / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9);
        }
        return best;
    }

    static float FmaLoop(long iterations) =>
        Vector512.IsHardwareAccelerated ? FmaLoop<Lanes512, Vector512<float>>(iterations) : FmaLoop<Lanes256, Vector256<float>>(iterations);

    static float FmaLoop<TLanes, TVector>(long iterations) where TLanes : struct, ILanes<TVector>
    {
        var (m, c) = (TLanes.Create(0.999f), TLanes.Create(1e-3f));
        TVector a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m;
        for (long i = 0; i < iterations; i++)
        {
            a0 = TLanes.Fma(a0, m, c); a1 = TLanes.Fma(a1, m, c); a2 = TLanes.Fma(a2, m, c); a3 = TLanes.Fma(a3, m, c);
            a4 = TLanes.Fma(a4, m, c); a5 = TLanes.Fma(a5, m, c); a6 = TLanes.Fma(a6, m, c); a7 = TLanes.Fma(a7, m, c);
        }
        return TLanes.Sum(a0) + TLanes.Sum(a1) + TLanes.Sum(a2) + TLanes.Sum(a3)
            + TLanes.Sum(a4) + TLanes.Sum(a5) + TLanes.Sum(a6) + TLanes.Sum(a7);
    }

    /// <summary>
    /// The vector operations the peak loop needs, for one vector width: one loop serves both widths, specialised
    /// per width by the JIT (.NET's own ISimdVector is not usable from user code).
    /// </summary>
    interface ILanes<TVector>
    {
        static abstract TVector Create(float value);
        static abstract TVector Fma(TVector a, TVector b, TVector c);
        static abstract float Sum(TVector vector);
    }

    struct Lanes512 : ILanes<Vector512<float>>
    {
        public static Vector512<float> Create(float value) => Vector512.Create(value);
        public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
        public static float Sum(Vector512<float> vector) => Vector512.Sum(vector);
    }

    struct Lanes256 : ILanes<Vector256<float>>
    {
        public static Vector256<float> Create(float value) => Vector256.Create(value);
        public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
        public static float Sum(Vector256<float> vector) => Vector256.Sum(vector);
    }
}
