using System.Runtime.InteropServices;
using ConvKit.Backends;
using ConvKit.Backends.Cpu;

namespace ConvKit.Bench;

/// <summary>
/// Depthwise convolution, one layer at a time, on mobilenet_v3_small's, MnasNet's and convnext_tiny's geometries
/// (batch 1, padding k/2): the direct kernel's earlier paths (<c>baseline</c>: scalar loops at stride 2, one vector at a
/// time on narrow planes) against today's, and the gradients' im2col/GEMM paths against the direct ones,
/// alternated in the same process over many rounds. Each is timed by the
/// CPU time of its one thread, which leaves out the time a busy machine keeps it waiting (though not the caches
/// and hyper-threads it shares).
/// </summary>
static class DepthwiseBench
{
    const int Rounds = 21;

    public static void Run()
    {
        (int Channels, int Size, int Kernel, int Stride)[] layers =
        [
            (16, 112, 3, 2), (72, 56, 3, 2), (96, 28, 5, 2), (288, 14, 5, 2),
            (88, 28, 3, 1), (240, 14, 5, 1), (576, 7, 5, 1), (768, 7, 7, 1), (96, 56, 7, 1),
        ];
        int threads = Threading.NumThreads;
        Threading.NumThreads = 1;
        string loadBefore = Machine.LoadAverage();
        var rows = new List<string>();
        var gradientRows = new List<string>();
        var dataRows = new List<string>();
        foreach (var (c, size, k, s) in layers)
        {
            int outSize = (size + 2 * (k / 2) - k) / s + 1;
            var g = new ConvGeometry(1, c, size, size, c, outSize, outSize, k, k, s, s, k / 2, k / 2, 1, 1, c);
            var random = new Random(1);
            float[] Values(int n) => Enumerable.Range(0, n).Select(_ => random.NextSingle() * 2 - 1).ToArray();
            float[] x = Values(c * size * size), w = Values(c * k * k), b = Values(c);
            float[] before = new float[c * outSize * outSize], after = new float[before.Length];
            double flops = 2.0 * g.MultiplyAdds;
            int repeats = Math.Max(1, (int)(2e7 / flops));
            float[] dy = Values(before.Length), gradientBefore = new float[w.Length], gradientAfter = new float[w.Length];
            double Seconds(bool baseline, float[] y)
            {
                double start = ThreadCpuSeconds();
                for (int r = 0; r < repeats; r++) DepthwiseConv.Forward(x, w, b, y, g, baseline);
                return (ThreadCpuSeconds() - start) / repeats;
            }
            double GradientSeconds(bool baseline, float[] dw)
            {
                double start = ThreadCpuSeconds();
                for (int r = 0; r < repeats; r++)
                    if (baseline) CpuBackend.ConvBackwardWeightGemm(x, dy, dw, g);
                    else DepthwiseConv.BackwardWeight(x, dy, dw, g);
                return (ThreadCpuSeconds() - start) / repeats;
            }
            float[] dataBefore = new float[x.Length], dataAfter = new float[x.Length];
            double DataSeconds(bool baseline, float[] dx)
            {
                double start = ThreadCpuSeconds();
                for (int r = 0; r < repeats; r++)
                    if (baseline) CpuBackend.ConvBackwardDataGemm(dy, w, null, dx, g);
                    else DepthwiseConv.BackwardData(dy, w, null, dx, g);
                return (ThreadCpuSeconds() - start) / repeats;
            }
            rows.Add(Compare(g, flops, before, after, Seconds));
            dataRows.Add(Compare(g, flops, dataBefore, dataAfter, DataSeconds));
            gradientRows.Add(Compare(g, flops, gradientBefore, gradientAfter, GradientSeconds));
        }
        Threading.NumThreads = threads;
        Console.WriteLine();
        Console.WriteLine("## Depthwise convolution, one layer at a time (batch 1, padding k/2, one thread)");
        Console.WriteLine($"GFLOP/s = 2·MACs / CPU time of the thread; 10th–90th percentile (median) over {Rounds} alternating rounds;"
            + $" speed-up: median of the rounds' ratios. Load average before/after: {loadBefore} / {Machine.LoadAverage()}.");
        Console.WriteLine();
        Console.WriteLine("| layer (channels, input, kernel, stride) | baseline GFLOP/s | today GFLOP/s | speed-up | max |Δ| |");
        Console.WriteLine("|---|---|---|---|---|");
        rows.ForEach(Console.WriteLine);
        Console.WriteLine();
        Console.WriteLine("Weight gradient (same layers, one upstream gradient): im2col + GEMM against the direct loops.");
        Console.WriteLine();
        Console.WriteLine("| layer (channels, input, kernel, stride) | im2col + GEMM GFLOP/s | direct GFLOP/s | speed-up | max |Δ| |");
        Console.WriteLine("|---|---|---|---|---|");
        gradientRows.ForEach(Console.WriteLine);
        Console.WriteLine();
        Console.WriteLine("Data gradient (same layers, one upstream gradient): im2col + GEMM (and col2im) against the direct loops.");
        Console.WriteLine();
        Console.WriteLine("| layer (channels, input, kernel, stride) | im2col + GEMM GFLOP/s | direct GFLOP/s | speed-up | max |Δ| |");
        Console.WriteLine("|---|---|---|---|---|");
        dataRows.ForEach(Console.WriteLine);
    }

    /// <summary>One table row: <paramref name="seconds"/>(baseline, result) timed over alternating rounds, baseline first.</summary>
    static string Compare(ConvGeometry g, double flops, float[] before, float[] after, Func<bool, float[], double> seconds)
    {
        seconds(true, before);
        seconds(false, after);
        double difference = before.Zip(after, (p, q) => Math.Abs(p - q)).Max();
        var old = new double[Rounds];
        var ours = new double[Rounds];
        for (int round = 0; round < Rounds; round++)
        {
            old[round] = flops / seconds(true, before) / 1e9;
            ours[round] = flops / seconds(false, after) / 1e9;
        }
        double ratio = Median(Enumerable.Range(0, Rounds).Select(r => ours[r] / old[r]));
        string Range(double[] rates) => $"{Percentile(rates, 0.1):F1}–{Percentile(rates, 0.9):F1} ({Median(rates):F1})";
        return $"| {g.InChannels}, {g.InHeight}×{g.InWidth}, {g.KernelHeight}×{g.KernelWidth}, {g.StrideHeight} | {Range(old)} | {Range(ours)} | {ratio:F2}× | {difference:G2} |";
    }

    static double Median(IEnumerable<double> values) => Percentile(values.ToArray(), 0.5);

    static double Percentile(double[] values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Round(p * (sorted.Length - 1))];
    }

    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec { public long Seconds, Nanoseconds; }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGetTime(int clock, out TimeSpec time);

    /// <summary>CPU time of the calling thread (Linux's CLOCK_THREAD_CPUTIME_ID), in seconds.</summary>
    static double ThreadCpuSeconds()
    {
        const int ThreadCpuClock = 3;
        ClockGetTime(ThreadCpuClock, out var time);
        return time.Seconds + time.Nanoseconds * 1e-9;
    }
}
