using System.Diagnostics;

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
}
