using System.Diagnostics;
using System.Globalization;
using ConvKit.Backends.Cpu;
using ConvKit.Ops;
using ConvKit.Optim;
using ConvKit.Vision.Models;

namespace ConvKit.Bench;

/// <summary>
/// Peak memory of training at 224×224: two training steps (forward, cross-entropy, backward, Adam) of VGG-11 and of
/// ResNet-18 at batch 32 on random 3×224×224 pictures, 10 classes, in ConvKit and in PyTorch 1.13 (torchvision's
/// models), each in a process of its own so that its peak resident set (VmHWM) is its own. Two steps, because the
/// optimiser's state and the retained gradients first exist in the second. Usage: <c>memory224 [BATCH=32] [STEPS=2]</c>.
/// </summary>
static class Memory224Bench
{
    static readonly string[] Models = ["vgg11", "resnet18"];

    public static void Run(string[] args)
    {
        int batch = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 32;
        int steps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2;
        int threads = Environment.ProcessorCount;
        var rows = new List<(string Model, string Engine, Measurement Result)>();
        foreach (var model in Models)
        {
            rows.Add((model, "ConvKit", Parse(RunWorker($"memory224-worker {model} {batch} {steps} {threads}"))));
            rows.Add((model, "PyTorch 1.13", Parse(Machine.RunPython("memory224_torch.py", $"{model} {batch} {steps} {threads}"))));
        }

        Console.WriteLine();
        Console.WriteLine($"## Memory at 224×224: {steps} training steps (Adam), batch {batch}, 3×224×224, 10 classes, {threads} threads");
        Console.WriteLine("Peak = VmHWM of the process (model, optimiser, one batch of pictures and the step); before = resident set after building the model.");
        Console.WriteLine();
        Console.WriteLine("| model | engine | before (MB) | peak (MB) | peak − before (MB) | s per step (last) |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var (model, engine, r) in rows)
            Console.WriteLine($"| {model} | {engine} | {r.BeforeMb:F0} | {r.PeakMb:F0} | {r.PeakMb - r.BeforeMb:F0} | {r.LastStepSeconds:F1} |");
        foreach (var model in Models)
        {
            var ours = rows.Single(r => r.Model == model && r.Engine == "ConvKit").Result;
            var torch = rows.Single(r => r.Model == model && r.Engine != "ConvKit").Result;
            Console.WriteLine($"| {model} | ratio (ConvKit / PyTorch) | | {ours.PeakMb / torch.PeakMb:F2}× | | {ours.LastStepSeconds / torch.LastStepSeconds:F2}× |");
        }
    }

    sealed record Measurement(double BeforeMb, double PeakMb, double LastStepSeconds);

    /// <summary>Reads "rss_before_mb: m", "step_seconds: a b ..." and "peak_rss_mb: m" lines.</summary>
    static Measurement Parse(string[] lines)
    {
        string Value(string key) => lines.Single(l => l.StartsWith(key + ":"))[(key.Length + 1)..].Trim();
        double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);
        return new(Number(Value("rss_before_mb")), Number(Value("peak_rss_mb")),
            Number(Value("step_seconds").Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]));
    }

    static string[] RunWorker(string arguments)
    {
        string self = Environment.ProcessPath!;
        string dll = Path.Combine(AppContext.BaseDirectory, "ConvKit.Bench.dll");
        bool host = Path.GetFileNameWithoutExtension(self) == "dotnet";
        var start = new ProcessStartInfo(self, (host ? $"\"{dll}\" " : "") + arguments) { RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"memory224-worker failed ({process.ExitCode}): {output}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The measured side: the steps a user's loop takes, with the peak resident set printed at the end.</summary>
    public static void Worker(string name, int batch, int steps, int threads)
    {
        Threading.NumThreads = threads;
        NN.Module model;
        using (Generator.Use(new Generator(0))) model = ModelZoo.Create(name, 3, 10);
        model.Train();
        var optimizer = new Adam(model.Parameters(), lr: 1e-3);
        var x = Tensor.Randn([batch, 3, 224, 224], seed: 1);
        var y = Tensor.FromArray(Enumerable.Range(0, batch).Select(i => (float)(i % 10)).ToArray(), batch);
        GC.Collect();
        Console.WriteLine("rss_before_mb: " + (Status("VmRSS:") / 1024.0).ToString("R", CultureInfo.InvariantCulture));
        var seconds = new List<double>();
        for (int step = 0; step < steps; step++)
        {
            long start = Stopwatch.GetTimestamp();
            optimizer.ZeroGrad();
            var loss = F.CrossEntropy(model.Forward(x), y);
            loss.Backward();
            optimizer.Step();
            loss.Item();
            seconds.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        Console.WriteLine("step_seconds: " + string.Join(' ', seconds.Select(s => s.ToString("R", CultureInfo.InvariantCulture))));
        Console.WriteLine("peak_rss_mb: " + (Status("VmHWM:") / 1024.0).ToString("R", CultureInfo.InvariantCulture));
    }

    static long Status(string key) =>
        long.Parse(File.ReadLines("/proc/self/status").Single(l => l.StartsWith(key))[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
}
