using System.Diagnostics;
using System.Globalization;
using ConvKit.Backends.Cpu;
using ConvKit.Onnx;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Style;

namespace ConvKit.Bench;

/// <summary>
/// Neural style transfer as <c>convkit style</c> runs it by default: scikit-image's chelsea.png (the content, resized
/// to 256×160) in the style of its ihc.png, the packaged ResNet-18 (batch norm folded, any picture size), L-BFGS with
/// the strong Wolfe line search for 300 evaluations, α = 1, β = 100, γ = 10, content layer3, style relu, layer1,
/// layer2, layer3 at 1/4 each. The peer (peers/style_torch.py) runs the same ONNX graph with the same weights in
/// PyTorch 1.13 with torch.optim.LBFGS, the same costs and the same loop. Each run is its own process, so its peak
/// resident memory (VmHWM / ru_maxrss) is its own. Time is from the style picture's fitting to the last evaluation,
/// as the command's clock; loading the network is not timed.
/// </summary>
static class StyleBench
{
    const string Pictures = "/usr/lib/python3/dist-packages/skimage/data";
    static string ContentPath => Path.Combine(Pictures, "chelsea.png");
    static string StylePath => Path.Combine(Pictures, "ihc.png");
    static string NetworkPath => Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    record Result(int Evaluations, double Seconds, double MsPerEvaluation, double[] First, double[] Last, double PeakMb);

    public static void Run()
    {
        if (!File.Exists(ContentPath) || !File.Exists(StylePath))
        {
            Console.WriteLine($"\n## Style transfer: skipped, {ContentPath} and {StylePath} are missing (apt-get install python3-skimage)");
            return;
        }
        // ConvKit at its default (all cores) against PyTorch at 2 threads, then both at 1 thread, as TrainBench does.
        var rows = new List<(string Engine, int Threads, Result Result)>();
        var ours = RunWorker(null, out var size);
        rows.Add(("ConvKit", Threading.NumThreads, ours));
        string torchArguments(int threads) => $"{threads} \"{NetworkPath}\" \"{ContentPath}\" \"{StylePath}\" {size.Height} {size.Width}";
        rows.Add(("PyTorch 1.13", 2, Parse(Machine.RunPython("style_torch.py", torchArguments(2)))));
        rows.Add(("ConvKit", 1, RunWorker(1, out _)));
        rows.Add(("PyTorch 1.13", 1, Parse(Machine.RunPython("style_torch.py", torchArguments(1)))));

        Console.WriteLine();
        Console.WriteLine($"## Style transfer: ResNet-18 (packaged ONNX), {size.Width}×{size.Height}, L-BFGS strong Wolfe, 300 evaluations");
        Console.WriteLine($"ConvKit threads: default ({Threading.NumThreads}) and 1; PyTorch: torch.set_num_threads(N) as in the threads column");
        Console.WriteLine();
        Console.WriteLine("| engine | threads | evaluations | ms per evaluation | total s | style cost first → last (× lower) | content cost last | TV last | peak RSS (MB) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var (engine, threads, r) in rows)
            Console.WriteLine($"| {engine} | {threads} | {r.Evaluations} | {r.MsPerEvaluation:F0} | {r.Seconds:F1} | " +
                $"{r.First[1]:G4} → {r.Last[1]:G3} ({r.First[1] / Math.Max(r.Last[1], 1e-30):F1}×) | {r.Last[0]:G3} | {r.Last[2]:G3} | {r.PeakMb:F0} |");
        foreach (int threads in rows.Select(r => r.Threads).Distinct())
        {
            var pair = rows.Where(r => r.Threads == threads).ToList();
            if (pair.Count != 2) continue;
            Console.WriteLine($"| ratio (PyTorch / ConvKit, ms per evaluation) | {threads} | | {pair[1].Result.MsPerEvaluation / pair[0].Result.MsPerEvaluation:F2}× | " +
                $"{pair[1].Result.Seconds / pair[0].Result.Seconds:F2}× | first style cost {pair[1].Result.First[1] / pair[0].Result.First[1]:F3}× | | | |");
        }
        Console.WriteLine();
        Console.WriteLine("First evaluation (the content picture itself): content, style, TV costs — ConvKit " +
            string.Join(", ", ours.First.Take(3).Select(v => v.ToString("G5", CultureInfo.InvariantCulture))) + "; PyTorch " +
            string.Join(", ", rows[1].Result.First.Take(3).Select(v => v.ToString("G5", CultureInfo.InvariantCulture))));
    }

    /// <summary>Reads the "key: value" lines the worker and the peer print.</summary>
    static Result Parse(string[] lines)
    {
        string Value(string key) => lines.Single(l => l.StartsWith(key + ":"))[(key.Length + 1)..].Trim();
        double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);
        double[] Numbers(string key) => [.. Value(key).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Number)];
        return new Result(int.Parse(Value("evaluations"), CultureInfo.InvariantCulture), Number(Value("seconds")), Number(Value("ms_per_evaluation")),
            Numbers("first"), Numbers("last"), Number(Value("peak_rss_mb")));
    }

    /// <summary>Runs this benchmark program again as "style-worker [THREADS]", so the transfer has a process of its own.</summary>
    static Result RunWorker(int? threads, out Size2 size)
    {
        string self = Environment.ProcessPath!;
        string dll = Path.Combine(AppContext.BaseDirectory, "ConvKit.Bench.dll");
        bool host = Path.GetFileNameWithoutExtension(self) == "dotnet";
        var start = new ProcessStartInfo(self, (host ? $"\"{dll}\" " : "") + $"style-worker {threads}".TrimEnd()) { RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"style-worker failed ({process.ExitCode}): {output}");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var picture = lines.Single(l => l.StartsWith("picture:"))["picture:".Length..].Trim().Split('x');
        size = new Size2(int.Parse(picture[1], CultureInfo.InvariantCulture), int.Parse(picture[0], CultureInfo.InvariantCulture));
        return Parse(lines);
    }

    /// <summary>The measured side: what <c>convkit style chelsea.png ihc.png</c> does, printing the costs, time and peak RSS.</summary>
    public static void Worker(int? threads)
    {
        if (threads is { } n) Threading.NumThreads = n;
        var network = StyleNetwork.ResNet18(OnnxModel.Load(NetworkPath, new OnnxImportOptions { FoldBatchNorm = true, AnyPictureSize = true }));
        var transfer = new StyleTransfer(network, new StyleTransferOptions());
        var (height, width) = PictureSize(ContentPath);
        var content = ImageFiles.Load(ContentPath, 3, transfer.SizeFor(height, width, 256));
        var style = ImageFiles.Load(StylePath, 3);
        var history = new List<StyleStep>();
        var clock = Stopwatch.StartNew();
        transfer.Run(content, style, history.Add);
        double seconds = clock.Elapsed.TotalSeconds;
        var (first, last) = (history[0], history[^1]);
        string Costs(StyleStep s) => string.Join(' ', new[] { s.Content, s.Style, s.TotalVariation, s.Total }.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
        Console.WriteLine($"picture: {content.Shape[2]}x{content.Shape[1]}");
        Console.WriteLine($"evaluations: {history.Count}");
        Console.WriteLine("seconds: " + seconds.ToString("R", CultureInfo.InvariantCulture));
        Console.WriteLine("ms_per_evaluation: " + (1000 * seconds / history.Count).ToString("R", CultureInfo.InvariantCulture));
        Console.WriteLine("first: " + Costs(first));
        Console.WriteLine("last: " + Costs(last));
        Console.WriteLine("peak_rss_mb: " + (PeakRssKb() / 1024.0).ToString("R", CultureInfo.InvariantCulture));
    }

    /// <summary>The picture's height and width, read from its header (as the command does).</summary>
    static (int Height, int Width) PictureSize(string path)
    {
        using var codec = SkiaSharp.SKCodec.Create(path) ?? throw new InvalidDataException($"'{path}' is not a picture SkiaSharp can decode.");
        return (codec.Info.Height, codec.Info.Width);
    }

    /// <summary>VmHWM from /proc/self/status: the peak resident set, as Python's ru_maxrss reports it.</summary>
    static long PeakRssKb() =>
        long.Parse(File.ReadLines("/proc/self/status").Single(l => l.StartsWith("VmHWM:"))["VmHWM:".Length..].Trim().Split(' ')[0],
            CultureInfo.InvariantCulture);
}
