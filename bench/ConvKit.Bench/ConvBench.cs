using System.Globalization;
using ConvKit.Ops;

namespace ConvKit.Bench;

/// <summary>
/// Convolution speed against PyTorch (oneDNN) in the same run: a ResNet-style 3×3 layer forward and
/// forward+backward, a 7×7 stride-2 stem, and a MobileNet-style depthwise 3×3; with the achieved GFLOP/s and
/// the fraction of the CPU's FP32 peak. Peer and ConvKit alternate over a few rounds and each round's ratio
/// is taken from neighbouring measurements, so a machine whose load drifts skews the ratio less.
/// </summary>
static class ConvBench
{
    const int TorchThreads = 2, Rounds = 3;
    // Zen 4: two 256-bit FMA pipes (a 512-bit FMA is double-pumped) = 2 × 8 lanes × 2 FLOP per cycle per core.
    const int FlopsPerCycle = 32;

    sealed record Case(string Key, string Title, long Flops, Action Run, int Warmup, int Repeats);

    public static void Run()
    {
        var x = Tensor.Randn([32, 64, 56, 56], seed: 1);
        var w = Tensor.Randn([64, 64, 3, 3], seed: 2) * 0.05f;
        var b = Tensor.Randn([64], seed: 3);
        var upstream = Tensor.Randn([32, 64, 56, 56], seed: 4);
        var (xg, wg, bg) = (x.Detach().RequireGrad(), w.Detach().RequireGrad(), b.Detach().RequireGrad());
        var image = Tensor.Randn([1, 3, 224, 224], seed: 5);
        var stem = Tensor.Randn([64, 3, 7, 7], seed: 6) * 0.1f;
        var stemBias = Tensor.Randn([64], seed: 7);
        var features = Tensor.Randn([8, 32, 112, 112], seed: 8);
        var depthwise = Tensor.Randn([32, 1, 3, 3], seed: 9);
        var depthwiseBias = Tensor.Randn([32], seed: 10);
        long flops3x3 = 2L * 32 * 64 * 56 * 56 * 64 * 9;
        Case[] cases =
        [
            new("conv3x3_forward", "Conv2d 3×3, 64→64, 56×56, batch 32, pad 1: forward", flops3x3,
                Inference(() => F.Conv2d(x, w, b, padding: 1)), 3, 7),
            new("conv3x3_forward_backward", "Conv2d 3×3, 64→64, 56×56, batch 32, pad 1: forward + backward", 3 * flops3x3, () =>
            {
                xg.ZeroGrad(); wg.ZeroGrad(); bg.ZeroGrad();
                F.Conv2d(xg, wg, bg, padding: 1).Backward(upstream);
            }, 1, 5),
            new("conv7x7_stride2_forward", "Conv2d 7×7 stride 2 pad 3, 3→64, 224×224, batch 1: forward", 2L * 64 * 112 * 112 * 3 * 49,
                Inference(() => F.Conv2d(image, stem, stemBias, stride: 2, padding: 3)), 20, 51),
            new("depthwise3x3_forward", "Depthwise 3×3 pad 1, 32 channels, 112×112, batch 8: forward", 2L * 8 * 32 * 112 * 112 * 9,
                Inference(() => F.Conv2d(features, depthwise, depthwiseBias, padding: 1, groups: 32)), 20, 51),
        ];

        string loadBefore = LoadAverage();
        var ours = new double[cases.Length, Rounds];
        var theirs = new double[cases.Length, Rounds];
        for (int round = 0; round < Rounds; round++)
        {
            var torch = Machine.RunPython("conv_torch.py", TorchThreads.ToString())
                .Select(line => line.Split(' '))
                .ToDictionary(parts => parts[0], parts => double.Parse(parts[1], CultureInfo.InvariantCulture));
            for (int i = 0; i < cases.Length; i++)
            {
                theirs[i, round] = torch[cases[i].Key];
                ours[i, round] = Machine.MedianSeconds(cases[i].Run, cases[i].Warmup, cases[i].Repeats);
            }
        }

        double megahertz = ClockMegahertz();
        int cores = Environment.ProcessorCount;
        double peak = cores * FlopsPerCycle * megahertz * 1e6;
        Console.WriteLine();
        Console.WriteLine($"## Convolution: ConvKit vs PyTorch (torch.set_num_threads({TorchThreads}), oneDNN)");
        Console.WriteLine($"Times: median over {Rounds} rounds of each round's median; ratio: median of the rounds' ratios. Load average before/after: {loadBefore} / {LoadAverage()}.");
        Console.WriteLine($"Peak FP32 = {cores} cores × {FlopsPerCycle} FLOP/cycle × {megahertz:F0} MHz (\"cpu MHz\" in /proc/cpuinfo) = {peak / 1e9:F1} GFLOP/s;"
            + " GFLOP/s = 2·MACs / time (forward + backward counts three convolutions' MACs).");
        Console.WriteLine();
        Console.WriteLine("| case | ConvKit ms | PyTorch ms | ConvKit / PyTorch | ConvKit GFLOP/s (% peak) | PyTorch GFLOP/s (% peak) |");
        Console.WriteLine("|---|---|---|---|---|---|");
        for (int i = 0; i < cases.Length; i++)
        {
            var c = cases[i];
            double mine = Median(Enumerable.Range(0, Rounds).Select(r => ours[i, r]));
            double torch = Median(Enumerable.Range(0, Rounds).Select(r => theirs[i, r]));
            double ratio = Median(Enumerable.Range(0, Rounds).Select(r => ours[i, r] / theirs[i, r]));
            string Rate(double seconds) => $"{c.Flops / seconds / 1e9:F1} ({100 * c.Flops / seconds / peak:F0}%)";
            Console.WriteLine($"| {c.Title} | {mine * 1e3:F2} | {torch * 1e3:F2} | {ratio:F2}× | {Rate(mine)} | {Rate(torch)} |");
        }
    }

    static Action Inference(Func<Tensor> conv) => () =>
    {
        using var _ = Tensor.NoGrad();
        conv();
    };

    static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

    static double ClockMegahertz() =>
        File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").Where(l => l.StartsWith("cpu MHz")).Select(l => double.Parse(l.Split(':')[1], CultureInfo.InvariantCulture)).DefaultIfEmpty(double.NaN).Max()
            : double.NaN;
}
