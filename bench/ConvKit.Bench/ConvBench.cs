using System.Globalization;
using ConvKit.Ops;

namespace ConvKit.Bench;

/// <summary>
/// Convolution speed against PyTorch (oneDNN) in the same run: a ResNet-style 3×3 layer forward and
/// forward+backward, a 7×7 stride-2 stem, and a MobileNet-style depthwise 3×3. Also the achieved GFLOP/s and
/// the fraction of the CPU's FP32 peak.
/// </summary>
static class ConvBench
{
    const int TorchThreads = 2;
    // Zen 4: two 256-bit FMA pipes (a 512-bit FMA is double-pumped) = 2 × 8 lanes × 2 FLOP per cycle per core.
    const int FlopsPerCycle = 32;

    sealed record Case(string Key, string Title, long Flops, double Seconds);

    public static void Run()
    {
        var torch = Machine.RunPython("conv_torch.py", TorchThreads.ToString())
            .Select(line => line.Split(' '))
            .ToDictionary(parts => parts[0], parts => double.Parse(parts[1], CultureInfo.InvariantCulture));
        var cases = new List<Case>();

        var x = Tensor.Randn([32, 64, 56, 56], seed: 1);
        var w = Tensor.Randn([64, 64, 3, 3], seed: 2) * 0.05f;
        var b = Tensor.Randn([64], seed: 3);
        long flops3x3 = 2L * 32 * 64 * 56 * 56 * 64 * 9;
        cases.Add(new("conv3x3_forward", "Conv2d 3×3, 64→64, 56×56, batch 32, pad 1: forward", flops3x3,
            Forward(() => F.Conv2d(x, w, b, padding: 1), 3, 11)));

        var upstream = Tensor.Randn([32, 64, 56, 56], seed: 4);
        var (xg, wg, bg) = (x.Detach().RequireGrad(), w.Detach().RequireGrad(), b.Detach().RequireGrad());
        cases.Add(new("conv3x3_forward_backward", "Conv2d 3×3, 64→64, 56×56, batch 32, pad 1: forward + backward", 3 * flops3x3,
            Machine.MedianSeconds(() =>
            {
                xg.ZeroGrad(); wg.ZeroGrad(); bg.ZeroGrad();
                F.Conv2d(xg, wg, bg, padding: 1).Backward(upstream);
            }, 2, 7)));

        var image = Tensor.Randn([1, 3, 224, 224], seed: 5);
        var stem = Tensor.Randn([64, 3, 7, 7], seed: 6) * 0.1f;
        var stemBias = Tensor.Randn([64], seed: 7);
        cases.Add(new("conv7x7_stride2_forward", "Conv2d 7×7 stride 2 pad 3, 3→64, 224×224, batch 1: forward", 2L * 64 * 112 * 112 * 3 * 49,
            Forward(() => F.Conv2d(image, stem, stemBias, stride: 2, padding: 3), 20, 101)));

        var features = Tensor.Randn([8, 32, 112, 112], seed: 8);
        var depthwise = Tensor.Randn([32, 1, 3, 3], seed: 9);
        var depthwiseBias = Tensor.Randn([32], seed: 10);
        cases.Add(new("depthwise3x3_forward", "Depthwise 3×3 pad 1, 32 channels, 112×112, batch 8: forward", 2L * 8 * 32 * 112 * 112 * 9,
            Forward(() => F.Conv2d(features, depthwise, depthwiseBias, padding: 1, groups: 32), 20, 101)));

        double megahertz = ClockMegahertz();
        int cores = Environment.ProcessorCount;
        double peak = cores * FlopsPerCycle * megahertz * 1e6;
        Console.WriteLine();
        Console.WriteLine($"## Convolution: ConvKit vs PyTorch {TorchThreads} threads (torch.set_num_threads({TorchThreads}), oneDNN), median times");
        Console.WriteLine($"Peak FP32 = {cores} cores × {FlopsPerCycle} FLOP/cycle × {megahertz:F0} MHz (\"cpu MHz\" in /proc/cpuinfo) = {peak / 1e9:F1} GFLOP/s;"
            + " GFLOP/s = 2·MACs / time (forward + backward counts three convolutions' MACs).");
        Console.WriteLine();
        Console.WriteLine("| case | ConvKit ms | PyTorch ms | ConvKit / PyTorch | ConvKit GFLOP/s (% peak) | PyTorch GFLOP/s (% peak) |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var c in cases)
        {
            double theirs = torch[c.Key];
            string Rate(double seconds) => $"{c.Flops / seconds / 1e9:F1} ({100 * c.Flops / seconds / peak:F0}%)";
            Console.WriteLine($"| {c.Title} | {c.Seconds * 1e3:F2} | {theirs * 1e3:F2} | {c.Seconds / theirs:F2}× | {Rate(c.Seconds)} | {Rate(theirs)} |");
        }
    }

    static double Forward(Func<Tensor> conv, int warmup, int repeats)
    {
        using var _ = Tensor.NoGrad();
        return Machine.MedianSeconds(() => conv(), warmup, repeats);
    }

    static double ClockMegahertz() =>
        File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").Where(l => l.StartsWith("cpu MHz")).Select(l => double.Parse(l.Split(':')[1], CultureInfo.InvariantCulture)).DefaultIfEmpty(double.NaN).Max()
            : double.NaN;
}
