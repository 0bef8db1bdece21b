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

    static float FmaLoop(long iterations) => Vector512.IsHardwareAccelerated ? FmaLoop512(iterations) : FmaLoop256(iterations);

    static float FmaLoop512(long iterations)
    {
        var (m, c) = (Vector512.Create(0.999f), Vector512.Create(1e-3f));
        Vector512<float> a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c); a1 = Vector512.FusedMultiplyAdd(a1, m, c);
            a2 = Vector512.FusedMultiplyAdd(a2, m, c); a3 = Vector512.FusedMultiplyAdd(a3, m, c);
            a4 = Vector512.FusedMultiplyAdd(a4, m, c); a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c); a7 = Vector512.FusedMultiplyAdd(a7, m, c);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
    }

    static float FmaLoop256(long iterations)
    {
        var (m, c) = (Vector256.Create(0.999f), Vector256.Create(1e-3f));
        Vector256<float> a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, c); a1 = Vector256.FusedMultiplyAdd(a1, m, c);
            a2 = Vector256.FusedMultiplyAdd(a2, m, c); a3 = Vector256.FusedMultiplyAdd(a3, m, c);
            a4 = Vector256.FusedMultiplyAdd(a4, m, c); a5 = Vector256.FusedMultiplyAdd(a5, m, c);
            a6 = Vector256.FusedMultiplyAdd(a6, m, c); a7 = Vector256.FusedMultiplyAdd(a7, m, c);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
    }
}
