using ConvKit.Backends.Cpu;
using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Bench;

/// <summary>
/// Memory-bound layer ops on a ResNet-sized activation (32, 64, 56, 56): max pooling 2×2, batch norm in
/// training mode and ReLU, forward alone and forward + backward, against PyTorch in the same run.
/// </summary>
static class PoolBench
{
    const int TorchThreads = 2;
    static readonly int[] Shape = [32, 64, 56, 56];

    public static void Run()
    {
        var x = Tensor.Randn(Shape, seed: 1).RequireGrad();
        var pooledGrad = Tensor.Randn([32, 64, 28, 28], seed: 2);
        var fullGrad = Tensor.Randn(Shape, seed: 3);
        var bn = new BatchNorm2d(64);

        var cases = new (string Name, Action Run)[]
        {
            ("MaxPool2d 2×2 forward", () => { using (Tensor.NoGrad()) F.MaxPool2d(x, 2); }),
            ("MaxPool2d 2×2 forward+backward", () => { x.ZeroGrad(); F.MaxPool2d(x, 2).Backward(pooledGrad); }),
            ("BatchNorm2d train forward", () => { using (Tensor.NoGrad()) bn.Forward(x); }),
            ("BatchNorm2d train forward+backward", () => { x.ZeroGrad(); bn.ZeroGrad(); bn.Forward(x).Backward(fullGrad); }),
            ("ReLU forward+backward", () => { x.ZeroGrad(); F.Relu(x).Backward(fullGrad); }),
        };
        var ours = cases.Select(c => Machine.MedianSeconds(c.Run, warmup: 3, repeats: 15)).ToArray();
        var torch = Machine.RunPython("pool_torch.py", $"{TorchThreads}")
            .Select(line => double.Parse(line, System.Globalization.CultureInfo.InvariantCulture)).ToArray();

        Console.WriteLine();
        Console.WriteLine($"## Pooling and normalisation on ({string.Join(", ", Shape)}) float32");
        Console.WriteLine($"ConvKit threads: {Threading.NumThreads}; PyTorch threads: torch.set_num_threads({TorchThreads})");
        Console.WriteLine();
        Console.WriteLine("| op | ConvKit ms | PyTorch 1.13 ms | ratio (PyTorch / ConvKit) |");
        Console.WriteLine("|---|---|---|---|");
        for (int i = 0; i < cases.Length; i++)
            Console.WriteLine($"| {cases[i].Name} | {ours[i] * 1e3:F2} | {torch[i] * 1e3:F2} | {torch[i] / ours[i]:F2}× |");
    }
}
