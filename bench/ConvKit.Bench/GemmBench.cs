using System.Globalization;
using ConvKit.Backends.Cpu;

namespace ConvKit.Bench;

/// <summary>Square SGEMM GFLOP/s, ConvKit on all cores against OpenBLAS (through NumPy, 2 threads) in the same run.</summary>
static class GemmBench
{
    static readonly int[] Sizes = [256, 512, 1024, 2048];

    public static void Run()
    {
        var ours = Sizes.Select(Measure).ToArray();
        var peer = Machine.RunPython("gemm_numpy.py", string.Join(' ', Sizes),
            new Dictionary<string, string> { ["OPENBLAS_NUM_THREADS"] = "2" });
        var theirs = peer.Where(l => !l.StartsWith('#')).Select(l => double.Parse(l.Split(' ')[1], CultureInfo.InvariantCulture)).ToArray();

        Console.WriteLine();
        Console.WriteLine($"## SGEMM, square float32, C = A·B ({Threading.NumThreads} threads, kernel: {GemmKernels.Isa} {GemmKernels.MR}×{GemmKernels.NR})");
        foreach (var line in peer.Where(l => l.StartsWith('#'))) Console.WriteLine(line.TrimStart('#', ' '));
        Console.WriteLine();
        Console.WriteLine("| size | ConvKit GFLOP/s | OpenBLAS GFLOP/s | ConvKit / OpenBLAS |");
        Console.WriteLine("|---|---|---|---|");
        for (int i = 0; i < Sizes.Length; i++)
            Console.WriteLine($"| {Sizes[i]} | {ours[i]:F1} | {theirs[i]:F1} | {ours[i] / theirs[i]:F2}× |");
    }

    static double Measure(int size)
    {
        var random = new Random(size);
        float[] a = Enumerable.Range(0, size * size).Select(_ => random.NextSingle()).ToArray();
        float[] b = Enumerable.Range(0, size * size).Select(_ => random.NextSingle()).ToArray();
        float[] c = new float[size * size];
        int repeats = size <= 512 ? 50 : size <= 1024 ? 15 : 5;
        double seconds = Machine.MedianSeconds(() => Gemm.Sgemm(false, false, size, size, size, 1f, a, size, b, size, 0f, c, size),
            warmup: 3, repeats);
        return 2.0 * size * size * size / seconds / 1e9;
    }
}
