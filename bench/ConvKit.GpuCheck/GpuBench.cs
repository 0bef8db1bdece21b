using System.Diagnostics;
using System.Globalization;
using ConvKit.Backends;
using ConvKit.Bench;
using ConvKit.Backends.Cpu;
using ConvKit.Backends.Gpu;
using ConvKit.Ops;
using ConvKit.Optim;
using ConvKit.Vision.Models;
using ILGPU.Runtime.Cuda;

namespace ConvKit.GpuCheck;

/// <summary>
/// The GPU suite: a 3×3 convolution, ResNet-18 inference and a training step, a LeNet-5 epoch, timed on one device
/// (cuda, ILGPU's CPU accelerator, or the CPU backend), then the same cases in PyTorch on the same device in the same
/// run (peers/gpu_torch.py, fp32 and TF32), printed as a Markdown table. Times are medians after warm-up, with the
/// device synchronised before the clock is read: kernels are queued asynchronously, so an unsynchronised clock
/// measures only the queueing.
/// Usage: bench [--device cuda|ilgpu-cpu|cpu] [--quick]
/// </summary>
static class GpuBench
{
    /// <summary>What one run measures: batch sizes, resolution, LeNet images, repetitions.</summary>
    sealed record Sizes(int ConvBatch, int ResNetBatch, int ResNetSize, int LeNetImages, int Warmup, int Repeats)
    {
        public string PeerArguments => string.Join(' ', ConvBatch, ResNetBatch, ResNetSize, LeNetImages, Warmup, Repeats);
    }

    sealed record Case(string Key, string Title, Func<Action> Prepare, bool Tf32 = true);

    const int EpochImages = 60_000, LeNetBatch = 64;

    public static int Run(string[] args)
    {
        string device = "cuda";
        bool quick = false;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--device" && i + 1 < args.Length) device = args[++i];
            else if (args[i] == "--quick") quick = true;
            else { Console.Error.WriteLine($"bench: unknown argument '{args[i]}'"); return 2; }
        }
        GpuBackend? gpu;
        try
        {
            gpu = device switch
            {
                "cuda" => GpuBackend.Cuda(),
                "ilgpu-cpu" => GpuBackend.CpuAccelerator(),
                "cpu" => null,
                _ => throw new ArgumentException($"unknown device '{device}' (cuda, ilgpu-cpu or cpu)"),
            };
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            Console.Error.WriteLine($"bench: {e.Message}");
            return 1;
        }
        IBackend backend = gpu is null ? CpuBackend.Instance : gpu;
        // Full sizes on cuda; --quick keeps them there (fewer repetitions, a tenth of the epoch) but shrinks batches and
        // images elsewhere: ILGPU's CPU accelerator takes ~100 s for one ResNet-18 step at batch 2, 224×224.
        var sizes = !quick ? new Sizes(32, 64, 224, EpochImages, 3, 10)
            : device == "cuda" ? new Sizes(32, 64, 224, EpochImages / 10, 1, 3)
            : new Sizes(1, 2, 112, 5 * LeNetBatch, 1, 2);
        long flops = 2L * sizes.ConvBatch * 64 * 56 * 56 * 64 * 9;

        string deviceName = gpu is null
            ? $"ConvKit CPU backend, {Threading.NumThreads} threads"
            : gpu.Accelerator is CudaAccelerator cuda
                ? $"{cuda.Name}, {cuda.MemorySize / (1 << 20):N0} MiB, compute {cuda.Architecture}, driver {cuda.DriverVersion}"
                : $"{gpu.Accelerator.Name} (ILGPU {gpu.Accelerator.AcceleratorType}, {gpu.Accelerator.NumMultiprocessors} processors)";
        Console.WriteLine($"## GPU suite on {device}: {deviceName}" + (gpu is null ? "" : $"; GEMM: {gpu.GemmEngine}"));
        Console.WriteLine($"CPU: {Machine.CpuModel}, {Environment.ProcessorCount} cores, .NET {Environment.Version}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC"
            + (quick ? "; --quick" : ""));

        void Sync() => gpu?.Synchronize();
        int b = sizes.ConvBatch, n = sizes.ResNetBatch, s = sizes.ResNetSize;
        Case[] cases =
        [
            new("conv_forward", $"Conv2d 3×3 64→64, 56×56, batch {b}, pad 1: forward", () =>
            {
                var (x, w, bias) = ConvInputs(b);
                return () => { using var _ = Tensor.NoGrad(); F.Conv2d(x, w, bias, padding: 1); };
            }),
            new("conv_forward_backward", $"Conv2d 3×3 64→64, 56×56, batch {b}, pad 1: forward + backward (input, weight)", () =>
            {
                var (x, w, bias) = ConvInputs(b);
                var (xg, wg, bg) = (x.Detach().RequireGrad(), w.Detach().RequireGrad(), bias.Detach().RequireGrad());
                var upstream = Tensor.Randn([b, 64, 56, 56], seed: 4);
                return () =>
                {
                    xg.ZeroGrad(); wg.ZeroGrad(); bg.ZeroGrad();
                    F.Conv2d(xg, wg, bg, padding: 1).Backward(upstream);
                };
            }),
            new("resnet18_infer_b1", $"ResNet-18 inference, batch 1, {s}×{s}", () => Inference(1, s)),
            new($"resnet18_infer_b{n}", $"ResNet-18 inference, batch {n}, {s}×{s}", () => Inference(n, s)),
            new($"resnet18_train_b{n}", $"ResNet-18 training step (SGD momentum), batch {n}, {s}×{s}", () =>
            {
                var model = ResNet18().Train();
                var x = Tensor.Randn([n, 3, s, s], seed: 5);
                var y = Labels(n, 1000);
                var optimizer = new SGD(model.Parameters(), lr: 0.01, momentum: 0.9);
                return () =>
                {
                    var loss = F.CrossEntropy(model.Forward(x), y);
                    optimizer.ZeroGrad();
                    loss.Backward();
                    optimizer.Step();
                };
            }),
            new("lenet5_epoch", sizes.LeNetImages == EpochImages
                ? $"LeNet-5 epoch, 60,000 random 1×32×32 images, batch {LeNetBatch}, Adam (data on the device)"
                : $"LeNet-5 epoch, batch {LeNetBatch}, Adam: {sizes.LeNetImages:N0} random 1×32×32 images timed, ×{(double)EpochImages / sizes.LeNetImages:G3} to 60,000",
                () => LeNetEpoch(sizes.LeNetImages), Tf32: false),
        ];

        // Each case gets its own peak: the resident-set peak is reset before it (cpu, ilgpu-cpu), and on cuda the
        // device's used memory (total − free, this process's pool included) is sampled after every repetition.
        var ours = new Dictionary<string, (double Seconds, double PeakMb)>();
        using (Backend.Use(backend))
            foreach (var c in cases)
            {
                Console.Error.WriteLine($"ConvKit: {c.Key}");
                var run = c.Prepare();
                Sync();
                GC.Collect();
                ResetPeakRss();
                double peak = 0;
                // An epoch is long: one warm-up and at most three timed, here and in the peer, to spare the GPU machine's minutes.
                bool epoch = c.Key == "lenet5_epoch";
                double seconds = MedianSeconds(run, Sync, epoch ? 1 : sizes.Warmup, epoch ? Math.Min(sizes.Repeats, 3) : sizes.Repeats,
                    () => peak = Math.Max(peak, PeakMb(gpu)));
                if (epoch) seconds *= (double)EpochImages / sizes.LeNetImages;
                ours[c.Key] = (seconds, peak);
            }

        var (torch, torchNote) = RunPeer(device == "cuda" ? "cuda" : "cpu", sizes, gpu is null ? Threading.NumThreads : Environment.ProcessorCount);
        Console.WriteLine(torchNote);
        Console.WriteLine(gpu is null || device != "cuda"
            ? "Peak MB: the process's peak resident set during the case (VmHWM reset before it; ru_maxrss the same way in Python)."
            : "Peak MB: ConvKit, the device's used memory (total − free, CUDA context and buffer pool included) after each repetition; PyTorch, torch.cuda.max_memory_reserved().");
        Console.WriteLine($"Times: median of {sizes.Repeats} after {sizes.Warmup} warm-up (epoch: of {Math.Min(sizes.Repeats, 3)} after 1), device synchronised; ratio = ConvKit / PyTorch fp32;"
            + $" conv forward = {flops / 1e9:F1} GFLOP.");
        Console.WriteLine();
        Console.WriteLine("| case | ConvKit ms | PyTorch fp32 ms | ratio | PyTorch TF32 ms | ConvKit peak MB | PyTorch peak MB |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var c in cases)
        {
            var (mine, peak) = ours[c.Key];
            string Value(string key, double scale, string format) =>
                torch.TryGetValue(key, out double v) ? (v * scale).ToString(format, CultureInfo.InvariantCulture) : "n/a";
            string ratio = torch.TryGetValue(c.Key, out double theirs) ? $"{mine / theirs:F2}×" : "n/a";
            string tf32 = c.Tf32 ? Value(c.Key + "_tf32", 1e3, "F2") : "n/a";
            Console.WriteLine($"| {c.Title} | {mine * 1e3:F2} | {Value(c.Key, 1e3, "F2")} | {ratio} | {tf32} | {peak:F0} | {Value(c.Key + "_peak_mb", 1, "F0")} |");
        }
        return 0;
    }

    static (Tensor X, Tensor W, Tensor Bias) ConvInputs(int batch) =>
        (Tensor.Randn([batch, 64, 56, 56], seed: 1), Tensor.Randn([64, 64, 3, 3], seed: 2) * 0.05f, Tensor.Randn([64], seed: 3));

    static NN.Module ResNet18()
    {
        using (Generator.Use(new Generator(0))) return ModelZoo.Create("resnet18");
    }

    static Action Inference(int batch, int size)
    {
        var model = ResNet18().Eval();
        var x = Tensor.Randn([batch, 3, size, size], seed: 5);
        return () => { using var _ = Tensor.NoGrad(); model.Forward(x); };
    }

    /// <summary>Whole-number class labels as floats, which CrossEntropy takes as class indices.</summary>
    static Tensor Labels(int count, int classes) =>
        Tensor.FromArray(Enumerable.Range(0, count).Select(i => (float)(i * 7 % classes)).ToArray(), count);

    /// <summary>
    /// One pass over <paramref name="images"/> random images already on the device, in batches of 64 (the last one
    /// shorter), with no host read per batch: this times the device's training loop, not a data loader.
    /// </summary>
    static Action LeNetEpoch(int images)
    {
        NN.Module model;
        using (Generator.Use(new Generator(0))) model = ModelZoo.Create("lenet5", 1, 10);
        model.Train();
        var data = Tensor.Randn([images, 1, 32, 32], seed: 6);
        var labels = Labels(images, 10);
        var optimizer = new Adam(model.Parameters(), lr: 1e-3);
        return () =>
        {
            for (int start = 0; start < images; start += LeNetBatch)
            {
                int length = Math.Min(LeNetBatch, images - start);
                var loss = F.CrossEntropy(model.Forward(data.Narrow(0, start, length)), labels.Narrow(0, start, length));
                optimizer.ZeroGrad();
                loss.Backward();
                optimizer.Step();
            }
        };
    }

    /// <summary>Median seconds of <paramref name="repeats"/> runs after <paramref name="warmup"/>, each ended by a synchronisation.</summary>
    static double MedianSeconds(Action action, Action sync, int warmup, int repeats, Action sample)
    {
        for (int i = 0; i < warmup; i++) { action(); sync(); sample(); }
        var times = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            sync();
            long start = Stopwatch.GetTimestamp();
            action();
            sync();
            times[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            sample();
        }
        Array.Sort(times);
        return times[repeats / 2];
    }

    /// <summary>On cuda the device's used memory; otherwise this process's peak resident set since the last reset.</summary>
    static double PeakMb(GpuBackend? gpu) => gpu?.Accelerator is CudaAccelerator cuda
        ? (cuda.MemorySize - cuda.GetFreeMemory()) / 1048576.0
        : File.Exists("/proc/self/status")
            ? long.Parse(File.ReadLines("/proc/self/status").Single(l => l.StartsWith("VmHWM:"))[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0
            : Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;

    /// <summary>Writing 5 to /proc/self/clear_refs resets VmHWM to the current resident set (Linux), so each case has its own peak.</summary>
    static void ResetPeakRss()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>
    /// Runs the PyTorch twin with the first Python that has torch (and CUDA, for cuda): $CONVKIT_PYTHON, python3 on the
    /// PATH, then /usr/bin/python3 (Debian's torch). Returns its "key seconds" lines and a line saying what ran, or why not.
    /// </summary>
    static (Dictionary<string, double> Values, string Note) RunPeer(string device, Sizes sizes, int threads)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "peers", "gpu_torch.py");
        var reasons = new List<string>();
        string?[] candidates = [Environment.GetEnvironmentVariable("CONVKIT_PYTHON"), "python3", "/usr/bin/python3"];
        foreach (string python in candidates.OfType<string>().Where(p => p.Length > 0).Distinct())
        {
            Console.Error.WriteLine($"PyTorch: trying {python}");
            var start = new ProcessStartInfo(python, $"\"{script}\" {device} {threads} {sizes.PeerArguments}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            string output, error;
            int exitCode;
            try
            {
                using var process = Process.Start(start)!;
                var stderr = process.StandardError.ReadToEndAsync();
                output = process.StandardOutput.ReadToEnd();
                error = stderr.Result;
                process.WaitForExit();
                exitCode = process.ExitCode;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                reasons.Add($"{python}: {e.Message}");
                continue;
            }
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            string? unavailable = lines.FirstOrDefault(l => l.StartsWith("unavailable "));
            if (unavailable is not null) { reasons.Add($"{python}: {unavailable["unavailable ".Length..]}"); continue; }
            if (exitCode != 0)
            {
                reasons.Add($"{python}: exit {exitCode}: {error.Trim().Split('\n').LastOrDefault()}");
                continue;
            }
            var values = new Dictionary<string, double>();
            string about = "";
            foreach (var parts in lines.Select(l => l.Split(' ', 2)))
                if (parts[0] == "torch") about = parts[1];
                else if (parts.Length == 2 && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double v)) values[parts[0]] = v;
            return (values, $"PyTorch: {about} ({python})");
        }
        return ([], $"PyTorch: not available ({string.Join("; ", reasons)})");
    }

}
