using System.Diagnostics;
using System.Text;
using ConvKit.Training;
using Xunit.Abstractions;

namespace ConvKit.Vision.Tests.Cli;

/// <summary>
/// <c>convkit train</c> killed with SIGKILL (no chance to clean up) at 20 seeded random moments, some of them while a
/// checkpoint is being written: after every kill each checkpoint in the run folder loads, and resuming from
/// <c>last.safetensors</c> until the run is done gives the same weights and optimiser state as a run never interrupted.
/// The command runs as a child process built beside the tests (<c>ConvKit.Cli.dll</c>), on one thread.
/// </summary>
public sealed class CrashSafetyTests(ITestOutputHelper log) : IDisposable
{
    const int Kills = 20, Epochs = 40;
    readonly string directory = Directory.CreateTempSubdirectory("convkit-kill-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    string[] TrainArguments(string output) =>
    [
        "train", "lenet5", "--dataset", "fashion-mnist", "--data", Path.Combine(directory, "data"), "--epochs", $"{Epochs}",
        "--limit", "32", "--batch-size", "16", "--threads", "1", "--seed", "5", "--out", output, "--json",
    ];

    /// <summary>Starts convkit; its standard error collects in <paramref name="error"/>.</summary>
    static Process Start(IEnumerable<string> arguments, StringBuilder error)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ConvKit.Cli.dll"));
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, line) => { lock (error) error.AppendLine(line.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    static void RunToTheEnd(IEnumerable<string> arguments)
    {
        var error = new StringBuilder();
        using var process = Start(arguments, error);
        Assert.True(process.WaitForExit(120_000), "convkit train did not finish within two minutes");
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"convkit train exited with {process.ExitCode}: {error}");
    }

    static float[] Values(IReadOnlyDictionary<string, Tensor> state) =>
        state.OrderBy(entry => entry.Key, StringComparer.Ordinal).SelectMany(entry => entry.Value.ToArray()).ToArray();

    [Fact]
    public void KilledTrainingAlwaysLeavesALoadableCheckpointAndResumesToTheSameWeights()
    {
        CliTests.WriteIdxSplit(Path.Combine(directory, "data"), "train", 32, seed: 1);
        CliTests.WriteIdxSplit(Path.Combine(directory, "data"), "t10k", 16, seed: 2);
        var clock = Stopwatch.StartNew();
        string whole = Path.Combine(directory, "whole");
        RunToTheEnd(TrainArguments(whole));
        var expected = Checkpoint.Load(Path.Combine(whole, "last.safetensors"));
        Assert.Equal(Epochs, expected.Epoch);
        double wholeSeconds = clock.Elapsed.TotalSeconds;

        var random = new Random(20);
        int run = 0, midWrite = 0, aimed = 0, beforeFirstCheckpoint = 0, finished = 0;
        string output = Path.Combine(directory, $"run{run}");
        int lastEpoch = 0;
        var known = new HashSet<string?>();

        void CheckFinishedRun()
        {
            var last = Checkpoint.Load(Path.Combine(output, "last.safetensors"));
            Assert.Equal(Epochs, last.Epoch);
            Assert.Equal(Values(expected.ModelState), Values(last.ModelState));
            Assert.Equal(Values(expected.OptimizerState), Values(last.OptimizerState));
            Assert.Equal(expected.History.Select(Values), last.History.Select(Values));
            // The best checkpoint is the best epoch's, even when a kill fell between writing it and writing the last one.
            Assert.Equal(last.Best.Epoch, Checkpoint.Load(Path.Combine(output, "best.safetensors")).Epoch);
            Assert.Equal(expected.Best, last.Best);
            finished++;
        }

        for (int kill = 0; kill < Kills;)
        {
            string lastPath = Path.Combine(output, "last.safetensors");
            var arguments = TrainArguments(output).Concat(File.Exists(lastPath) ? ["--resume", lastPath] : Array.Empty<string>());
            // Half the kills land a moment after the n-th temporary checkpoint file appears, so inside a save;
            // the others at any time from start-up on (loading, training, evaluating, writing).
            bool duringASave = random.Next(2) == 0;
            int saves = random.Next(1, 4), delayMicroseconds = random.Next(0, 2000), delayMilliseconds = random.Next(150, 1500);
            Directory.CreateDirectory(output);
            using var watcher = new FileSystemWatcher(output, "*.tmp");
            int seen = 0;
            using var savesSeen = new ManualResetEventSlim();
            watcher.Created += (_, _) => { if (Interlocked.Increment(ref seen) == saves) savesSeen.Set(); };
            watcher.EnableRaisingEvents = duringASave;

            var error = new StringBuilder();
            using var process = Start(arguments, error);
            while (duringASave && !savesSeen.IsSet && !process.HasExited) savesSeen.Wait(5);
            var wait = Stopwatch.StartNew();
            while (wait.Elapsed.TotalMilliseconds < (duringASave ? delayMicroseconds / 1000.0 : delayMilliseconds) && !process.HasExited)
                Thread.SpinWait(100);
            bool killed = false;
            try
            {
                // SIGKILL. `dotnet ConvKit.Cli.dll` runs the command inside the host process, which starts no children, so
                // a plain Kill reaches everything, sooner than Kill(entireProcessTree) which first walks /proc for children.
                if (!process.HasExited) { process.Kill(); killed = true; }
            }
            catch (InvalidOperationException) { } // it exited between the check and the kill
            Assert.True(process.WaitForExit(60_000));
            process.WaitForExit(); // and its output read

            if (!killed)
            {
                Assert.True(process.ExitCode == 0, $"convkit train exited with {process.ExitCode}: {error}");
                CheckFinishedRun();
                output = Path.Combine(directory, $"run{++run}"); // start another run to kill
                lastEpoch = 0;
                continue;
            }
            kill++;
            if (duringASave) aimed++;
            Assert.NotEqual(0, process.ExitCode);

            // Every checkpoint file is whole; what a killed save leaves behind is a hidden temporary file that
            // no *.safetensors pattern matches.
            foreach (string file in Directory.GetFiles(output, "*.safetensors"))
                Checkpoint.Load(file);
            var strays = Directory.GetFiles(output).Select(Path.GetFileName)
                .Where(name => name is not ("last.safetensors" or "best.safetensors" or "metrics.csv" or "training.png")).ToList();
            Assert.All(strays, name => Assert.Matches(@"^\.(last|best)\.safetensors\.[0-9a-f]{32}\.tmp$", name));
            // Strays stay, so that later runs of the chain find them there too; a kill is counted as inside a save when it left a new one.
            if (strays.Any(known.Add)) midWrite++;

            if (File.Exists(lastPath))
            {
                var last = Checkpoint.Load(lastPath);
                Assert.True(last.Epoch >= lastEpoch, $"the last checkpoint went back from epoch {lastEpoch} to {last.Epoch}");
                lastEpoch = last.Epoch;
                // best.safetensors holds the best epoch the last checkpoint names, or the next epoch's, which the
                // resumed run recomputes and saves again; never an older one that nothing would replace.
                int best = Checkpoint.Load(Path.Combine(output, "best.safetensors")).Epoch;
                Assert.True(best == last.Best.Epoch || best == last.Epoch + 1,
                    $"best.safetensors holds epoch {best}, but the last checkpoint (epoch {last.Epoch}) says the best is epoch {last.Best.Epoch}");
            }
            else beforeFirstCheckpoint++;
        }

        string finalLast = Path.Combine(output, "last.safetensors");
        RunToTheEnd(TrainArguments(output).Concat(File.Exists(finalLast) ? ["--resume", finalLast] : Array.Empty<string>()));
        CheckFinishedRun();

        log.WriteLine($"{Kills} kills in {clock.Elapsed.TotalSeconds:F1} s (uninterrupted run {wholeSeconds:F1} s): {midWrite} inside a " +
            $"checkpoint save ({aimed} aimed at one), {beforeFirstCheckpoint} before the first checkpoint; {finished} run(s) resumed to the end.");
        Assert.True(midWrite > 0, "no kill landed inside a checkpoint save");
    }

    /// <summary>An epoch's training and validation values, every digit, for an exact comparison.</summary>
    static string Values(EpochMetrics epoch) => string.Join(", ", new[] { epoch.Train, epoch.Validation ?? new Dictionary<string, double>() }
        .SelectMany((values, part) => values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{part}.{v.Key}={v.Value:R}")));
}
