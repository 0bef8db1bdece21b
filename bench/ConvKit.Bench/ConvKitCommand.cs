using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace ConvKit.Bench;

/// <summary>
/// The training suites run ConvKit as the built command itself, <c>dotnet src/ConvKit.Cli/bin/Release/net10.0/ConvKit.Cli.dll</c>
/// (built here first, Release), in a child process whose peak resident memory (VmHWM, polled from /proc while it runs)
/// is its own, as the Python peers report their ru_maxrss.
/// </summary>
static class ConvKitCommand
{
    static bool built;

    /// <summary>Runs <c>convkit ARGUMENTS</c> to the end: its stdout and its peak resident memory in kB.</summary>
    public static long Run(string arguments, out string stdout)
    {
        string root = RepositoryRoot(), dotnet = Dotnet();
        if (!built)
        {
            Execute(dotnet, $"build -c Release --nologo -v q \"{Path.Combine(root, "src", "ConvKit.Cli", "ConvKit.Cli.csproj")}\"", out _);
            built = true;
        }
        string dll = Path.Combine(root, "src", "ConvKit.Cli", "bin", "Release", "net10.0", "ConvKit.Cli.dll");
        return Execute(dotnet, $"\"{dll}\" {arguments}", out stdout);
    }

    public static string Format(float mean, float std) =>
        $"{mean.ToString("R", CultureInfo.InvariantCulture)} / {std.ToString("R", CultureInfo.InvariantCulture)}";

    /// <summary>The normalisation the command computed, from its checkpoint's metadata (normalize_mean, normalize_std).</summary>
    public static string CheckpointNormalize(string path)
    {
        using var file = File.OpenRead(path);
        var length = new byte[8];
        file.ReadExactly(length);
        var header = new byte[BitConverter.ToInt64(length)];
        file.ReadExactly(header);
        using var document = JsonDocument.Parse(header);
        var metadata = document.RootElement.GetProperty("__metadata__");
        float First(string key) => JsonSerializer.Deserialize<float[]>(metadata.GetProperty(key).GetString()!)![0];
        return Format(First("normalize_mean"), First("normalize_std"));
    }

    /// <summary>Runs <paramref name="file"/> to the end, returning its stdout and its peak resident memory (kB, VmHWM polled every 20 ms).</summary>
    static long Execute(string file, string arguments, out string stdout)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        long peak = 0;
        string status = $"/proc/{process.Id}/status";
        while (!process.WaitForExit(20))
        {
            try
            {
                // VmHWM only grows, so the last reading before the exit is the peak but for the last 20 ms.
                var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:"));
                if (line != null) peak = Math.Max(peak, long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture));
            }
            catch (IOException) { } // it exited between the check and the read
        }
        process.WaitForExit();
        stdout = output.Result;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"'{Path.GetFileName(file)} {arguments}' failed ({process.ExitCode}): {error.Result}{stdout}");
        return peak;
    }

    /// <summary>The checkout this program was built from: the first folder above it holding src/ConvKit.Cli.</summary>
    static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory != null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "src", "ConvKit.Cli", "ConvKit.Cli.csproj"))) return directory.FullName;
        throw new DirectoryNotFoundException($"no src/ConvKit.Cli/ConvKit.Cli.csproj in a folder above {AppContext.BaseDirectory}.");
    }

    /// <summary>The dotnet host running this program, or the one on the PATH.</summary>
    static string Dotnet()
    {
        string? self = Environment.ProcessPath;
        if (self != null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        string? root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        if (root != null && File.Exists(Path.Combine(root, "dotnet"))) return Path.Combine(root, "dotnet");
        return "dotnet";
    }
}
