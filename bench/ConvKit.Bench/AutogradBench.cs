namespace ConvKit.Bench;

/// <summary>
/// Autograd overhead: forward + backward of a chain of 1,000 tiny element-wise ops (16 elements), where
/// the time is all bookkeeping (allocation, graph recording, the backward walk), not arithmetic.
/// The same chain runs in PyTorch in the same run.
/// </summary>
static class AutogradBench
{
    const int Ops = 1000, Size = 16, TorchThreads = 2;

    public static void Run()
    {
        var x = Tensor.Rand([Size], seed: 1).RequireGrad();
        var c = Tensor.Rand([Size], seed: 2) * 0.01f + 1f;
        void Chain()
        {
            x.ZeroGrad();
            var y = x;
            for (int i = 0; i < Ops; i++)
                y = (i % 4) switch { 0 => y * c, 1 => y + c, 2 => y - c, _ => y / c };
            y.Sum().Backward();
        }
        double ours = Machine.MedianSeconds(Chain, warmup: 20, repeats: 51);
        double torch = double.Parse(Machine.RunPython("autograd_torch.py", $"{Ops} {Size} {TorchThreads}")[^1],
            System.Globalization.CultureInfo.InvariantCulture);

        Console.WriteLine();
        Console.WriteLine($"## Autograd overhead: forward+backward of a chain of {Ops} element-wise ops on {Size} floats");
        Console.WriteLine($"PyTorch threads: torch.set_num_threads({TorchThreads})");
        Console.WriteLine();
        Console.WriteLine("| engine | ms per chain | µs per op (fwd+bwd) |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine($"| ConvKit | {ours * 1e3:F2} | {ours * 1e6 / Ops:F2} |");
        Console.WriteLine($"| PyTorch 1.13 | {torch * 1e3:F2} | {torch * 1e6 / Ops:F2} |");
        Console.WriteLine($"| ratio (PyTorch / ConvKit) | {torch / ours:F2}× | |");
    }
}
