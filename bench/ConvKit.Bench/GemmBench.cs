using System.Globalization;
using ConvKit.Backends.Cpu;

namespace ConvKit.Bench;

/// <summary>
/// Single-precision GEMM throughput: square products and the products a 3×3 convolution with 64 channels on
/// 56×56 maps runs (im2col forward, input and weight gradients), ConvKit on all its threads against numpy's
/// OpenBLAS on the same number of threads, measured in the same run with the same warm-up and repeat counts.
/// </summary>
static class GemmBench
{
    record Case(string Name, int M, int N, int K, bool TransA, bool TransB)
    {
        public double Flops => 2.0 * M * N * K;
        // About half a second per engine at 200 GFLOP/s; medians of at least 7 runs.
        public int Repeats => (int)Math.Clamp(1e11 / Flops, 7, 301);
        public int Warmup => Math.Max(2, Repeats / 10);
    }

    static readonly Case[] Square = [.. new[] { 256, 512, 1024, 2048 }.Select(s => new Case($"{s}", s, s, s, false, false))];

    static readonly Case[] Conv =
    [
        new("forward W·cols: 64×3136×576", 64, 3136, 576, false, false),
        new("forward, pixels as rows: 3136×64×576", 3136, 64, 576, false, false),
        new("input gradient Wᵀ·dY: 576×3136×64 (Aᵀ)", 576, 3136, 64, true, false),
        new("weight gradient dY·colsᵀ: 64×576×3136 (Bᵀ)", 64, 576, 3136, false, true),
        new("pixels as rows, Bᵀ: 3136×64×576 (Bᵀ)", 3136, 64, 576, false, true),
        new("weight gradient, pixels as rows: 576×64×3136 (Aᵀ)", 576, 64, 3136, true, false),
    ];

    public static void Run()
    {
        Case[] cases = [.. Square, .. Conv];
        int threads = Threading.NumThreads;
        var ours = cases.Select(Measure).ToArray();
        var peer = Machine.RunPython("gemm_numpy.py",
            string.Join(' ', cases.Select(c => $"{c.M},{c.N},{c.K},{(c.TransA ? 1 : 0)},{(c.TransB ? 1 : 0)},{c.Warmup},{c.Repeats}")),
            new Dictionary<string, string> { ["OPENBLAS_NUM_THREADS"] = $"{threads}" });
        var theirs = peer.Skip(1).Select(line => double.Parse(line, CultureInfo.InvariantCulture)).ToArray();

        var kernel = GemmKernels.For(Gemm.BestIsa);
        Console.WriteLine();
        Console.WriteLine("## GEMM: single-precision C = op(A)·op(B), row-major");
        Console.WriteLine($"ConvKit: {Gemm.BestIsa} micro-kernel {kernel.MR}×{kernel.NR}, {threads} threads");
        Console.WriteLine($"Peer: {peer[0]}, OPENBLAS_NUM_THREADS={threads}");
        Console.WriteLine();
        Console.WriteLine("| size | ConvKit GFLOP/s | OpenBLAS GFLOP/s | ratio |");
        Console.WriteLine("|---|---|---|---|");
        for (int i = 0; i < Square.Length; i++) Row(cases[i].Name, ours[i], theirs[i]);
        Console.WriteLine();
        Console.WriteLine("| convolution-shaped product (m×n×k) | ConvKit GFLOP/s | OpenBLAS GFLOP/s | ratio |");
        Console.WriteLine("|---|---|---|---|");
        for (int i = Square.Length; i < cases.Length; i++) Row(cases[i].Name, ours[i], theirs[i]);
    }

    static void Row(string name, double ours, double theirs) =>
        Console.WriteLine($"| {name} | {ours:F1} | {theirs:F1} | {ours / theirs:F2}× |");

    /// <summary>ConvKit's median GFLOP/s on one case, with operands stored as the case's transposes say.</summary>
    static double Measure(Case c)
    {
        var random = new Random(1);
        float[] a = new float[c.M * c.K], b = new float[c.K * c.N], result = new float[c.M * c.N];
        for (int i = 0; i < a.Length; i++) a[i] = random.NextSingle();
        for (int i = 0; i < b.Length; i++) b[i] = random.NextSingle();
        int lda = c.TransA ? c.M : c.K, ldb = c.TransB ? c.K : c.N;
        double seconds = Machine.MedianSeconds(
            () => Gemm.Sgemm(c.TransA, c.TransB, c.M, c.N, c.K, 1, a, lda, b, ldb, 0, result, c.N), c.Warmup, c.Repeats);
        return c.Flops / seconds / 1e9;
    }
}
